// The row of a new conversion, from what attribution found and the priced sale. Pure but for its
// random id; whoever reported it (postback today, the portal later) supplies the parts.
import type { ConversionRow } from '../db/conversions';
import type { GoalRow, OfferRow } from '../db/offers';
import { randomId } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { iso } from '../lib/time';
import type { Sale } from './sale';
import { type ConversionStatus, INITIAL_STATUSES } from './status';

export interface NewConversion {
  offer: Pick<OfferRow, 'id' | 'advertiser_id'>;
  goal: Pick<GoalRow, 'id'>;
  publisherId: number;
  /** The attributed click (its id and time from the signed click ID), or null. */
  click: { id: string; clickedAt: number } | null;
  orderId: string | null;
  dedupeKey: string;
  status: ConversionStatus;
  sale: Sale;
  voucher: string | null;
  description: string | null;
  /** sub1..sub6 */
  subs: readonly (string | null | undefined)[];
  /** The attributed click's creative ids (Awin's bannerId and groupId), when it had any. */
  creative?: { id: number | null | undefined; groupId: number | null | undefined };
  /** Who reported it: a postback profile name, or an integration ('stripe', 'shopify'). */
  profile: string;
  /** Where it came from: 'server' (default), 'browser' (the tag or the pixel), 'claim'. */
  source?: string;
  /** How the publisher was chosen (attribution-policy.ts) and the claim that lost, if any. */
  attribution?: string;
  attributionNote?: string | null;
  now: string;
  /** Fraud and time-rule flags (rules.ts), and why a rule set the status. */
  flags?: readonly string[];
  reason?: string | null;
}

/** Refuses a status a conversion may not start in; `field` is the name the sender used. */
export function checkInitialStatus(status: ConversionStatus, field = 'status'): void {
  if (INITIAL_STATUSES.includes(status)) return;
  throw new ApiError(409, 'illegal_status_change', `A new conversion cannot start as ${status}`, {
    [field]: `must be one of ${INITIAL_STATUSES.join(', ')} for a new conversion`,
  });
}

export function buildConversion(input: NewConversion): ConversionRow {
  checkInitialStatus(input.status);
  const { subs } = input;
  return {
    id: randomId('cv_'),
    offer_id: input.offer.id,
    goal_id: input.goal.id,
    advertiser_id: input.offer.advertiser_id,
    publisher_id: input.publisherId,
    click_id: input.click?.id ?? null,
    click_time: input.click ? iso(input.click.clickedAt) : null,
    order_id: input.orderId,
    dedupe_key: input.dedupeKey,
    status: input.status,
    ...input.sale,
    voucher: input.voucher,
    description: input.description,
    sub1: subs[0] ?? null,
    sub2: subs[1] ?? null,
    sub3: subs[2] ?? null,
    sub4: subs[3] ?? null,
    sub5: subs[4] ?? null,
    sub6: subs[5] ?? null,
    creative_id: input.creative?.id ?? null,
    creative_group_id: input.creative?.groupId ?? null,
    profile: input.profile,
    source: input.source ?? 'server',
    attribution: input.attribution ?? (input.click ? 'click' : 'affiliate'),
    attribution_note: input.attributionNote ?? null,
    flags: input.flags && input.flags.length > 0 ? JSON.stringify(input.flags) : null,
    reason: input.reason ?? null,
    created_at: input.now,
    updated_at: input.now,
  };
}
