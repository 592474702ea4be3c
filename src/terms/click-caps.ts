// Click caps are counted off the redirect path: after the clicks consumer has stored a batch
// (and on every cron run, as a safety net), the open click caps of the offers involved are
// counted exactly in the operator's zone from the click rollups (whole UTC days from the daily
// table, the period's edges from the quarter-hour one); one that is met is marked reached and its
// offer's edge config republished, so the redirect sends that traffic to the fallback. Counting
// lags the redirect by the queue's delay, so a click cap may be passed by the clicks of that delay.
import { publishOfferConfigs } from '../click/config';
import { clicksInPeriod, openClickCaps, storeClickCount } from '../db/caps';
import { errorFields, log } from '../lib/log';
import { iso } from '../lib/time';
import { operatorTimeZone } from '../lib/timezone';
import { clickCountParts, periodBounds, periodKeys } from './periods';

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
      // Exact in any zone: whole UTC days from the daily rollups, the period's edges from quarters.
      const parts = bounds.start === null || bounds.end === null ? null : clickCountParts(bounds.start, bounds.end);
      const clicks = await clicksInPeriod(env.DB, cap, parts);
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
