// Section 6: what one request asks of the platform — D1 round trips and statements, KV reads
// and writes, Queue sends — counted on a separate instrumented copy of the Worker
// (bench/count-entry.js), with sequential requests so nothing overlaps.
import { CLICK_HEADERS } from './fixtures.mjs';
import { mintClickIds, postbackAvailable } from './postback.mjs';
import { sleep } from './stats.mjs';

const N = 20;

export async function callsSection(ctx) {
  const { rt, fx } = ctx;
  const origin = rt.urls['clickhop-counted'];
  const read = async () => (await fetch(`${origin}/__bench/counts`)).json();
  const measure = async (paths, settleMs = 600) => {
    await read();
    const statuses = new Set();
    for (const path of paths) {
      const response = await fetch(origin + path, { redirect: 'manual', headers: CLICK_HEADERS });
      await response.arrayBuffer();
      statuses.add(response.status);
    }
    // Let waitUntil work (the 25 ms click batch, KV writes, deliveries enqueued) finish.
    await sleep(settleMs);
    const counts = await read();
    return {
      n: paths.length,
      statuses: [...statuses],
      ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / paths.length])),
    };
  };
  const rows = {};
  // Warm the counted copy's isolate cache for the fixture first.
  await measure([`/c/${fx.offer.id}/${fx.publisher.id}`]);
  rows.click = await measure(Array.from({ length: N }, () => `/c/${fx.offer.id}/${fx.publisher.id}`));
  rows.unknownPair = await measure(Array.from({ length: N }, (_, i) => `/c/${5_000_000 + i}/${6_000_000 + i}`));
  if ((await postbackAvailable(origin)).ok) {
    const ids = await mintClickIds(ctx, N);
    const key = encodeURIComponent(fx.advertiser.postback_key);
    rows.postbackAccepted = await measure(
      ids.map((id, i) => `/postback?click_id=${id}&key=${key}&order_id=bench-calls-${i}`),
    );
    rows.postbackReplay = await measure(
      Array.from({ length: N }, () => `/postback?click_id=${ids[0]}&key=${key}&order_id=bench-calls-0`),
    );
  }
  return rows;
}
