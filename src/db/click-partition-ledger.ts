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
 * Adds the deltas of every message not counted yet, then marks them all counted; all in the
 * caller's batch (one transaction), so a redelivery adds nothing. The deltas of all the
 * messages are summed in SQL per rollup row, so a consumer batch writes each day and quarter row
 * of an offer and publisher once, however many messages it carries (rows written are billed one
 * by one); the once-only check stays per message, since a redelivered message may come in a
 * batch of other messages. Three statements for any usual batch (more only past 1 MB of deltas).
 * (The quarter rows are written here rather than by quarter-stats.ts's one-message statement.)
 */
export function rollupOnceStatements(db: D1Database, messages: MessageRollup[]): D1PreparedStatement[] {
  const now = new Date().toISOString();
  // Up to one delta per quarter, offer and publisher of each of a batch's 10,000 clicks: in
  // chunks under the 2 MB string limit, all in the caller's one transaction.
  const deltas = jsonChunks(
    messages.flatMap(({ batchKey, deltas }) =>
      deltas.map((d) => [
        batchKey,
        d.day,
        d.quarter,
        d.offer_id,
        d.publisher_id,
        d.clicks,
        d.unique_clicks,
        d.bot_clicks,
      ]),
    ),
  );
  // Each delta row is checked against click_ingests on its own: the markers below are written
  // after all the inserts, so a message is counted in full or not at all. `WHERE` before
  // `GROUP BY` also keeps SQLite from reading the upsert's ON as a join constraint.
  const sums = (bucket: string) => `SELECT j.value ->> ${bucket === 'day' ? 1 : 2}, j.value ->> 3, j.value ->> 4,
           SUM(j.value ->> 5), SUM(j.value ->> 6), SUM(j.value ->> 7)
         FROM json_each(?) j
         WHERE NOT EXISTS (SELECT 1 FROM click_ingests WHERE batch_key = j.value ->> 0)
         GROUP BY 1, 2, 3`;
  const statements = deltas.flatMap((json) => [
    db
      .prepare(
        `INSERT INTO daily_click_stats (day, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
         ${sums('day')}
         ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET ${ADD_CLICKS}`,
      )
      .bind(json),
    db
      .prepare(
        `INSERT INTO quarter_click_stats (quarter, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
         ${sums('quarter')}
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

/**
 * Claims a periodic job for this run when it last ran before `dueBefore` (ISO): true for one
 * caller only; one row written per run of the job.
 */
export async function claimLedgerJob(db: D1Database, job: string, now: string, dueBefore: string): Promise<boolean> {
  const row = await db
    .prepare(
      `INSERT INTO click_ledger_runs (job, ran_at) VALUES (?, ?)
       ON CONFLICT (job) DO UPDATE SET ran_at = excluded.ran_at WHERE ran_at < ?
       RETURNING job`,
    )
    .bind(job, now, dueBefore)
    .first();
  return row !== null;
}

/**
 * Ingest markers older than `cutoff` (ISO): no message is redelivered that late. A scan of the
 * markers (no index: an index entry would cost a row written per marker stored and purged).
 */
export const purgeIngestMarkersStatement = (db: D1Database, cutoff: string) =>
  db.prepare('DELETE FROM click_ingests WHERE ingested_at < ?').bind(cutoff);
