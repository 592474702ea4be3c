// Writes clicks to their partitions and the rollups to D1. Each group of clicks carries a batch
// key (the Queue message id, or a random one for the redirect's direct fallback): partitions
// tag what they store with it, and D1 adds the group's rollup deltas once per key. Clicks with
// v1 IDs (queued before partitions were switched on) still go to the D1 clicks table.
import { clickIdPlacement } from '../click/click-id';
import type { Demotion, PartitionClick, StoredFlags, VisitorClick } from '../db/click-partition';
import { visitorKey } from '../db/click-partition';
import { type RollupDelta, registerPartitionsStatement, rollupOnceStatements } from '../db/click-partition-ledger';
import type { ClickRecord } from '../db/clicks';
import { quarterOf } from '../db/quarter-stats';
import { chunkByBudget } from '../lib/chunks';
import type { IngestResult } from './partition';
import { DAY_MS, type PartitionKey, partitionName, periodOf, periodStart } from './partition-key';

/** Rows written by storing a batch, as the runtime reports them (both are billed per row). */
export interface RowsWritten {
  partition: number;
  d1: number;
}

export interface ClickGroup {
  batchKey: string;
  clicks: ClickRecord[];
}

// Clocks of the Workers that minted IDs may run a little ahead of the consumer's.
const CLOCK_SKEW_MS = 5 * 60_000;

/** A 53-bit number for a batch key, stored with each click (a few bytes instead of the key). */
export function batchNumber(batchKey: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < batchKey.length; i++) {
    const ch = batchKey.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export const partitionStub = (env: Env, key: PartitionKey) => env.CLICK_PARTITIONS.getByName(partitionName(key));

/** Splits groups into clicks for partitions and v1 clicks that stay in D1. */
export function splitByStore(groups: ClickGroup[]): { partitioned: ClickGroup[]; legacy: ClickRecord[] } {
  const partitioned: ClickGroup[] = [];
  const legacy: ClickRecord[] = [];
  for (const group of groups) {
    const mine = group.clicks.filter((click) => clickIdPlacement(click.click_id) !== null);
    for (const click of group.clicks) if (clickIdPlacement(click.click_id) === null) legacy.push(click);
    if (mine.length > 0) partitioned.push({ batchKey: group.batchKey, clicks: mine });
  }
  return { partitioned, legacy };
}

/**
 * Stores v2 clicks in their partitions, then applies each group's rollup deltas to D1 once.
 * Throws when any partition or D1 refuses: the caller retries the whole group, which is safe.
 */
export async function storePartitionedClicks(env: Env, groups: ClickGroup[]): Promise<RowsWritten> {
  const byPartition = new Map<string, { key: PartitionKey; clicks: PartitionClick[] }>();
  const keyOf = new Map<number, string>();
  for (const group of groups) {
    const batch = batchNumber(group.batchKey);
    keyOf.set(batch, group.batchKey);
    for (const click of group.clicks) {
      const placement = clickIdPlacement(click.click_id);
      if (!placement) continue;
      const key = { period: periodOf(placement.clickedAt), shard: placement.shard };
      const name = partitionName(key);
      let entry = byPartition.get(name);
      if (!entry) {
        entry = { key, clicks: [] };
        byPartition.set(name, entry);
      }
      entry.clicks.push({ ...click, batch });
    }
  }
  // Partitions in parallel; within one, its calls in time order, one after the other.
  const results = (
    await Promise.all(
      [...byPartition.values()].map(async ({ key, clicks }) => {
        const calls: IngestResult[] = [];
        for (const group of partitionCalls(clicks)) calls.push(await writePartition(env, key, group));
        return calls;
      }),
    )
  ).flat();
  const stored = results.flatMap((r) => r.stored);
  const demoted = results.flatMap((r) => r.demoted);
  const statements = rollupOnceStatements(
    env.DB,
    [...keyOf].map(([batch, batchKey]) => ({ batchKey, deltas: rollupDeltas(stored, demoted, batch) })),
  );
  statements.push(
    registerPartitionsStatement(
      env.DB,
      [...byPartition.values()].map((p) => p.key),
    ),
  );
  const d1 = await env.DB.batch(statements);
  return {
    partition: results.reduce((n, r) => n + r.rowsWritten, 0),
    d1: d1.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0),
  };
}

/**
 * Most clicks one partition call carries: bounds the Durable Object's CPU time and memory per
 * request (30 s of CPU, 128 MB; Durable Objects and Workers limits pages). The bytes need no
 * budget of their own: a consumer batch is at most 100 messages of 128 KB, far under the 32 MiB
 * of one RPC call, and the partition splits its SQL under the 2 MB string limit itself.
 */
export const PARTITION_CALL_CLICKS = 1_000;

/** A partition's clicks, oldest first, in groups of at most PARTITION_CALL_CLICKS. */
function partitionCalls(clicks: PartitionClick[]): PartitionClick[][] {
  const sorted = [...clicks].sort((a, b) => (a.clicked_at < b.clicked_at ? -1 : a.clicked_at > b.clicked_at ? 1 : 0));
  return chunkByBudget(sorted, { maxCount: PARTITION_CALL_CLICKS, maxBytes: Number.POSITIVE_INFINITY }, () => 0);
}

/**
 * Writes clicks of one partition, consulting its neighbours for the 24-hour unique rule. Each
 * call is its own transaction: a batch cut short after some calls is completed by its
 * redelivery (the writes are idempotent and report flags of whichever call stored a click).
 */
async function writePartition(env: Env, key: PartitionKey, clicks: PartitionClick[]): Promise<IngestResult> {
  const start = periodStart(key.period);
  const end = periodStart(key.period + 1);
  const humans = clicks.filter((c) => c.is_bot === 0);
  // Clicks in the first 24 h of the week may repeat a click stored in the previous week.
  const early = humans.filter((c) => Date.parse(c.clicked_at) < start + DAY_MS);
  let prior: Record<string, number> = {};
  if (early.length > 0) {
    prior = await partitionStub(env, { period: key.period - 1, shard: key.shard }).latestVisits(
      uniqueKeys(early),
      start - DAY_MS,
    );
  }
  const result = await partitionStub(env, key).ingest(clicks, prior);
  // Clicks in the last 24 h may precede (arriving late) clicks already stored in the next week;
  // repeated on every delivery, since the call is idempotent and a reset may have cut it short.
  const late: VisitorClick[] = humans
    .map((c) => ({ ...c, at: Date.parse(c.clicked_at) }))
    .filter((c) => c.at > end - DAY_MS);
  if (late.length > 0 && Date.now() + CLOCK_SKEW_MS >= end) {
    const next = await partitionStub(env, { period: key.period + 1, shard: key.shard }).demote(
      late.map(({ offer_id, publisher_id, visitor_hash, at, batch }) => ({
        offer_id,
        publisher_id,
        visitor_hash,
        at,
        batch,
      })),
    );
    return { ...result, demoted: [...result.demoted, ...next.demoted] };
  }
  return result;
}

function uniqueKeys(clicks: PartitionClick[]) {
  const keys = new Map<string, { offer_id: number; publisher_id: number; visitor_hash: string }>();
  for (const { offer_id, publisher_id, visitor_hash } of clicks) {
    keys.set(visitorKey({ offer_id, publisher_id, visitor_hash }), { offer_id, publisher_id, visitor_hash });
  }
  return [...keys.values()];
}

/**
 * The rollup change one batch makes: its own stored clicks (as stored when first written) and
 * the clicks it demoted. A click stored by another batch (a duplicate) counts there, not here.
 */
export function rollupDeltas(stored: StoredFlags[], demoted: Demotion[], batch: number): RollupDelta[] {
  const deltas = new Map<string, RollupDelta>();
  const delta = (at: number, offer_id: number, publisher_id: number) => {
    const day = new Date(at).toISOString().slice(0, 10);
    const quarter = quarterOf(at);
    const key = `${quarter}/${offer_id}/${publisher_id}`;
    let d = deltas.get(key);
    if (!d) {
      d = { day, quarter, offer_id, publisher_id, clicks: 0, unique_clicks: 0, bot_clicks: 0 };
      deltas.set(key, d);
    }
    return d;
  };
  const seen = new Set<string>();
  for (const click of stored) {
    if (click.batch !== batch || seen.has(click.click_id)) continue;
    seen.add(click.click_id);
    const d = delta(click.clicked_at, click.offer_id, click.publisher_id);
    if (click.is_bot) d.bot_clicks += 1;
    else d.clicks += 1;
    d.unique_clicks += click.was_unique;
  }
  const demotedSeen = new Set<string>();
  for (const demotion of demoted) {
    // A partition may report a demotion both from its own ingest and from a neighbour's call.
    if (demotion.batch !== batch || demotedSeen.has(demotion.click_id)) continue;
    demotedSeen.add(demotion.click_id);
    delta(demotion.clicked_at, demotion.offer_id, demotion.publisher_id).unique_clicks -= 1;
  }
  return [...deltas.values()];
}
