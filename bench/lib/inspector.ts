// A minimal Chrome DevTools Protocol client for one workerd isolate (Miniflare's inspectorPort):
// the isolate's own JS heap, and a sampling CPU profile summarised by function.
export async function connectInspector(mf, workerName, { target = `core:user:${workerName}` } = {}) {
  const base = await mf.getInspectorURL();
  const socket = new WebSocket(new URL(`/${target}`, base).href);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot open the inspector of ${workerName}`)), {
      once: true,
    });
  });
  let nextId = 0;
  const pending = new Map();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(typeof event.data === 'string' ? event.data : Buffer.from(event.data).toString());
    const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${message.error.message} (${message.error.code})`));
    else waiter.resolve(message.result);
  });
  const send = (method, params = {}, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`inspector ${method} timed out`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    send,
    /**
     * The isolate's JS heap after a full GC, in bytes. workerd's inspector does not answer
     * HeapProfiler.collectGarbage, but a heap snapshot collects garbage first (its chunks,
     * sent as events, are ignored here).
     */
    async heapAfterGc() {
      await send('HeapProfiler.enable');
      await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 120_000);
      const { usedSize, totalSize } = await send('Runtime.getHeapUsage');
      return { usedSize, totalSize };
    },
    close: () => socket.close(),
  };
}
