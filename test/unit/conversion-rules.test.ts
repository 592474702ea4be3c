// The pure conversion rules of issue 15: per-publisher payouts in force, tier precedence and
// monotonic tiers, time rules, fraud flags and holds, exact currency conversion, and money
// conserved across adjustments and status moves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planAdjustment } from '../../src/conversions/adjust';
import { isDatacenterAsn } from '../../src/conversions/datacenter-asns';
import { convertAmount, parseRate } from '../../src/conversions/exchange';
import { statsContribution, statsMove } from '../../src/conversions/lifecycle';
import { selectRules } from '../../src/conversions/pricing';
import { decideNewConversion } from '../../src/conversions/rules';
import { priceSale } from '../../src/conversions/sale';
import { chooseTerms, type PricingTerms } from '../../src/conversions/terms';
import { type Tier, tierErrors, tierFor, tierPeriodStart } from '../../src/conversions/tiers';
import { checkConversionTime } from '../../src/conversions/time-rules';
import type { ConversionRow, StatsColumn } from '../../src/db/conversions';
import type { RuleRow } from '../../src/db/payout-rules';
import { ApiError } from '../../src/lib/errors';

let nextId = 1;
const rule = (fields: Partial<RuleRow>): RuleRow => ({
  id: nextId++,
  goal_id: 1,
  publisher_id: null,
  commission_group: null,
  revenue_fixed: 0,
  revenue_percent_bp: 0,
  payout_fixed: 0,
  payout_percent_bp: 0,
  created_at: '2026-11-01T00:00:00.000Z',
  starts_at: null,
  ends_at: null,
  ...fields,
});

describe('per-publisher payouts', () => {
  const general = rule({ revenue_fixed: 500, payout_fixed: 200 });
  const own = rule({
    publisher_id: 7,
    payout_fixed: 300,
    starts_at: '2026-12-01T00:00:00.000Z',
    ends_at: '2027-01-01T00:00:00.000Z',
  });

  it('override the payout only inside their window, never the revenue', () => {
    expect(selectRules([general, own], 7, '2026-12-15T00:00:00.000Z').base).toMatchObject({
      revenue_fixed: 500,
      payout_fixed: 300,
    });
    expect(selectRules([general, own], 7, '2026-11-30T23:59:59.999Z').base?.payout_fixed).toBe(200);
    expect(selectRules([general, own], 7, '2027-01-01T00:00:00.000Z').base?.payout_fixed).toBe(200);
    expect(selectRules([general, own], 8, '2026-12-15T00:00:00.000Z').base?.payout_fixed).toBe(200);
  });

  it('win over a tier, and the conversion records the rule that won', () => {
    const tiers: Tier[] = [{ min_conversions: 10, payout_fixed: 250, payout_percent_bp: 0 }];
    const at = '2026-12-15T00:00:00.000Z';
    expect(chooseTerms({ rules: [general, own], publisherId: 7, at, tiers, before: 50 }).rule).toBe(
      `publisher:${own.id}`,
    );
    const tiered = chooseTerms({ rules: [general, own], publisherId: 8, at, tiers, before: 10 });
    expect(tiered.rule).toBe('tier:10');
    expect(tiered.base).toMatchObject({ revenue_fixed: 500, payout_fixed: 250 });
    expect(chooseTerms({ rules: [general], publisherId: 8, at, tiers, before: 9 }).rule).toBe('goal');
  });
});

describe('tiers', () => {
  const tierList = fc
    .array(
      fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 300 })),
      {
        maxLength: 6,
      },
    )
    .map((steps) => {
      let min = 0;
      let fixed = 0;
      let bp = 0;
      return steps.map(([dm, df, db]) => {
        min += dm;
        fixed += df;
        bp += db;
        return { min_conversions: min, payout_fixed: fixed, payout_percent_bp: bp };
      });
    });

  it('valid tiers never pay less for more volume', () => {
    fc.assert(
      fc.property(tierList, fc.nat(400), fc.nat(400), (tiers, a, b) => {
        expect(tierErrors(tiers)).toEqual({});
        const [low, high] = a <= b ? [a, b] : [b, a];
        const t1 = tierFor(tiers, low);
        const t2 = tierFor(tiers, high);
        expect(t2?.payout_fixed ?? 0).toBeGreaterThanOrEqual(t1?.payout_fixed ?? 0);
        expect(t2?.payout_percent_bp ?? 0).toBeGreaterThanOrEqual(t1?.payout_percent_bp ?? 0);
      }),
    );
  });

  it('refuse decreasing payouts and unordered thresholds, naming the field', () => {
    expect(
      tierErrors([
        { min_conversions: 10, payout_fixed: 300, payout_percent_bp: 0 },
        { min_conversions: 5, payout_fixed: 200, payout_percent_bp: 0 },
      ]),
    ).toEqual({
      'tiers.1.min_conversions': 'must be greater than the previous tier',
      'tiers.1.payout': expect.any(String),
    });
  });

  it('accepted against a base payout never pay less than the goal for any sale', () => {
    const base = fc.record({ payout_fixed: fc.nat(600), payout_percent_bp: fc.nat(400) });
    fc.assert(
      fc.property(tierList, base, fc.nat(1_000_000), fc.nat(400), (tiers, goal, amount, before) => {
        const tier = tierFor(tiers, before);
        const pays = (p: typeof goal) => p.payout_fixed + Math.round((amount * p.payout_percent_bp) / 10_000);
        if (Object.keys(tierErrors(tiers, goal)).length === 0 && tier) {
          expect(pays(tier)).toBeGreaterThanOrEqual(pays(goal));
        }
        // Tiers that reach the base in both parts are never refused for it.
        const lifted = tiers.map((t) => ({
          ...t,
          payout_fixed: t.payout_fixed + goal.payout_fixed,
          payout_percent_bp: t.payout_percent_bp + goal.payout_percent_bp,
        }));
        expect(tierErrors(lifted, goal)).toEqual({});
      }),
    );
  });

  it('count from the start of the month in the operator time zone', () => {
    const now = Date.parse('2026-12-01T03:00:00.000Z');
    expect(tierPeriodStart(now, 'UTC')).toBe('2026-12-01T00:00:00.000Z');
    // Still November 30 in New York (UTC-5).
    expect(tierPeriodStart(now, 'America/New_York')).toBe('2026-11-01T04:00:00.000Z');
    expect(tierPeriodStart(now, 'Asia/Kolkata')).toBe('2026-11-30T18:30:00.000Z');
  });
});

describe('time rules and fraud signals', () => {
  const offer = {
    min_seconds_to_convert: 10,
    max_seconds_to_convert: 3600,
    time_rule: 'flag' as const,
    hold_flagged: 0,
  };
  const clickedAt = Date.parse('2026-12-01T00:00:00.000Z');

  it('flag a conversion too soon or too late after the signed click time', () => {
    expect(checkConversionTime(offer, clickedAt, clickedAt + 9_999)).toBe('too_fast');
    expect(checkConversionTime(offer, clickedAt, clickedAt + 10_000)).toBeNull();
    expect(checkConversionTime(offer, clickedAt, clickedAt + 3_600_000)).toBeNull();
    expect(checkConversionTime(offer, clickedAt, clickedAt + 3_600_001)).toBe('too_slow');
    expect(checkConversionTime({}, clickedAt, clickedAt)).toBeNull();
  });

  it('reject with the reason when the offer says so, before the click row has landed', () => {
    const verdict = decideNewConversion({
      offer: { ...offer, time_rule: 'reject' },
      status: 'pending',
      click: { clickedAt, row: null },
      now: clickedAt + 1000,
    });
    expect(verdict).toEqual({ status: 'rejected', reason: 'too_fast', flags: ['too_fast'] });
  });

  it('flags bot clicks and datacenter ASNs, and holds them pending on a held offer', () => {
    const row = { is_bot: 1 as const, asn: 16509 };
    const held = decideNewConversion({
      offer: { ...offer, hold_flagged: 1 },
      status: 'approved',
      click: { clickedAt, row },
      now: clickedAt + 60_000,
    });
    expect(held).toEqual({ status: 'pending', reason: null, flags: ['bot_click', 'datacenter_asn'] });
    const open = decideNewConversion({ offer, status: 'approved', click: { clickedAt, row }, now: clickedAt + 60_000 });
    expect(open.status).toBe('approved');
    expect(isDatacenterAsn(3320)).toBe(false);
  });
});

describe('exchange rates', () => {
  it('converts exactly and rounds once, half away from zero, to the target minor unit', () => {
    const rate = (t: string) => {
      const r = parseRate(t);
      if (!r.ok) throw new Error(r.reason);
      return r.rate;
    };
    expect(convertAmount(1000, 'USD', 'EUR', rate('0.9217'))).toBe(922);
    expect(convertAmount(1999, 'JPY', 'EUR', rate('0.0061'))).toBe(1219);
    expect(convertAmount(1000, 'EUR', 'JPY', rate('162.5'))).toBe(1625);
    expect(convertAmount(1, 'EUR', 'USD', rate('0.5'))).toBe(1); // 0.005 -> 0.01
    expect(convertAmount(-1, 'EUR', 'USD', rate('0.5'))).toBe(-1);
    expect(parseRate('0').ok).toBe(false);
    expect(parseRate('1.50').ok && parseRate('1.50')).toMatchObject({ text: '1.5' });
  });

  it('is within half a minor unit of the exact value', () => {
    fc.assert(
      fc.property(fc.nat(10 ** 9), fc.integer({ min: 1, max: 10 ** 8 }), (amount, scaled) => {
        const text = (scaled / 10 ** 4).toFixed(4);
        const parsed = parseRate(text);
        if (!parsed.ok) return;
        const got = convertAmount(amount, 'EUR', 'USD', parsed.rate);
        const exact = (BigInt(amount) * BigInt(scaled)) as bigint;
        // |got*10^4 - exact| <= 10^4 / 2
        const diff = BigInt(got) * 10_000n - exact;
        expect(diff <= 5000n && diff >= -5000n).toBe(true);
      }),
    );
  });

  it('prices a percentage of a sale in another currency at the rate in force', () => {
    const sale = priceSale(
      { currency: 'USD', amount: '100.00' },
      {
        offerCurrency: 'EUR',
        goalKey: 'sale',
        rules: [rule({ revenue_percent_bp: 1000, payout_percent_bp: 500 })],
        publisherId: 1,
        exchangeRate: '0.9217',
      },
    );
    expect(sale).toMatchObject({
      currency: 'USD',
      amount: 10000,
      payout_currency: 'EUR',
      revenue: 922,
      payout: 461,
      exchange_rate: '0.9217',
    });
  });

  it('refuses a percent goal without an amount (400 amount_required) instead of storing 0.00', () => {
    const terms = { offerCurrency: 'EUR', goalKey: 'sale', rules: [rule({ payout_percent_bp: 500 })], publisherId: 1 };
    const error = (() => {
      try {
        priceSale({}, terms);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'amount_required', fields: { amount: expect.any(String) } });
  });
});

describe('money is never created or lost', () => {
  const terms: PricingTerms = {
    rule: 'goal',
    base: { revenue_fixed: 100, revenue_percent_bp: 1000, payout_fixed: 50, payout_percent_bp: 500 },
    groups: {},
  };
  const conversion = (amount: number, status: ConversionRow['status']): ConversionRow => ({
    id: 'cv_x',
    offer_id: 1,
    goal_id: 1,
    advertiser_id: 1,
    publisher_id: 1,
    click_id: null,
    click_time: null,
    order_id: null,
    dedupe_key: 'o:1',
    status,
    currency: 'EUR',
    amount,
    payout_currency: 'EUR',
    revenue: 100 + Math.round(amount / 10),
    payout: 50 + Math.round(amount / 20),
    voucher: null,
    description: null,
    products: null,
    sub1: null,
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    profile: 'admin',
    source: 'server',
    flags: null,
    created_at: '2026-12-01T00:00:00.000Z',
    updated_at: '2026-12-01T00:00:00.000Z',
  });
  const add = (into: Partial<Record<StatsColumn, number>>, delta: Partial<Record<StatsColumn, number>>) => {
    for (const [k, v] of Object.entries(delta) as [StatsColumn, number][]) into[k] = (into[k] ?? 0) + v;
  };
  const cents = fc.nat(10 ** 7);
  const step = fc.oneof(
    fc.record({ kind: fc.constant('adjust' as const), amount: cents }),
    fc.record({
      kind: fc.constant('status' as const),
      to: fc.constantFrom('approved' as const, 'rejected' as const, 'reversed' as const),
    }),
  );

  it('the rollup always equals what the conversion holds now, across adjustments and status moves', () => {
    fc.assert(
      fc.property(cents, fc.array(step, { maxLength: 8 }), (start, steps) => {
        let cv = conversion(start, 'pending');
        const rollup: Partial<Record<StatsColumn, number>> = {};
        add(rollup, statsContribution(cv.status, cv));
        let tick = 0;
        for (const s of steps) {
          if (s.kind === 'adjust') {
            if (cv.status !== 'pending' && cv.status !== 'approved') continue;
            const plan = planAdjustment(
              cv,
              { amount: (s.amount / 100).toFixed(2) },
              terms,
              `2026-12-02T00:00:${String(tick++ % 60).padStart(2, '0')}.000Z`,
            );
            add(rollup, plan.stats);
            cv = plan.after;
          } else {
            const allowed =
              (cv.status === 'pending' && s.to !== 'reversed') || (cv.status === 'approved' && s.to === 'reversed');
            if (!allowed) continue;
            add(rollup, statsMove(cv.status, s.to, cv));
            cv = { ...cv, status: s.to };
          }
        }
        const expected = statsContribution(cv.status, cv);
        for (const column of ['revenue_pending', 'revenue_approved', 'payout_pending', 'payout_approved'] as const) {
          expect(rollup[column] ?? 0).toBe(expected[column] ?? 0);
        }
        const counted = (['pending', 'approved', 'rejected', 'reversed'] as const).reduce(
          (n, c) => n + (rollup[c] ?? 0),
          0,
        );
        expect(counted).toBe(1);
      }),
    );
  });

  it('refuses to adjust a rejected or reversed conversion (409)', () => {
    expect(() => planAdjustment(conversion(1000, 'rejected'), { amount: '5.00' }, terms, 'x')).toThrow(
      /cannot be adjusted/,
    );
  });
});
