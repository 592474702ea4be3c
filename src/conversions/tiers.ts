// Volume tiers of a goal (TUNE's and Everflow's "tiered payouts"): once a publisher has made
// `min_conversions` conversions of the goal in the tier period (the operator's calendar month),
// each further conversion earns the tier's payout instead of the goal's base payout. Pure.
//
// Tiers are kept monotonic when they are saved (min_conversions strictly increasing, payouts
// never decreasing), so a publisher never earns less per conversion by selling more.
import { zonedMonthStart } from '../lib/timezone';

export interface Tier {
  min_conversions: number;
  payout_fixed: number;
  payout_percent_bp: number;
}

export type TierPeriod = 'month';

/** The tier a conversion earns when `before` conversions precede it in the period, or null. */
export function tierFor(tiers: readonly Tier[], before: number): Tier | null {
  let reached: Tier | null = null;
  for (const tier of tiers) if (before >= tier.min_conversions) reached = tier;
  return reached;
}

/** Field errors of a tier list (empty when it is valid): positive, increasing, monotonic. */
export function tierErrors(tiers: readonly Tier[]): Record<string, string> {
  const errors: Record<string, string> = {};
  tiers.forEach((tier, i) => {
    if (!Number.isSafeInteger(tier.min_conversions) || tier.min_conversions < 1) {
      errors[`tiers.${i}.min_conversions`] = 'must be a positive whole number';
    }
    const previous = tiers[i - 1];
    if (!previous) return;
    if (tier.min_conversions <= previous.min_conversions) {
      errors[`tiers.${i}.min_conversions`] = 'must be greater than the previous tier';
    }
    if (tier.payout_fixed < previous.payout_fixed || tier.payout_percent_bp < previous.payout_percent_bp) {
      errors[`tiers.${i}.payout`] = 'must not be lower than the previous tier (tiers reward volume)';
    }
  });
  return errors;
}

export function parseTiers(json: string | null | undefined): Tier[] {
  if (!json) return [];
  return JSON.parse(json) as Tier[];
}

/** Where the tier period holding `now` began, as stored time (ISO UTC). */
export function tierPeriodStart(now: number, zone: string, _period: TierPeriod = 'month'): string {
  return new Date(zonedMonthStart(now, zone)).toISOString();
}
