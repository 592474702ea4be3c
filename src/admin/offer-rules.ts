// The conversion-rule fields of offers and goals in the admin API (issue 15): an offer's
// click-to-conversion time rule and fraud hold, a goal's volume tiers and validation period.
// Input fields, the statements that store them in the offer's own batch, and how they read back.
import * as z from 'zod';
import { type BasePayout, parseTiers, type Tier, tierBelow, tierErrors } from '../conversions/tiers';
import { goalsWithRules } from '../db/offers';
import {
  type GoalTermsChanges,
  type OfferTermsChanges,
  type TermedGoal,
  type TermedOffer,
  updateGoalRulesStatement,
  updateOfferRulesStatement,
} from '../db/payout-rules';
import { badRequest, type FieldErrors } from '../lib/errors';
import { formatAmount, parseAmount, percentToBasisPoints } from '../lib/money';
import { decimal, percent } from './schemas';

const seconds = z
  .number()
  .int()
  .min(0)
  .max(366 * 86_400);

export const offerRuleFields = {
  min_seconds_to_convert: seconds
    .nullable()
    .optional()
    .describe('A conversion sooner than this after its click is too_fast (null: no minimum)'),
  max_seconds_to_convert: seconds
    .nullable()
    .optional()
    .describe('A conversion later than this after its click is too_slow (null: no maximum)'),
  time_rule: z
    .enum(['flag', 'reject'])
    .optional()
    .describe('flag: keep the conversion with the flag; reject: store it rejected with the flag as reason'),
  hold_flagged: z.boolean().optional().describe('Keep flagged conversions pending: never approved automatically'),
};

const tierInput = z
  .object({
    min_conversions: z.number().int().min(1).describe("The publisher's earlier conversions in the period"),
    payout: decimal.optional().describe('Fixed payout per conversion from this tier on'),
    payout_percent: percent.optional().describe('Payout as a percentage of the sale from this tier on'),
  })
  .strict();

export const goalRuleFields = {
  tiers: z
    .array(tierInput)
    .max(20)
    .nullable()
    .optional()
    .describe('Volume tiers of the base payout, ascending; payouts may not decrease (null: none)'),
  tier_period: z.enum(['month']).optional().describe('Tiers count conversions per calendar month in TIMEZONE'),
  validation_days: z
    .number()
    .int()
    .min(0)
    .max(365)
    .nullable()
    .optional()
    .describe('Days after which a pending conversion is approved automatically (null: manual approval)'),
};

type OfferRuleInput = { [K in keyof typeof offerRuleFields]?: z.output<(typeof offerRuleFields)[K]> };
type GoalRuleInput = { key: string; payout?: string; payout_percent?: number } & {
  [K in keyof typeof goalRuleFields]?: z.output<(typeof goalRuleFields)[K]>;
};

export function offerRulesStatement(db: D1Database, offer: { id: number } | 'inserted', input: OfferRuleInput) {
  const min = input.min_seconds_to_convert;
  const max = input.max_seconds_to_convert;
  if (min != null && max != null && min > max) {
    throw badRequest('min_seconds_to_convert is above max_seconds_to_convert', {
      min_seconds_to_convert: 'must not be greater than max_seconds_to_convert',
    });
  }
  const changes: OfferTermsChanges = {
    min_seconds_to_convert: min,
    max_seconds_to_convert: max,
    time_rule: input.time_rule,
    hold_flagged: input.hold_flagged === undefined ? undefined : input.hold_flagged ? 1 : 0,
  };
  return updateOfferRulesStatement(db, offer, changes);
}

/**
 * The statements storing each goal's tiers and validation period; a 400 names bad tiers. A goal
 * in the request has its base payout replaced by the request's (absent: 0.00), so its tiers,
 * sent or kept (`storedTiers`, by goal key, for an offer being changed), must not pay less.
 */
export function goalRulesStatements(
  db: D1Database,
  offer: { id: number } | 'inserted',
  goals: readonly GoalRuleInput[],
  offerCurrency: string,
  storedTiers: ReadonlyMap<string, string | null | undefined> = new Map(),
): D1PreparedStatement[] {
  const errors: FieldErrors = {};
  const statements = goals.flatMap((goal, i) => {
    const base = basePayoutOf(goal, offerCurrency);
    let tiers: string | null | undefined;
    if (goal.tiers === null) tiers = null;
    else if (goal.tiers !== undefined) {
      const parsed: Tier[] = goal.tiers.map((tier, k) => {
        const money =
          tier.payout === undefined ? { ok: true as const, minor: 0 } : parseAmount(tier.payout, offerCurrency);
        if (!money.ok) errors[`goals.${i}.tiers.${k}.payout`] = money.reason;
        return {
          min_conversions: tier.min_conversions,
          payout_fixed: money.ok ? money.minor : 0,
          payout_percent_bp: percentToBasisPoints(tier.payout_percent ?? 0) ?? 0,
        };
      });
      for (const [field, message] of Object.entries(tierErrors(parsed, base))) {
        errors[`goals.${i}.${field}`] ??= message;
      }
      tiers = parsed.length > 0 ? JSON.stringify(parsed) : null;
    } else {
      const below = tierBelow(parseTiers(storedTiers.get(goal.key)), base);
      if (below) {
        const pays =
          below.field === 'payout'
            ? formatAmount(below.tier.payout_fixed, offerCurrency)
            : `${below.tier.payout_percent_bp / 100}%`;
        errors[`goals.${i}.${below.field}`] =
          `must not be above the goal's tier from ${below.tier.min_conversions} conversions (${pays}): change the tiers in the same request`;
      }
    }
    const changes: GoalTermsChanges = {
      tiers,
      tier_period: tiers ? (goal.tier_period ?? 'month') : tiers === null ? null : goal.tier_period,
      validation_days: goal.validation_days,
    };
    const statement = updateGoalRulesStatement(db, offer, goal.key, changes);
    return statement ? [statement] : [];
  });
  if (Object.keys(errors).length > 0) throw badRequest(`Invalid ${Object.keys(errors).join(', ')}`, errors);
  return statements;
}

/**
 * The stored tiers of an offer's goals, by key, when a change replaces the base payout of a goal
 * without sending its tiers (empty otherwise: nothing to read).
 */
export async function keptTiers(
  db: D1Database,
  offerId: number,
  goals: readonly GoalRuleInput[] | undefined,
): Promise<Map<string, string | null | undefined>> {
  if (!goals?.some((goal) => goal.tiers === undefined)) return new Map();
  const stored = (await goalsWithRules(db, [offerId])).get(offerId) ?? [];
  return new Map(stored.map(({ goal }) => [goal.key, (goal as TermedGoal).tiers]));
}

/** The base payout a goal of the request gets (its amounts were checked by the offer's rules). */
function basePayoutOf(goal: GoalRuleInput, offerCurrency: string): BasePayout {
  const money = goal.payout === undefined ? null : parseAmount(goal.payout, offerCurrency);
  return {
    payout_fixed: money?.ok ? money.minor : 0,
    payout_percent_bp: percentToBasisPoints(goal.payout_percent ?? 0) ?? 0,
  };
}

export const offerRuleShape = {
  min_seconds_to_convert: z.int().nullable().describe('Minimum seconds from click to conversion (null: none)'),
  max_seconds_to_convert: z.int().nullable().describe('Maximum seconds from click to conversion (null: none)'),
  time_rule: z.enum(['flag', 'reject']).describe('What happens to a conversion outside the time limits'),
  hold_flagged: z.boolean().describe('Flagged conversions stay pending (no automatic approval)'),
};

export const presentOfferRules = (row: TermedOffer) => ({
  min_seconds_to_convert: row.min_seconds_to_convert ?? null,
  max_seconds_to_convert: row.max_seconds_to_convert ?? null,
  time_rule: row.time_rule ?? 'flag',
  hold_flagged: row.hold_flagged === 1,
});

// Present only when set, so a goal without these rules reads as it always did.
export const goalRuleShape = (money: z.ZodType) => ({
  tiers: z
    .array(z.strictObject({ min_conversions: z.int(), payout: money, payout_percent: z.number() }))
    .optional()
    .describe('Volume tiers of the base payout (absent: none)'),
  tier_period: z.enum(['month']).optional(),
  validation_days: z.int().optional().describe('Days until automatic approval (absent: manual approval)'),
});

export function presentGoalRules(goal: TermedGoal, currency: string) {
  const tiers = parseTiers(goal.tiers);
  return {
    ...(tiers.length > 0
      ? {
          tiers: tiers.map((t) => ({
            min_conversions: t.min_conversions,
            payout: formatAmount(t.payout_fixed, currency),
            payout_percent: t.payout_percent_bp / 100,
          })),
          tier_period: goal.tier_period ?? 'month',
        }
      : {}),
    ...(goal.validation_days != null ? { validation_days: goal.validation_days } : {}),
  };
}
