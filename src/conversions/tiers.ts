// Volume tiers of a goal (TUNE's and Everflow's "tiered payouts"): once a publisher has made
// `min_conversions` conversions of the goal in the tier period (the operator's calendar month),
// each further conversion earns the tier's payout instead of the goal's base payout. Pure.
//
// Tiers are kept monotonic when they are saved (min_conversions strictly increasing, payouts
// never decreasing, the first not below the goal's own payout), so a publisher never earns less
// per conversion by selling more.
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

/** What a goal pays per conversion before any tier: the base rule's fixed and percent payout. */
export type BasePayout = Pick<Tier, 'payout_fixed' | 'payout_percent_bp'>;

const NO_PAYOUT: BasePayout = { payout_fixed: 0, payout_percent_bp: 0 };

/**
 * Field errors of a tier list (empty when it is valid): positive and increasing thresholds, and
 * payouts that never go down, neither from one tier to the next nor below `base`, the goal's own
 * payout that a tier replaces. A tier's fixed amount and percentage are compared apart: a tier
 * that pays more fixed but a lower percentage pays less on a large enough sale.
 */
export function tierErrors(tiers: readonly Tier[], base: BasePayout = NO_PAYOUT): Record<string, string> {
  const errors: Record<string, string> = {};
  tiers.forEach((tier, i) => {
    if (!Number.isSafeInteger(tier.min_conversions) || tier.min_conversions < 1) {
      errors[`tiers.${i}.min_conversions`] = 'must be a positive whole number';
    }
    const previous = tiers[i - 1];
    if (previous && tier.min_conversions <= previous.min_conversions) {
      errors[`tiers.${i}.min_conversions`] = 'must be greater than the previous tier';
    }
    // Against the previous tier when there is one (it is itself checked against the base).
    const floor = previous ?? base;
    const against = previous ? 'the previous tier' : "the goal's own payout";
    if (tier.payout_fixed < floor.payout_fixed) {
      errors[`tiers.${i}.payout`] = `must not be lower than ${against} (selling more never pays less)`;
    }
    if (tier.payout_percent_bp < floor.payout_percent_bp) {
      errors[`tiers.${i}.payout_percent`] = `must not be lower than ${against} (selling more never pays less)`;
    }
  });
  return errors;
}

/**
 * The first tier that pays less than `base` in fixed amount or percentage, for a goal whose base
 * payout changes while its stored tiers stay; null when none does.
 */
export function tierBelow(
  tiers: readonly Tier[],
  base: BasePayout,
): { tier: Tier; field: 'payout' | 'payout_percent' } | null {
  for (const tier of tiers) {
    if (tier.payout_fixed < base.payout_fixed) return { tier, field: 'payout' };
    if (tier.payout_percent_bp < base.payout_percent_bp) return { tier, field: 'payout_percent' };
  }
  return null;
}

export function parseTiers(json: string | null | undefined): Tier[] {
  if (!json) return [];
  return JSON.parse(json) as Tier[];
}

/** Where the tier period holding `now` began, as stored time (ISO UTC). */
export function tierPeriodStart(now: number, zone: string, _period: TierPeriod = 'month'): string {
  return new Date(zonedMonthStart(now, zone)).toISOString();
}
