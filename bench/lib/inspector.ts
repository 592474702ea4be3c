// A minimal Chrome DevTools Protocol client for one workerd isolate (Miniflare's inspectorPort):
// the isolate's own JS heap, and a sampling CPU profile summarised by function.
import type { Miniflare } from 'miniflare';

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Message {
  id?: number;
  result?: unknown;
  error?: { message: string; code: number };
}

export interface Inspector {
  send<T = unknown>(method: string, params?: object, timeoutMs?: number): Promise<T>;
  /**
   * The isolate's JS heap after a full GC, in bytes. workerd's inspector does not answer
   * HeapProfiler.collectGarbage, but a heap snapshot collects garbage first (its chunks,
   * sent as events, are ignored here).
   */
  heapAfterGc(): Promise<{ usedSize: number; totalSize: number }>;
  close(): void;
}

export async function connectInspector(
  mf: Miniflare,
  workerName: string,
  { target = `core:user:${workerName}` } = {},
): Promise<Inspector> {
  const base = await mf.getInspectorURL();
  const socket = new WebSocket(new URL(`/${target}`, base).href);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot open the inspector of ${workerName}`)), {
      once: true,
    });
  });
  let nextId = 0;
  const pending = new Map<number, Waiter>();
  socket.addEventListener('message', (event: MessageEvent) => {
    const data: unknown = event.data;
    const message = JSON.parse(
      typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer).toString(),
    ) as Message;
    const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
    if (!waiter || message.id === undefined) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${message.error.message} (${message.error.code})`));
    else waiter.resolve(message.result);
  });
  const send = <T = unknown>(method: string, params: object = {}, timeoutMs = 60_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`inspector ${method} timed out`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
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
    async heapAfterGc() {
      await send('HeapProfiler.enable');
      await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 120_000);
      return send<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
    },
    close: () => socket.close(),
  };
}
