// The scheduled handler: housekeeping that is safe to run any number of times.
import { errorFields, log } from '../lib/log';
import { DAY_MS, iso } from '../lib/time';
import { reconcileDeliveries } from '../notify/reconcile';

const PURGE_BATCH = 5_000;

/**
 * Deletes clicks older than CLICK_RETENTION_DAYS, except clicks that led to a conversion
 * (attribution disputes need them). Daily rollups are kept, so reports do not change.
 */
export async function purgeExpiredClicks(env: Env, now = Date.now()): Promise<number> {
  const days = Number(env.CLICK_RETENTION_DAYS);
  if (!Number.isFinite(days) || days < 1) return 0;
  const cutoff = iso(now - days * DAY_MS);
  const result = await env.DB.prepare(
    `DELETE FROM clicks WHERE click_id IN (
       SELECT click_id FROM clicks k WHERE k.clicked_at < ?
         AND NOT EXISTS (SELECT 1 FROM conversions v WHERE v.click_id = k.click_id)
       LIMIT ?)`,
  )
    .bind(cutoff, PURGE_BATCH)
    .run();
  return result.meta.changes ?? 0;
}

export async function runScheduled(env: Env): Promise<void> {
  const tasks: [string, () => Promise<unknown>][] = [
    ['purge_clicks', () => purgeExpiredClicks(env)],
    // Notifications whose queue message never arrived (see src/notify/reconcile.ts).
    ['reconcile_deliveries', () => reconcileDeliveries(env)],
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
