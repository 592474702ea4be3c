// Click-to-conversion time rules (Everflow's minimum and maximum conversion time): measured
// from the click time signed into the click ID, so they hold before the click row has landed.
// Pure.
import type { OfferTermsColumns } from '../db/payout-rules';

export type TimeFlag = 'too_fast' | 'too_slow';

export type TimeRule = Partial<Pick<OfferTermsColumns, 'min_seconds_to_convert' | 'max_seconds_to_convert'>>;

/** The flag a conversion `now` of a click at `clickedAt` (both epoch ms) raises, or null. */
export function checkConversionTime(rule: TimeRule, clickedAt: number, now: number): TimeFlag | null {
  const seconds = (now - clickedAt) / 1000;
  const min = rule.min_seconds_to_convert;
  const max = rule.max_seconds_to_convert;
  if (min !== null && min !== undefined && seconds < min) return 'too_fast';
  if (max !== null && max !== undefined && seconds > max) return 'too_slow';
  return null;
}
