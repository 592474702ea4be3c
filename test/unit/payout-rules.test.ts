// Pricing rules (pure): rule choice per commission group with per-publisher overrides, fixed +
// percent without products, per-group pricing with products, rounding once per rule.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PricedLine, priceConversion, selectRules, usesPercent } from '../../src/conversions/pricing';
import type { PayoutRuleRow } from '../../src/db/offers';

let nextId = 1;
function rule(fields: Partial<PayoutRuleRow>): PayoutRuleRow {
  return {
    id: nextId++,
    goal_id: 1,
    publisher_id: null,
    commission_group: null,
    revenue_fixed: 0,
    revenue_percent_bp: 0,
    payout_fixed: 0,
    payout_percent_bp: 0,
    created_at: '2026-11-23T00:00:00.000Z',
    ...fields,
  };
}

const line = (total: number, commission_group: string | null = null, quantity = 1): PricedLine => ({
  total,
  quantity,
  commission_group,
});

describe('selectRules', () => {
  it('prefers the publisher-specific rule over the rule for every publisher, per group', () => {
    const rules = [
      rule({ payout_fixed: 100 }),
      rule({ publisher_id: 7, payout_fixed: 150 }),
      rule({ publisher_id: 8, payout_fixed: 999 }),
      rule({ commission_group: 'books', payout_percent_bp: 500 }),
      rule({ commission_group: 'books', publisher_id: 7, payout_percent_bp: 800 }),
      rule({ commission_group: 'toys', payout_percent_bp: 300 }),
    ];
    const forSeven = selectRules(rules, 7);
    expect(forSeven.base?.payout_fixed).toBe(150);
    expect(forSeven.groups.get('books')?.payout_percent_bp).toBe(800);
    expect(forSeven.groups.get('toys')?.payout_percent_bp).toBe(300);
    const forNine = selectRules(rules, 9);
    expect(forNine.base?.payout_fixed).toBe(100);
    expect(forNine.groups.get('books')?.payout_percent_bp).toBe(500);
  });

  it('does not depend on the order of the rows', () => {
    const general = rule({ payout_fixed: 100 });
    const own = rule({ publisher_id: 7, payout_fixed: 150 });
    expect(selectRules([own, general], 7).base?.payout_fixed).toBe(150);
    expect(selectRules([general, own], 7).base?.payout_fixed).toBe(150);
  });

  it('has no base rule when the goal has none', () => {
    expect(selectRules([rule({ commission_group: 'x' })], 1).base).toBeNull();
    expect(priceConversion(selectRules([], 1), { amount: 5000, lines: null })).toEqual({ revenue: 0, payout: 0 });
  });
});

describe('priceConversion without products', () => {
  it('pays the fixed amounts whatever the sale amount', () => {
    const rules = selectRules([rule({ revenue_fixed: 500, payout_fixed: 200 })], 1);
    expect(priceConversion(rules, { amount: 0, lines: null })).toEqual({ revenue: 500, payout: 200 });
    expect(priceConversion(rules, { amount: 123456, lines: null })).toEqual({ revenue: 500, payout: 200 });
  });

  it.each([
    [2609, 1000, 261], // 26.09 x 10% = 2.609 -> 2.61
    [2609, 500, 130], // 26.09 x 5% = 1.3045 -> 1.30
    [1999, 250, 50], // 1999 JPY x 2.5% = 49.975 -> 50
    [1234, 500, 62], // 1.234 BHD x 5% = 0.0617 -> 0.062
    [10, 500, 1], // 0.10 x 5% = 0.005 -> 0.01 (half up)
    [9, 500, 0], // 0.09 x 5% = 0.0045 -> 0.00
    [1, 1_000_000, 100], // 10000% is allowed
  ])('%i minor units at %i bp earn %i', (amount, bp, expected) => {
    const rules = selectRules([rule({ revenue_percent_bp: bp, payout_percent_bp: bp })], 1);
    expect(priceConversion(rules, { amount, lines: null })).toEqual({ revenue: expected, payout: expected });
  });

  it('adds fixed and percent parts', () => {
    const rules = selectRules([rule({ revenue_fixed: 100, revenue_percent_bp: 250, payout_fixed: 50 })], 1);
    expect(priceConversion(rules, { amount: 4000, lines: null })).toEqual({ revenue: 200, payout: 50 });
  });
});

describe('priceConversion with products', () => {
  const rules = selectRules(
    [
      rule({ revenue_fixed: 100, payout_fixed: 50, revenue_percent_bp: 1000, payout_percent_bp: 400 }),
      rule({ commission_group: 'books', revenue_percent_bp: 2000, payout_percent_bp: 1250 }),
      rule({ commission_group: 'gift', revenue_fixed: 30, payout_fixed: 10 }),
    ],
    1,
  );

  it('prices each group by its rule, base fixed once, other lines at the base percent', () => {
    const price = priceConversion(rules, {
      amount: 0,
      lines: [line(2598, 'books', 2), line(900, 'gift', 3), line(4550, 'unknown'), line(405)],
    });
    // revenue 100 + 520 (5.196) + 90 + 496 (4.955); payout 50 + 325 (3.2475) + 30 + 198 (1.982)
    expect(price).toEqual({ revenue: 1206, payout: 603 });
  });

  it('ignores the reported amount when products are sent', () => {
    const lines = [line(1000, 'books')];
    expect(priceConversion(rules, { amount: 999999, lines })).toEqual(priceConversion(rules, { amount: 0, lines }));
  });

  it('rounds once per rule, not once per line', () => {
    const percentOnly = selectRules([rule({ payout_percent_bp: 1000 })], 1);
    // Two lines of 0.05 at 10%: per line 0.005 + 0.005 would round to 0.02; the sum 0.10 earns 0.01.
    expect(priceConversion(percentOnly, { amount: 0, lines: [line(5), line(5)] }).payout).toBe(1);
  });

  it('prices an empty group rule list exactly like the amount (property)', () => {
    const base = rule({ revenue_fixed: 0, revenue_percent_bp: 0, payout_fixed: 0, payout_percent_bp: 0 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 20 }),
        (fixed, bp, totals) => {
          const only = selectRules([{ ...base, payout_fixed: fixed, payout_percent_bp: bp }], 1);
          const amount = totals.reduce((a, b) => a + b, 0);
          const byLines = priceConversion(only, { amount: 0, lines: totals.map((t) => line(t)) });
          expect(byLines).toEqual(priceConversion(only, { amount, lines: null }));
        },
      ),
    );
  });

  it('gives the same price however lines of one group are split (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom('books', 'gift', 'other', null)), {
          minLength: 1,
          maxLength: 10,
        }),
        (entries) => {
          const lines = entries.map(([total, group]) => line(total, group));
          const split = lines.flatMap((l) => [
            { ...l, total: Math.floor(l.total / 2), quantity: 0 },
            { ...l, total: l.total - Math.floor(l.total / 2) },
          ]);
          expect(priceConversion(rules, { amount: 0, lines: split })).toEqual(
            priceConversion(rules, { amount: 0, lines }),
          );
        },
      ),
    );
  });
});

describe('usesPercent', () => {
  it('is true when any applicable rule pays a percentage', () => {
    expect(usesPercent(selectRules([rule({ revenue_fixed: 1 })], 1))).toBe(false);
    expect(usesPercent(selectRules([rule({ payout_percent_bp: 1 })], 1))).toBe(true);
    expect(usesPercent(selectRules([rule({}), rule({ commission_group: 'g', revenue_percent_bp: 5 })], 1))).toBe(true);
    expect(usesPercent(selectRules([rule({ publisher_id: 2, payout_percent_bp: 100 })], 1))).toBe(false);
  });
});
