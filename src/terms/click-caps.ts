// Click caps are counted off the redirect path: after the clicks consumer has stored a batch
// (and on every cron run, as a safety net), the open click caps of the offers involved are
// counted from the daily click rollups; one that is met is marked reached and its offer's edge
// config republished, so the redirect sends that traffic to the fallback. Counting lags the
// redirect by the queue's delay, so a click cap may be passed by the clicks of that delay.
import { publishOfferConfigs } from '../click/config';
import { clicksSince, openClickCaps, storeClickCount } from '../db/caps';
import { errorFields, log } from '../lib/log';
import { iso, utcDay } from '../lib/time';
import { operatorTimeZone } from '../lib/timezone';
import { periodBounds, periodKeys } from './periods';

/**
 * Counts the open click caps of `offerIds` (null: every offer) and publishes the offers whose
 * cap was met. Never throws: a failure is logged and the next batch or cron run counts again.
 * Returns the ids of the caps it marked reached.
 */
export async function checkClickCaps(env: Env, offerIds: number[] | null, now = Date.now()): Promise<number[]> {
  try {
    const zone = operatorTimeZone(env);
    const ids = offerIds && [...new Set(offerIds)];
    if (ids && ids.length === 0) return [];
    const caps = await openClickCaps(env.DB, ids, periodKeys(now, zone));
    const reached: number[] = [];
    const offers = new Set<number>();
    for (const cap of caps) {
      const bounds = periodBounds(cap.period, now, zone);
      // Rollups are per UTC day: a period in another zone is counted by the UTC days it overlaps.
      const clicks = await clicksSince(env.DB, cap, bounds.start === null ? null : utcDay(bounds.start));
      if (await storeClickCount(env.DB, cap, bounds.key, clicks, iso(now))) {
        reached.push(cap.id);
        offers.add(cap.offer_id);
      }
    }
    if (offers.size > 0) await publishOfferConfigs(env, [...offers]);
    return reached;
  } catch (error) {
    log('warn', 'terms.click_caps_failed', errorFields(error));
    return [];
  }
}
