// Retention of the postback log and of notification delivery attempts: rows older than
// POSTBACK_LOG_RETENTION_DAYS / DELIVERY_ATTEMPT_RETENTION_DAYS are deleted in bounded batches,
// so the database holds a bounded window of each however much traffic (or abuse) arrives.
import { purgeDeliveryAttemptsStatement, purgePostbackLogStatement } from '../db/log-retention';
import { DAY_MS, iso } from '../lib/time';

const BATCH = 5_000;
/** Batches per table per cron run: 10 x 5,000 every 5 minutes is 14.4 million rows a day. */
const MAX_BATCHES = 10;

type PurgeStatement = (db: D1Database, cutoff: string, limit: number) => D1PreparedStatement;

/** Deletes rows older than `days` until none is left or the run's budget is spent; 0 when `days` is not a positive number. */
async function purgeOlderThan(
  db: D1Database,
  statement: PurgeStatement,
  days: number,
  now: number,
  batchSize: number,
  maxBatches: number,
): Promise<number> {
  if (!Number.isFinite(days) || days < 1) return 0;
  return deleteInBatches(statement(db, iso(now - days * DAY_MS), batchSize), batchSize, maxBatches);
}

/**
 * Runs `purge` (a DELETE of at most `batchSize` rows) until it deletes fewer than that or has run
 * `maxBatches` times; the rows deleted. Shared by every retention task of the cron.
 */
export async function deleteInBatches(purge: D1PreparedStatement, batchSize: number, maxBatches: number) {
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const changes = (await purge.run()).meta.changes ?? 0;
    deleted += changes;
    if (changes < batchSize) break;
  }
  return deleted;
}

export async function purgeExpiredLogs(
  env: Env,
  now = Date.now(),
  batchSize = BATCH,
  maxBatches = MAX_BATCHES,
): Promise<{ postback_log: number; delivery_attempts: number }> {
  return {
    postback_log: await purgeOlderThan(
      env.DB,
      purgePostbackLogStatement,
      Number(env.POSTBACK_LOG_RETENTION_DAYS),
      now,
      batchSize,
      maxBatches,
    ),
    delivery_attempts: await purgeOlderThan(
      env.DB,
      purgeDeliveryAttemptsStatement,
      Number(env.DELIVERY_ATTEMPT_RETENTION_DAYS),
      now,
      batchSize,
      maxBatches,
    ),
  };
}
