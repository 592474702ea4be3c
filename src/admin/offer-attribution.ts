// The click-less attribution settings of an offer in the admin API: coupon_policy (who wins when
// a conversion carries a click and another publisher's coupon) and affiliate_channels (Awin's
// `channel` values that mean an affiliate won the sale). Input fields, the statement that stores
// them in the offer's own batch, and how they read back.
import * as z from 'zod';
import { COUPON_POLICIES, DEFAULT_AFFILIATE_CHANNELS, parseAffiliateChannels } from '../conversions/attribution-policy';
import { type OfferRow, updateOfferSettingsStatement } from '../db/offers';

const channelName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _.:-');

export const offerAttributionFields = {
  coupon_policy: z
    .enum(COUPON_POLICIES)
    .optional()
    .describe("Click and another publisher's coupon on one conversion: click_wins (default) or coupon_wins"),
  affiliate_channels: z
    .array(channelName)
    .min(1)
    .max(20)
    .nullable()
    .optional()
    .describe(
      'Values of a postback’s channel that mean an affiliate won the sale (besides affiliate); null: ["affiliate", "aff"]',
    ),
};

type Input = { [K in keyof typeof offerAttributionFields]?: z.output<(typeof offerAttributionFields)[K]> };

export const offerAttributionStatement = (db: D1Database, offer: { id: number } | 'inserted', input: Input) =>
  updateOfferSettingsStatement(db, offer, {
    coupon_policy: input.coupon_policy,
    affiliate_channels:
      input.affiliate_channels === undefined
        ? undefined
        : input.affiliate_channels === null
          ? null
          : JSON.stringify([...new Set(input.affiliate_channels.map((c) => c.toLowerCase()))]),
  });

export const offerAttributionShape = {
  coupon_policy: z.enum(COUPON_POLICIES).describe('Who wins when a click and another publisher’s coupon meet'),
  affiliate_channels: z
    .array(z.string())
    .describe('channel values that count as an affiliate sale (affiliate always does); any other: other_channel'),
};

export const presentOfferAttribution = (row: OfferRow) => ({
  coupon_policy: row.coupon_policy === 'coupon_wins' ? ('coupon_wins' as const) : ('click_wins' as const),
  affiliate_channels: [
    ...(row.affiliate_channels == null ? DEFAULT_AFFILIATE_CHANNELS : parseAffiliateChannels(row.affiliate_channels)),
  ],
});
