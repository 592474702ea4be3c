// The terms a conversion is priced under, decided once when it is created and frozen on the
// conversion (conversions.pricing), so the rate it earns never changes afterwards and an
// adjustment reprices with the same rates. Precedence for the base payout: the publisher's own
// payout in force > the volume tier reached > the goal's payout. Pure.
import type { RuleRow } from '../db/payout-rules';
import { type GoalRules, type RuleAmounts, selectRules } from './pricing';
import { type Tier, tierFor } from './tiers';

export interface PricingTerms {
  /** The rule that set the base payout: 'goal', 'publisher:<rule id>' or 'tier:<min_conversions>'. */
  rule: string;
  base: RuleAmounts | null;
  groups: Record<string, RuleAmounts>;
}

export interface TermsInput {
  rules: readonly RuleRow[];
  publisherId: number;
  /** Conversion time, ISO: which publisher payouts are in force. */
  at: string;
  tiers: readonly Tier[];
  /** The publisher's conversions of the goal earlier in the tier period. */
  before: number;
}

export function chooseTerms(input: TermsInput): PricingTerms {
  const rules = selectRules(input.rules, input.publisherId, input.at);
  let base = rules.base;
  let rule = 'goal';
  if (rules.publisherRuleId) {
    rule = `publisher:${rules.publisherRuleId}`;
  } else {
    const tier = tierFor(input.tiers, input.before);
    if (tier) {
      rule = `tier:${tier.min_conversions}`;
      base = {
        revenue_fixed: base?.revenue_fixed ?? 0,
        revenue_percent_bp: base?.revenue_percent_bp ?? 0,
        payout_fixed: tier.payout_fixed,
        payout_percent_bp: tier.payout_percent_bp,
      };
    }
  }
  return { rule, base, groups: Object.fromEntries(rules.groups) };
}

export const goalRulesOf = (terms: PricingTerms): GoalRules => ({
  base: terms.base,
  groups: new Map(Object.entries(terms.groups)),
});

export const parseTerms = (json: string | null | undefined): PricingTerms | null =>
  json ? (JSON.parse(json) as PricingTerms) : null;
