// Pricing a conversion: what the advertiser owes (revenue) and what the publisher earns
// (payout), in minor units of the offer's currency. Pure; the rules come from payout_rules.
//
// - Rules are chosen per commission group (NULL = the goal's base rule): a row for this
//   publisher wins over the row for every publisher (the per-publisher override).
// - Without products: base fixed + base percent of the sale amount.
// - With products: base fixed once per conversion; each line is priced by the rule of its
//   commission group (that rule's fixed amount per unit plus its percent of the line total),
//   and lines whose group has no rule earn the base percent. Percentages are applied to the
//   sum of the lines that share a rule, so rounding (half up) happens once per rule, not per line.
import type { PayoutRuleRow } from '../db/offers';
import { percentOf } from '../lib/money';

export type RuleAmounts = Pick<
  PayoutRuleRow,
  'revenue_fixed' | 'revenue_percent_bp' | 'payout_fixed' | 'payout_percent_bp'
>;

export interface GoalRules {
  base: RuleAmounts | null;
  groups: Map<string, RuleAmounts>;
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

export function selectRules(rules: readonly PayoutRuleRow[], publisherId: number): GoalRules {
  const chosen = new Map<string, PayoutRuleRow>();
  for (const rule of rules) {
    if (rule.publisher_id !== null && rule.publisher_id !== publisherId) continue;
    const group = rule.commission_group ?? '';
    const current = chosen.get(group);
    if (!current || (current.publisher_id === null && rule.publisher_id !== null)) chosen.set(group, rule);
  }
  const { '': base, ...rest } = Object.fromEntries(chosen);
  return { base: base ?? null, groups: new Map(Object.entries(rest)) };
}

/** True when any rule that could apply pays a percentage (so the sale currency matters). */
export function usesPercent(rules: GoalRules): boolean {
  const all = [rules.base, ...rules.groups.values()];
  return all.some((r) => r !== null && (r.revenue_percent_bp > 0 || r.payout_percent_bp > 0));
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
