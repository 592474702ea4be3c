// The click-vs-coupon decision and the channel rule (src/conversions/attribution-policy.ts),
// over every combination of claims, validity windows and policies.
import { describe, expect, it } from 'vitest';
import {
  type AttributionDecision,
  type CouponClaim,
  type CouponPolicy,
  couponValidAt,
  decideAttribution,
  parseAffiliateChannels,
  wonByOtherChannel,
} from '../../src/conversions/attribution-policy';

const AT = '2026-12-08T12:00:00.000Z';
const CLICKER = 3;
const COUPONER = 7;

type Window = 'open' | 'inside' | 'not_started' | 'ended' | 'starts_now' | 'ends_now';
const WINDOWS: Record<Window, Pick<CouponClaim, 'startsAt' | 'endsAt'>> = {
  open: { startsAt: null, endsAt: null },
  inside: { startsAt: '2026-12-01T00:00:00.000Z', endsAt: '2027-01-01T00:00:00.000Z' },
  not_started: { startsAt: '2026-12-08T12:00:00.001Z', endsAt: null },
  ended: { startsAt: null, endsAt: '2026-12-08T11:59:59.999Z' },
  // starts_at is inclusive, ends_at exclusive.
  starts_now: { startsAt: AT, endsAt: null },
  ends_now: { startsAt: null, endsAt: AT },
};
const VALID: Record<Window, boolean> = {
  open: true,
  inside: true,
  not_started: false,
  ended: false,
  starts_now: true,
  ends_now: false,
};

const coupon = (publisherId: number, window: Window): CouponClaim => ({
  code: 'SAVE10',
  publisherId,
  ...WINDOWS[window],
});

/** What the rule says, written out case by case. */
function expected(
  click: boolean,
  couponOf: 'none' | 'clicker' | 'other',
  window: Window,
  policy: CouponPolicy,
): AttributionDecision {
  const valid = couponOf !== 'none' && VALID[window];
  if (!click) {
    if (couponOf === 'none') return { winner: 'none', reason: 'no_claim' };
    if (!valid) return { winner: 'none', reason: 'coupon_not_valid' };
    const publisherId = couponOf === 'clicker' ? CLICKER : COUPONER;
    return { winner: 'coupon', publisherId, code: 'SAVE10', note: null };
  }
  if (couponOf !== 'other' || !valid) return { winner: 'click', publisherId: CLICKER, note: null };
  return policy === 'coupon_wins'
    ? {
        winner: 'coupon',
        publisherId: COUPONER,
        code: 'SAVE10',
        note: `the click of publisher ${CLICKER} lost to coupon SAVE10 (coupon_wins)`,
      }
    : {
        winner: 'click',
        publisherId: CLICKER,
        note: `coupon SAVE10 of publisher ${COUPONER} lost to the click (click_wins)`,
      };
}

describe('decideAttribution', () => {
  const cases: [boolean, 'none' | 'clicker' | 'other', Window, CouponPolicy][] = [];
  for (const click of [false, true])
    for (const couponOf of ['none', 'clicker', 'other'] as const)
      for (const window of Object.keys(WINDOWS) as Window[])
        for (const policy of ['click_wins', 'coupon_wins'] as const) cases.push([click, couponOf, window, policy]);

  it.each(cases)('click %s, coupon of %s (%s window), %s', (click, couponOf, window, policy) => {
    const decision = decideAttribution({
      click: click ? { publisherId: CLICKER } : null,
      coupon: couponOf === 'none' ? null : coupon(couponOf === 'clicker' ? CLICKER : COUPONER, window),
      policy,
      at: AT,
    });
    expect(decision).toEqual(expected(click, couponOf, window, policy));
  });

  it('covers every combination (2 × 3 × 6 × 2)', () => {
    expect(cases).toHaveLength(72);
  });

  it('names the losing claim in the note whichever rule decides', () => {
    const claims = { click: { publisherId: 1 }, coupon: { ...coupon(2, 'open'), code: 'Podcast5' }, at: AT };
    expect(decideAttribution({ ...claims, policy: 'click_wins' })).toMatchObject({
      note: 'coupon Podcast5 of publisher 2 lost to the click (click_wins)',
    });
    expect(decideAttribution({ ...claims, policy: 'coupon_wins' })).toMatchObject({
      note: 'the click of publisher 1 lost to coupon Podcast5 (coupon_wins)',
    });
  });
});

describe('couponValidAt', () => {
  it.each(Object.entries(VALID))('%s window: valid %s at the conversion time', (window, valid) => {
    expect(couponValidAt(coupon(1, window as Window), AT)).toBe(valid);
  });
});

describe('wonByOtherChannel', () => {
  const defaults = parseAffiliateChannels(null);
  it.each([
    [undefined, false],
    ['affiliate', false],
    ['Affiliate', false],
    ['aff', false],
    [' AFF ', false],
    ['direct', true],
    ['ppc', true],
    ['', true],
  ] as const)('channel %j: another channel %s (default names)', (channel, other) => {
    expect(wonByOtherChannel(channel, defaults)).toBe(other);
  });

  it("uses the offer's names, and affiliate always counts", () => {
    const names = parseAffiliateChannels('["partners","cashback"]');
    expect(wonByOtherChannel('Partners', names)).toBe(false);
    expect(wonByOtherChannel('cashback', names)).toBe(false);
    expect(wonByOtherChannel('affiliate', names)).toBe(false);
    expect(wonByOtherChannel('aff', names)).toBe(true);
  });

  it('reads a stored value it did not write as the default', () => {
    expect(parseAffiliateChannels('not json')).toEqual(['affiliate', 'aff']);
    expect(parseAffiliateChannels('[1,2]')).toEqual(['affiliate', 'aff']);
    expect(parseAffiliateChannels(undefined)).toEqual(['affiliate', 'aff']);
  });
});
