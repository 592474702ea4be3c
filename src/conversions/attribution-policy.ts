// Who earns a conversion when it carries a click, a coupon code, both, or neither, and whether
// another channel won the sale. Pure: every entry (postbacks, store integrations, the browser
// beacon) reads the claims and lets this decide, so they all decide alike.

export const COUPON_POLICIES = ['click_wins', 'coupon_wins'] as const;
export type CouponPolicy = (typeof COUPON_POLICIES)[number];

/** The reason of a sale another channel won: stored rejected, unpaid, unbilled, never notified, never capped. */
export const OTHER_CHANNEL = 'other_channel';

export const DEFAULT_AFFILIATE_CHANNELS: readonly string[] = ['affiliate', 'aff'];

export interface CouponClaim {
  code: string;
  publisherId: number;
  /** Validity window, ISO 8601 UTC; null = open on that side. starts_at inclusive, ends_at exclusive. */
  startsAt: string | null;
  endsAt: string | null;
}

export interface AttributionClaims {
  /** The publisher of a verified click inside the attribution window, or null. */
  click: { publisherId: number } | null;
  /** The coupon the conversion's code names on this offer (whatever its window), or null. */
  coupon: CouponClaim | null;
  policy: CouponPolicy;
  /** Conversion time, ISO 8601 UTC. */
  at: string;
}

export type AttributionDecision =
  | { winner: 'click'; publisherId: number; note: string | null }
  | { winner: 'coupon'; publisherId: number; code: string; note: string | null }
  /** No claim holds: the caller refuses the conversion with this reason. */
  | { winner: 'none'; reason: 'no_claim' | 'coupon_not_valid' };

/** Whether the coupon may be credited at `at`. */
export function couponValidAt(coupon: CouponClaim, at: string): boolean {
  const t = Date.parse(at);
  if (coupon.startsAt !== null && t < Date.parse(coupon.startsAt)) return false;
  if (coupon.endsAt !== null && t >= Date.parse(coupon.endsAt)) return false;
  return true;
}

export function decideAttribution(claims: AttributionClaims): AttributionDecision {
  const { click, coupon, policy } = claims;
  const couponHolds = coupon !== null && couponValidAt(coupon, claims.at);
  if (click === null) {
    if (coupon === null) return { winner: 'none', reason: 'no_claim' };
    if (!couponHolds) return { winner: 'none', reason: 'coupon_not_valid' };
    return { winner: 'coupon', publisherId: coupon.publisherId, code: coupon.code, note: null };
  }
  // A code outside its window, or the clicking publisher's own code, is no rival claim.
  if (!couponHolds || coupon.publisherId === click.publisherId) {
    return { winner: 'click', publisherId: click.publisherId, note: null };
  }
  if (policy === 'coupon_wins') {
    return {
      winner: 'coupon',
      publisherId: coupon.publisherId,
      code: coupon.code,
      note: `the click of publisher ${click.publisherId} lost to coupon ${coupon.code} (coupon_wins)`,
    };
  }
  return {
    winner: 'click',
    publisherId: click.publisherId,
    note: `coupon ${coupon.code} of publisher ${coupon.publisherId} lost to the click (click_wins)`,
  };
}

/**
 * Awin's `channel`: absent, `affiliate`, or one of the offer's affiliate channel names (compared without
 * regard to case), means an affiliate won the sale; any other value means another channel did.
 */
export function wonByOtherChannel(channel: string | undefined, affiliateChannels: readonly string[]): boolean {
  if (channel === undefined) return false;
  const value = channel.trim().toLowerCase();
  return value !== 'affiliate' && !affiliateChannels.some((name) => name.toLowerCase() === value);
}

/** The offer's affiliate channel names from their stored JSON (NULL: the default). */
export function parseAffiliateChannels(stored: string | null | undefined): readonly string[] {
  if (stored === null || stored === undefined) return DEFAULT_AFFILIATE_CHANNELS;
  try {
    const parsed: unknown = JSON.parse(stored);
    if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string')) return parsed;
  } catch {
    // A row this code did not write: the default rather than no affiliate channel at all.
  }
  return DEFAULT_AFFILIATE_CHANNELS;
}
