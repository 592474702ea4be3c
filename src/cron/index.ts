// The scheduled handler: housekeeping that is safe to run any number of times.
import { settleDueConversions } from '../clicks/completion';
import { dropExpiredPartitions } from '../clicks/retention';
import { purgeClicksStatement } from '../db/clicks';
import { maxAttributionWindowDays } from '../db/offers';
import { errorFields, log } from '../lib/log';
import { DAY_MS, iso } from '../lib/time';
import { reconcileDeliveries } from '../notify/reconcile';
import { reconcileDocumentDeliveries } from '../statements/delivery';
import { checkClickCaps } from '../terms/click-caps';
import { deleteInBatches, purgeExpiredLogs } from './log-retention';
import { approveValidatedConversions } from './validation';

const PURGE_BATCH = 5_000;
/** Batches per cron run: 20 x 5,000 every 5 minutes is up to 28.8 million clicks a day. */
const PURGE_MAX_BATCHES = 20;

/**
 * Deletes clicks older than CLICK_RETENTION_DAYS, except clicks that led to a conversion
 * (attribution disputes need them). A click is never purged inside the longest attribution
 * window of any offer either: a late conversion still finds its click row (sub IDs, referrer),
 * which the notification echoes to the publisher. Daily rollups are kept, so reports do not
 * change. Deletes in batches until none is left or the run's batch budget is spent.
 */
export async function purgeExpiredClicks(
  env: Env,
  now = Date.now(),
  batchSize = PURGE_BATCH,
  maxBatches = PURGE_MAX_BATCHES,
): Promise<number> {
  const days = Number(env.CLICK_RETENTION_DAYS);
  if (!Number.isFinite(days) || days < 1) return 0;
  const window = await maxAttributionWindowDays(env.DB);
  const cutoff = iso(now - Math.max(days, window ?? 0) * DAY_MS);
  return deleteInBatches(purgeClicksStatement(env.DB, cutoff, batchSize), batchSize, maxBatches);
}

export async function runScheduled(env: Env): Promise<void> {
  const tasks: [string, () => Promise<unknown>][] = [
    ['purge_clicks', () => purgeExpiredClicks(env)],
    // Partitioned clicks go a week at a time (src/clicks/retention.ts).
    ['drop_click_partitions', () => dropExpiredPartitions(env)],
    // Conversions still waiting for their click after the wait (src/clicks/completion.ts).
    ['settle_click_waits', () => settleDueConversions(env)],
    // Pending conversions past their goal's validation period (src/cron/validation.ts).
    ['approve_validated', () => approveValidatedConversions(env)],
    // Click caps met by clicks the consumer stored (src/terms/click-caps.ts); a safety net.
    ['click_caps', () => checkClickCaps(env, null)],
    // Notifications whose queue message never arrived (see src/notify/reconcile.ts).
    ['reconcile_deliveries', () => reconcileDeliveries(env)],
    // statement.issued / statement.paid deliveries, likewise (src/statements/delivery.ts).
    ['reconcile_document_deliveries', () => reconcileDocumentDeliveries(env)],
    // The postback log and delivery attempts, kept for a bounded window (src/cron/log-retention.ts).
    ['purge_logs', () => purgeExpiredLogs(env)],
  ];
  for (const [name, task] of tasks) {
    try {
      const result = await task();
      log('info', `cron.${name}`, { result });
    } catch (error) {
      log('error', `cron.${name}_failed`, errorFields(error));
    }
  }
}
