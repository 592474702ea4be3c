// The D1 side of partitioned clicks: rollup deltas applied once per clicks Queue message
// (guarded by click_ingests), and the register of partitions that hold clicks.
import { jsonChunks } from '../lib/chunks';

/** A change to one day's rollup of one offer and publisher. */
export interface RollupDelta {
  day: string;
  /** Its 15-minute bucket (src/db/quarter-stats.ts); deltas are per quarter, several may share a day. */
  quarter: number;
  offer_id: number;
  publisher_id: number;
  clicks: number;
  unique_clicks: number;
  bot_clicks: number;
}

/** The rollup deltas of one clicks Queue message, counted once under its key. */
export interface MessageRollup {
  batchKey: string;
  deltas: RollupDelta[];
}

const ADD_CLICKS = `clicks = clicks + excluded.clicks,
         unique_clicks = unique_clicks + excluded.unique_clicks,
         bot_clicks = bot_clicks + excluded.bot_clicks`;

/**
 * Adds each message's rollup deltas unless that message was already counted, then marks them
 * all counted; all in the caller's batch (one transaction), so a redelivery adds nothing. Three
 * statements for any usual batch (more only past 1 MB of deltas): D1 statements cost more than
 * the rows they carry.
 * (The quarter rows are written here rather than by quarter-stats.ts's one-message statement.)
 */
export function rollupOnceStatements(db: D1Database, messages: MessageRollup[]): D1PreparedStatement[] {
  const now = new Date().toISOString();
  // Up to one delta per quarter, offer and publisher of each of a batch's 10,000 clicks: in
  // chunks under the 2 MB string limit, all in the caller's one transaction.
  const deltas = jsonChunks(
    messages.flatMap(({ batchKey, deltas }) => deltas.map((delta) => ({ ...delta, batch_key: batchKey }))),
  );
  // Each delta row is checked against click_ingests on its own: the markers below are written
  // after all the inserts, so a message is counted in full or not at all.
  const notCounted = "NOT EXISTS (SELECT 1 FROM click_ingests WHERE batch_key = j.value ->> 'batch_key')";
  const statements = deltas.flatMap((json) => [
    db
      .prepare(
        `INSERT INTO daily_click_stats (day, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
         SELECT j.value ->> 'day', j.value ->> 'offer_id', j.value ->> 'publisher_id',
           j.value ->> 'clicks', j.value ->> 'unique_clicks', j.value ->> 'bot_clicks'
         FROM json_each(?) j WHERE ${notCounted}
         ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET ${ADD_CLICKS}`,
      )
      .bind(json),
    db
      .prepare(
        `INSERT INTO quarter_click_stats (quarter, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
         SELECT j.value ->> 'quarter', j.value ->> 'offer_id', j.value ->> 'publisher_id',
           j.value ->> 'clicks', j.value ->> 'unique_clicks', j.value ->> 'bot_clicks'
         FROM json_each(?) j WHERE ${notCounted}
         ON CONFLICT (quarter, offer_id, publisher_id) DO UPDATE SET ${ADD_CLICKS}`,
      )
      .bind(json),
  ]);
  for (const json of jsonChunks(messages.map((m) => m.batchKey))) {
    statements.push(
      db
        .prepare('INSERT OR IGNORE INTO click_ingests (batch_key, ingested_at) SELECT value, ? FROM json_each(?)')
        .bind(now, json),
    );
  }
  return statements;
}

/** Registers partitions (a no-op, and no row written, for those already known). */
export const registerPartitionsStatement = (db: D1Database, partitions: { period: number; shard: number }[]) =>
  db
    .prepare(
      `INSERT OR IGNORE INTO click_partitions (period, shard)
       SELECT j.value ->> 'period', j.value ->> 'shard' FROM json_each(?) j`,
    )
    .bind(JSON.stringify(partitions));

/** Registered partitions of periods `from`..`to` (both included), newest period first. */
export const partitionsBetween = async (db: D1Database, from: number, to: number) =>
  (
    await db
      .prepare('SELECT period, shard FROM click_partitions WHERE period BETWEEN ? AND ? ORDER BY period DESC, shard')
      .bind(from, to)
      .all<{ period: number; shard: number }>()
  ).results;

/** Partitions whose whole period ended before `beforePeriod`, oldest first. */
export const expiredPartitions = async (db: D1Database, beforePeriod: number) =>
  (
    await db
      .prepare('SELECT period, shard FROM click_partitions WHERE period < ? ORDER BY period, shard LIMIT 100')
      .bind(beforePeriod)
      .all<{ period: number; shard: number }>()
  ).results;

export const forgetPartitionStatement = (db: D1Database, period: number, shard: number) =>
  db.prepare('DELETE FROM click_partitions WHERE period = ? AND shard = ?').bind(period, shard);

/** Ingest markers older than `cutoff` (ISO): no message is redelivered that late. */
export const purgeIngestMarkersStatement = (db: D1Database, cutoff: string) =>
  db.prepare('DELETE FROM click_ingests WHERE ingested_at < ?').bind(cutoff);
