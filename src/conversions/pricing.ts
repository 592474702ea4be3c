// Pricing a conversion: what the advertiser owes (revenue) and what the publisher earns
// (payout), in minor units of the offer's currency. Pure; the rules come from payout_rules.
//
// - Rules are chosen per commission group (NULL = the goal's base rule). A row for this
//   publisher, in force at the conversion time (starts_at inclusive, ends_at exclusive),
//   overrides the PAYOUT of the row for every publisher; the revenue the advertiser owes never
//   depends on who sent the traffic, so it always comes from the row for every publisher.
// - Without products: base fixed + base percent of the sale amount.
// - With products: base fixed once per conversion; each line is priced by the rule of its
//   commission group (that rule's fixed amount per unit plus its percent of the line total),
//   and lines whose group has no rule earn the base percent. Percentages are applied to the
//   sum of the lines that share a rule, so rounding (half up) happens once per rule, not per line.
import type { PayoutRuleRow } from '../db/offers';
import type { RuleWindowColumns } from '../db/payout-rules';
import { percentOf } from '../lib/money';

export type RuleAmounts = Pick<
  PayoutRuleRow,
  'revenue_fixed' | 'revenue_percent_bp' | 'payout_fixed' | 'payout_percent_bp'
>;

export interface GoalRules {
  base: RuleAmounts | null;
  groups: Map<string, RuleAmounts>;
  /** The id of the publisher's own rule that set the base payout, if one did. */
  publisherRuleId?: number | null;
}

export interface PricedLine {
  /** unit price × quantity, minor units of the sale currency. */
  total: number;
  quantity: number;
  commission_group: string | null;
}

export interface Price {
  revenue: number;
  payout: number;
}

type RuleWindow = Partial<RuleWindowColumns>;

/** A rule applies at `at` when `at` is inside its window (no window: always). */
export function inForce(rule: RuleWindow, at: string | undefined): boolean {
  if (at === undefined) return true;
  if (rule.starts_at && at < rule.starts_at) return false;
  if (rule.ends_at && at >= rule.ends_at) return false;
  return true;
}

/**
 * The rules that price a conversion of `publisherId` at `at` (ISO time; omitted: ignore
 * windows), per commission group.
 */
export function selectRules(
  rules: readonly (PayoutRuleRow & Partial<RuleWindowColumns>)[],
  publisherId: number,
  at?: string,
): GoalRules {
  const general = new Map<string, PayoutRuleRow>();
  const own = new Map<string, PayoutRuleRow>();
  for (const rule of rules) {
    const group = rule.commission_group ?? '';
    if (rule.publisher_id === null) general.set(group, rule);
    else if (rule.publisher_id === publisherId && inForce(rule, at)) own.set(group, rule);
  }
  const chosen = new Map<string, RuleAmounts>();
  for (const group of new Set([...general.keys(), ...own.keys()])) {
    const forAll = general.get(group);
    const mine = own.get(group);
    chosen.set(group, {
      revenue_fixed: forAll?.revenue_fixed ?? 0,
      revenue_percent_bp: forAll?.revenue_percent_bp ?? 0,
      payout_fixed: (mine ?? forAll)?.payout_fixed ?? 0,
      payout_percent_bp: (mine ?? forAll)?.payout_percent_bp ?? 0,
    });
  }
  const { '': base, ...rest } = Object.fromEntries(chosen);
  return {
    base: base ?? null,
    groups: new Map(Object.entries(rest)),
    publisherRuleId: own.get('')?.id ?? null,
  };
}

/** True when any rule that could apply pays a percentage (so the sale currency matters). */
export function usesPercent(rules: GoalRules): boolean {
  const all = [rules.base, ...rules.groups.values()];
  return all.some((r) => r !== null && r !== undefined && (r.revenue_percent_bp > 0 || r.payout_percent_bp > 0));
}

/** True when the base rule pays a percentage of the sale amount (a sale needs an amount then). */
export function baseUsesPercent(rules: GoalRules): boolean {
  return rules.base !== null && (rules.base.revenue_percent_bp > 0 || rules.base.payout_percent_bp > 0);
}

export function priceConversion(
  rules: GoalRules,
  sale: { amount: number; lines: readonly PricedLine[] | null },
): Price {
  const base = rules.base;
  const price: Price = { revenue: base?.revenue_fixed ?? 0, payout: base?.payout_fixed ?? 0 };
  if (!sale.lines) {
    if (base) addPercent(price, base, sale.amount);
    return price;
  }
  const byGroup = new Map<string, { rule: RuleAmounts; total: number; quantity: number }>();
  let baseTotal = 0;
  for (const line of sale.lines) {
    const rule = line.commission_group === null ? undefined : rules.groups.get(line.commission_group);
    if (!rule) {
      baseTotal += line.total;
      continue;
    }
    const entry = byGroup.get(line.commission_group as string) ?? { rule, total: 0, quantity: 0 };
    entry.total += line.total;
    entry.quantity += line.quantity;
    byGroup.set(line.commission_group as string, entry);
  }
  if (base) addPercent(price, base, baseTotal);
  for (const { rule, total, quantity } of byGroup.values()) {
    price.revenue += rule.revenue_fixed * quantity;
    price.payout += rule.payout_fixed * quantity;
    addPercent(price, rule, total);
  }
  return price;
}

function addPercent(price: Price, rule: RuleAmounts, amount: number) {
  price.revenue += percentOf(amount, rule.revenue_percent_bp);
  price.payout += percentOf(amount, rule.payout_percent_bp);
}
