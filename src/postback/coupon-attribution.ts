// Coupon codes in attribution: the conversion's voucher is looked up among the advertiser's
// codes and the offer's coupon_policy decides against the click (src/conversions/
// attribution-policy.ts). Used by postbacks and store integrations alike.

import { type CouponClaim, type CouponPolicy, decideAttribution } from '../conversions/attribution-policy';
import type { AdvertiserRow } from '../db/advertisers';
import { type CouponRow, couponsByCode } from '../db/coupons';
import { ApiError, badRequest } from '../lib/errors';
import { iso } from '../lib/time';
import { ownedOffer, type Target } from './attribution';
import type { PostbackInput } from './input';
import type { MappedParams } from './profiles';
import type { PostbackReads } from './reads';

const claimOf = (row: CouponRow): CouponClaim => ({
  code: row.code,
  publisherId: row.publisher_id,
  startsAt: row.starts_at,
  endsAt: row.ends_at,
});

const policyOf = (offer: { coupon_policy?: string | null }): CouponPolicy =>
  offer.coupon_policy === 'coupon_wins' ? 'coupon_wins' : 'click_wins';

/** A click target, or the coupon's when the conversion also names another publisher's code that wins. */
export async function withCoupon(
  reads: PostbackReads,
  target: Extract<Target, { kind: 'click' }>,
  input: PostbackInput,
  now: number,
): Promise<Target> {
  if (input.voucher === undefined) return target;
  const [row] = await couponsByCode(reads.env.DB, input.voucher, {
    advertiser_id: target.offer.advertiser_id,
    offer_id: target.offer.id,
  });
  const decision = decideAttribution({
    click: { publisherId: target.publisherId },
    coupon: row ? claimOf(row) : null,
    policy: policyOf(target.offer),
    at: iso(now),
  });
  if (decision.winner === 'coupon') {
    return {
      kind: 'coupon',
      offer: target.offer,
      publisherId: decision.publisherId,
      code: decision.code,
      attributionNote: decision.note,
    };
  }
  return decision.winner === 'click' ? { ...target, attributionNote: decision.note } : target;
}

/**
 * The coupon target of a conversion without a click ID, or null when no code matches and the
 * request may still be a status update by offer_id + order_id.
 */
export async function couponTarget(
  reads: PostbackReads,
  advertiser: AdvertiserRow,
  input: PostbackInput & { voucher: string },
  names: MappedParams['names'],
  now: number,
  seen: { offer_id?: number },
): Promise<Target | null> {
  const field = names.voucher ?? 'voucher';
  const rows = await couponsByCode(reads.env.DB, input.voucher, {
    advertiser_id: advertiser.id,
    offer_id: input.offer_id,
  });
  const statusUpdate = input.offer_id !== undefined && input.order_id !== undefined;
  if (rows.length === 0) {
    if (statusUpdate) return null;
    throw new ApiError(404, 'coupon_not_found', `No coupon ${input.voucher} on this advertiser's offers`, {
      [field]: 'is not a coupon code of any of your offers',
    });
  }
  if (rows.length > 1) {
    throw badRequest('The code is a coupon of several offers: send offer_id', {
      [names.offer_id ?? 'offer_id']: `is required: one of ${rows.map((r) => r.offer_id).join(', ')}`,
    });
  }
  const row = rows[0] as CouponRow;
  seen.offer_id = row.offer_id;
  const offer = ownedOffer(await reads.offer(row.offer_id), advertiser);
  const decision = decideAttribution({ click: null, coupon: claimOf(row), policy: policyOf(offer), at: iso(now) });
  if (decision.winner !== 'coupon') {
    if (statusUpdate) return null;
    const message = `Coupon ${row.code} is not valid at the conversion time`;
    throw new ApiError(422, 'coupon_not_valid', message, { [field]: message });
  }
  return { kind: 'coupon', offer, publisherId: decision.publisherId, code: decision.code, attributionNote: null };
}
