// Which offer, publisher and click a postback is about. The transaction-ID protocol trusts the
// signed click ID alone (offer, publisher and click time come out of it, no storage read), and
// joins the click row when the clicks consumer has already written it. The affiliate-ID
// protocol (offer_id + publisher_id) works only for offers that allow it.

import type { AdvertiserRow } from '../db/advertisers';
import type { ClickRow } from '../db/clicks';
import type { OfferRow } from '../db/offers';
import { ApiError, badRequest } from '../lib/errors';
import { DAY_MS } from '../lib/time';
import { couponTarget, withCoupon } from './coupon-attribution';
import type { PostbackInput } from './input';
import type { MappedParams } from './profiles';
import type { PostbackReads } from './reads';

export type Target =
  | {
      kind: 'click';
      offer: OfferRow;
      publisherId: number;
      clickId: string;
      clickedAt: number;
      click: ClickRow | null;
      /** A rival coupon that lost to the click (attribution-policy.ts). */
      attributionNote?: string | null;
    }
  | { kind: 'affiliate'; offer: OfferRow; publisherId: number }
  /** Credited to the publisher of the coupon code the conversion carries (no click, or the click lost). */
  | { kind: 'coupon'; offer: OfferRow; publisherId: number; code: string; attributionNote: string | null }
  /** offer_id + order_id only: a status update of a conversion that already exists. */
  | { kind: 'order'; offer: OfferRow; orderId: string };

/** Click IDs minted this far in the future (clock skew between locations) are still fine. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export type WindowCheck = 'inside' | 'expired' | 'future';

/** A click converts within `windowDays` × 24 h of its click time, both ends included. */
export function checkAttributionWindow(clickedAt: number, windowDays: number, now: number): WindowCheck {
  if (clickedAt > now + FUTURE_TOLERANCE_MS) return 'future';
  return now - clickedAt <= windowDays * DAY_MS ? 'inside' : 'expired';
}

export async function resolveTarget(
  reads: PostbackReads,
  advertiser: AdvertiserRow,
  input: PostbackInput,
  names: MappedParams['names'],
  now: number,
  /** Filled as soon as the offer is known, so a refusal can still be logged against it. */
  seen: { offer_id?: number } = {},
): Promise<Target> {
  const name = (field: keyof MappedParams['names']) => names[field] ?? field;
  if (input.click_id !== undefined) {
    const parts = await reads.verifiedClick(input.click_id);
    if (!parts) {
      throw new ApiError(404, 'click_not_found', 'Unknown click ID: it was not issued by this tracker or was altered', {
        [name('click_id')]: 'unknown or altered click ID',
      });
    }
    const mismatch: Record<string, string> = {};
    if (input.offer_id !== undefined && input.offer_id !== parts.offerId) {
      mismatch[name('offer_id')] = 'does not match the click ID';
    }
    if (input.publisher_id !== undefined && input.publisher_id !== parts.publisherId) {
      mismatch[name('publisher_id')] = 'does not match the click ID';
    }
    seen.offer_id = parts.offerId;
    if (Object.keys(mismatch).length > 0) throw badRequest('Parameters contradict the click ID', mismatch);
    const [offer, click, publisher] = await Promise.all([
      reads.offer(parts.offerId),
      reads.click(input.click_id),
      reads.publisher(parts.publisherId),
    ]);
    const owned = ownedOffer(offer, advertiser);
    if (!publisher) throw publisherNotFound();
    const window = checkAttributionWindow(parts.clickedAt, owned.attribution_window_days, now);
    if (window !== 'inside') {
      const message =
        window === 'expired'
          ? `The click is older than the offer's attribution window of ${owned.attribution_window_days} days`
          : 'The click time is in the future';
      throw new ApiError(422, 'outside_attribution_window', message, { [name('click_id')]: message });
    }
    const target: Target = {
      kind: 'click',
      offer: owned,
      publisherId: parts.publisherId,
      clickId: input.click_id,
      clickedAt: parts.clickedAt,
      click,
    };
    return withCoupon(reads, target, input, now);
  }

  // No click ID: a coupon code (and no publisher_id) credits the code's publisher.
  if (input.voucher !== undefined && input.publisher_id === undefined) {
    const byCoupon = await couponTarget(reads, advertiser, { ...input, voucher: input.voucher }, names, now, seen);
    if (byCoupon) return byCoupon;
  }

  if (input.offer_id === undefined) {
    throw badRequest('click_id is required (or offer_id with publisher_id, where the offer allows it)', {
      [name('click_id')]: 'is required',
    });
  }
  seen.offer_id = input.offer_id;
  const offer = ownedOffer(await reads.offer(input.offer_id), advertiser);
  if (input.publisher_id === undefined) {
    if (input.order_id !== undefined) return { kind: 'order', offer, orderId: input.order_id };
    throw badRequest('publisher_id is required with offer_id (or send click_id)', {
      [name('publisher_id')]: 'is required with offer_id',
    });
  }
  if (offer.allow_publisher_postback !== 1) {
    throw new ApiError(
      403,
      'affiliate_id_protocol_disabled',
      'This offer accepts postbacks by click ID only (offer_id + publisher_id is not enabled for it)',
      { [name('offer_id')]: 'does not accept offer_id + publisher_id postbacks' },
    );
  }
  if (!(await reads.publisher(input.publisher_id))) throw publisherNotFound();
  return { kind: 'affiliate', offer, publisherId: input.publisher_id };
}

export function ownedOffer(offer: OfferRow | null, advertiser: AdvertiserRow): OfferRow {
  if (!offer) throw new ApiError(404, 'offer_not_found', 'Unknown offer');
  if (offer.advertiser_id !== advertiser.id) {
    throw new ApiError(403, 'offer_not_owned', "This click or offer belongs to another advertiser's offer");
  }
  return offer;
}

const publisherNotFound = () => new ApiError(404, 'publisher_not_found', 'Unknown publisher');
