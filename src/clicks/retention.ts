// Click retention for partitioned clicks: a week of clicks goes by dropping its partitions
// whole (one deleteAll each, no per-row deletes to pay for), once the week is older than both
// CLICK_RETENTION_DAYS and the longest attribution window of any offer. Clicks that led to a
// conversion are copied to the D1 clicks table first, so the dispute view keeps them as today's
// purge does. Safe to repeat: the copy ignores clicks already there, and a partition is
// forgotten only after it was dropped.
import { clickIdPlacement } from '../click/click-id';
import {
  claimLedgerJob,
  expiredPartitions,
  forgetPartitionStatement,
  purgeIngestMarkersStatement,
} from '../db/click-partition-ledger';
import { convertedClickIds, copyClicksStatements } from '../db/clicks';
import { maxAttributionWindowDays } from '../db/offers';
import { DAY_MS, iso } from '../lib/time';
import { type PartitionKey, periodOf, periodStart } from './partition-key';
import { partitionStub } from './store';

/**
 * Converted clicks copied per step: a week may hold many, and one step's rows (at most about
 * 25 KB each) must stay far under an RPC call's 32 MiB and the Worker's 128 MB of memory
 * (Workers RPC and Workers limits pages); the D1 copy splits them under its 2 MB string limit.
 */
const COPY_GROUP = 500;

/** No clicks message is redelivered this late (Queue retries end within hours). */
const INGEST_MARKER_DAYS = 7;

/**
 * The marker purge scans every marker (migration 0031 dropped their index), so it runs once an
 * hour, not on every 5-minute cron: 24 scans a day of a week of markers cost about $0.02 of rows
 * read per million clicks, where an index cost 2 rows written per marker ($0.20).
 */
const MARKER_PURGE_EVERY_MS = 3_600_000;

async function purgeIngestMarkers(env: Env, now: number): Promise<number> {
  if (!(await claimLedgerJob(env.DB, 'purge-ingest-markers', iso(now), iso(now - MARKER_PURGE_EVERY_MS)))) return 0;
  return (await purgeIngestMarkersStatement(env.DB, iso(now - INGEST_MARKER_DAYS * DAY_MS)).run()).meta.changes ?? 0;
}

export interface PartitionRetentionResult {
  dropped: number;
  kept: number;
  markers: number;
}

/** The first period whose clicks are all still kept; partitions before it may go. */
export async function firstKeptPeriod(env: Env, now: number): Promise<number | null> {
  const days = Number(env.CLICK_RETENTION_DAYS);
  if (!Number.isFinite(days) || days < 1) return null;
  const window = (await maxAttributionWindowDays(env.DB)) ?? 0;
  return periodOf(now - Math.max(days, window) * DAY_MS);
}

export async function dropExpiredPartitions(env: Env, now = Date.now()): Promise<PartitionRetentionResult> {
  const markers = await purgeIngestMarkers(env, now);
  const beforePeriod = await firstKeptPeriod(env, now);
  if (beforePeriod === null) return { dropped: 0, kept: 0, markers };
  const partitions = await expiredPartitions(env.DB, beforePeriod);
  const byPeriod = new Map<number, PartitionKey[]>();
  for (const key of partitions) byPeriod.set(key.period, [...(byPeriod.get(key.period) ?? []), key]);
  let dropped = 0;
  let kept = 0;
  for (const [period, keys] of byPeriod) {
    // One indexed read per week finds its converted clicks; their IDs say which shard holds each.
    const converted = await convertedClickIds(env.DB, iso(periodStart(period)), iso(periodStart(period + 1)));
    for (const key of keys) {
      const ids = converted.filter((id) => clickIdPlacement(id)?.shard === key.shard);
      const stub = partitionStub(env, key);
      for (let i = 0; i < ids.length; i += COPY_GROUP) {
        const rows = await stub.clicks(ids.slice(i, i + COPY_GROUP));
        if (rows.length > 0) await env.DB.batch(copyClicksStatements(env.DB, rows));
        kept += rows.length;
      }
      await stub.drop();
      await forgetPartitionStatement(env.DB, key.period, key.shard).run();
      dropped += 1;
    }
  }
  return { dropped, kept, markers };
}
