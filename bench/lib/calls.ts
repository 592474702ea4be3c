// Section 6: what one request asks of the platform — D1 round trips and statements, KV reads
// and writes, Queue sends — counted on a separate instrumented copy of the Worker
// (bench/count-entry.js), with sequential requests so nothing overlaps.
import type { BenchContext } from './context.ts';
import { CLICK_HEADERS, clickPath, postbackPath } from './fixtures.ts';
import { mintClickIds, postbackAvailable } from './postback.ts';
import { sleep } from './stats.ts';

const N = 20;

/** Counters of bench/count-entry.js. */
export interface CallCounts {
  d1Calls: number;
  d1Statements: number;
  /** D1's meta.rows_read / rows_written summed over the answers. */
  d1RowsRead: number;
  d1RowsWritten: number;
  kvReads: number;
  kvWrites: number;
  queueSends: number;
  queueMessages: number;
}

export type CallsRow = CallCounts & { n: number; statuses: number[] };
export type CallsResult = Partial<Record<'click' | 'unknownPair' | 'postbackAccepted' | 'postbackReplay', CallsRow>>;

export async function callsSection(ctx: BenchContext): Promise<CallsResult> {
  const { rt, fx } = ctx;
  const origin = rt.urls['clickhop-counted'] as string;
  const read = async () => (await (await fetch(`${origin}/__bench/counts`)).json()) as CallCounts;
  const measure = async (paths: string[], settleMs = 600): Promise<CallsRow> => {
    await read();
    const statuses = new Set<number>();
    for (const path of paths) {
      const response = await fetch(origin + path, { redirect: 'manual', headers: CLICK_HEADERS });
      await response.arrayBuffer();
      statuses.add(response.status);
    }
    // Let waitUntil work (the 25 ms click batch, KV writes, deliveries enqueued) finish.
    await sleep(settleMs);
    const counts = await read();
    const perRequest = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / paths.length]));
    return { ...(perRequest as unknown as CallCounts), n: paths.length, statuses: [...statuses] };
  };
  const rows: CallsResult = {};
  // Warm the counted copy's isolate cache for the fixture first.
  await measure([clickPath(fx)]);
  rows.click = await measure(Array.from({ length: N }, () => clickPath(fx)));
  rows.unknownPair = await measure(Array.from({ length: N }, (_, i) => `/c/${5_000_000 + i}/${6_000_000 + i}`));
  if ((await postbackAvailable(origin)).ok) {
    const ids = await mintClickIds(ctx, N);
    rows.postbackAccepted = await measure(ids.map((id, i) => postbackPath(fx, id, `bench-calls-${i}`)));
    rows.postbackReplay = await measure(
      Array.from({ length: N }, () => postbackPath(fx, ids[0] ?? '', 'bench-calls-0')),
    );
  }
  return rows;
}
