// Declarations of the advertiser postback routes: each profile's parameters come from the
// schema that parses them (postbackInput) under the profile's names, so the document lists
// exactly what src/postback/ reads.
import * as z from 'zod';
import { postbackInput } from '../postback/input';
import { CANONICAL_FIELDS, COMMON_ALIASES, type Profile } from '../postback/profiles';
import { component, type DeclaredOperation, lazy, type ResponseSpec } from './operation';
import { errorShape, shapes } from './shapes';

export const POSTBACK_TAG = {
  name: 'Advertiser postbacks',
  description:
    'Server-to-server conversion reports from advertisers: the canonical URL, the HasOffers and TradeTracker compatible profiles, and their drop-in paths (TUNE’s /aff_lsr and /aff_goal, TradeTracker’s callbacks on the root). Authenticated by the advertiser postback key (or, for an advertiser with keyless_ip_auth on, by its IP allow-list).',
};

/** What each canonical postback parameter means; the schema itself is postbackInput's. */
const POSTBACK_FIELDS: Record<string, string> = {
  click_id: 'The click ID the landing page received (transaction-ID protocol)',
  event: "Goal key (lead, sale, ...); omitted = the offer's default goal",
  order_id: "Advertiser's transaction ID; the deduplication key",
  amount: 'Sale amount as a decimal string, e.g. 26.09',
  currency: "ISO 4217 code of amount and products; omitted = the offer's currency",
  status:
    "New conversion: pending, approved or rejected (default: the goal's). Sent again for a known conversion, changes its status (pending -> approved | rejected, approved -> reversed)",
  voucher:
    "Voucher or coupon code (aliases coupon, coupon_code on every path). Without a click ID, a Clickhop coupon of the advertiser's offers credits its publisher; with another publisher's click, the offer's coupon_policy decides",
  description: 'Free text shown to the publisher',
  products: 'JSON array of {sku, name, unit_price, quantity, category, commission_group}',
  offer_id:
    'Affiliate-ID protocol (no click ID): the offer, with publisher_id; or, with order_id and status, a status update by order',
  publisher_id: 'Affiliate-ID protocol: the publisher',
  sub1: 'Affiliate-ID protocol: publisher sub ID 1',
  sub2: 'Affiliate-ID protocol: publisher sub ID 2',
  sub3: 'Affiliate-ID protocol: publisher sub ID 3',
  sub4: 'Affiliate-ID protocol: publisher sub ID 4',
  sub5: 'Affiliate-ID protocol: publisher sub ID 5',
  sub6: 'Affiliate-ID protocol: publisher sub ID 6',
  reason: 'Note stored with a status change',
  channel:
    "Awin's de-duplication parameter: affiliate (or one of the offer's affiliate_channels) when an affiliate won the sale; any other value stores it rejected with reason other_channel, paying nothing",
};

const PROFILE_LABEL: Record<Profile['name'], string> = {
  canonical: 'Clickhop',
  hasoffers: 'HasOffers',
  tradetracker: 'TradeTracker',
};

/** TradeTracker sends these too; pid may pick a commission group, the rest are ignored. */
const tradeTrackerExtras = () => ({
  descrMerchant: z.string().optional().describe('Kept in the postback log only (merchant-only in TradeTracker)'),
  cid: z.string().optional().describe('TradeTracker campaign ID; accepted and ignored (the click ID names the offer)'),
  pid: z
    .string()
    .optional()
    .describe(
      "TradeTracker product ID: when it is the code of one of the offer's commission groups and no products are sent, the sale is one line in that group, priced by its rule; otherwise ignored",
    ),
  tgi: z.string().optional().describe('Accepted and ignored'),
  s2s: z.string().optional().describe('Accepted and ignored'),
  qty: z.string().optional().describe('Accepted and ignored'),
  event: z.string().optional().describe('Ignored: the path (or on the root, the host) decides the goal'),
});

/**
 * A profile's parameters: the canonical ones (every profile accepts them) and the profile's own
 * names, each with postbackInput's schema of the field it maps onto. The key is a security scheme.
 */
export function postbackParams(profile: Profile): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const field of CANONICAL_FIELDS) {
    if (field === 'key' || profile.fixed[field] !== undefined) continue;
    const meaning = POSTBACK_FIELDS[field] ?? field;
    shape[field] = postbackInput.shape[field].describe(meaning);
    for (const alias of COMMON_ALIASES[field] ?? []) {
      shape[alias] = postbackInput.shape[field].describe(`Alias of ${field}`);
    }
    for (const alias of profile.aliases[field] ?? []) {
      shape[alias] = postbackInput.shape[field].describe(
        `${PROFILE_LABEL[profile.name]} name for ${field}: ${meaning}`,
      );
    }
  }
  return z.object(profile.name === 'tradetracker' ? { ...shape, ...tradeTrackerExtras() } : shape);
}

export const postbackResult = lazy(() => {
  const { money, currencyCode, timestamp, conversionStatus } = shapes();
  return component(
    'PostbackResult',
    z.strictObject({
      status: z.literal('ok'),
      conversion_id: z.string(),
      duplicate: z.boolean().describe('True for a replay: nothing was changed'),
      outcome: z.enum(['created', 'duplicate', 'updated']),
      event: z.string().describe('Goal key'),
      conversion_status: conversionStatus,
      previous_status: conversionStatus.optional().describe('Present when the postback changed the status'),
      click_id: z.string().nullable(),
      order_id: z.string().nullable(),
      amount: money,
      currency: currencyCode,
      revenue: money.describe('What the advertiser owes for the conversion, in payout_currency'),
      payout_currency: currencyCode.describe(
        "The offer's currency, that revenue is stated in (named as in the conversions API). The publisher's payout is never part of this answer",
      ),
      source: z.enum(['server', 'browser', 'claim']).describe('Where the conversion came from'),
      attribution: z
        .enum(['click', 'affiliate', 'coupon', 'view_through'])
        .describe('How the publisher was chosen (docs/coupons.md)'),
      attribution_note: z
        .string()
        .optional()
        .describe('The claim that lost a click-vs-coupon conflict, when there was one'),
      reason: z
        .string()
        .optional()
        .describe('Why a rule set the status (other_channel, cap_reached, too_fast, ...), when one did'),
      created_at: timestamp,
    }),
  );
});

/** An error answer of the usual shape. */
export const error = (description: string, extra: Partial<ResponseSpec> = {}): ResponseSpec => ({
  description,
  schema: errorShape,
  ...extra,
});

export const postbackResponses: Record<number, ResponseSpec> = {
  200: { description: 'Conversion recorded, or a replay of one (duplicate: true)', schema: postbackResult },
  400: error('Invalid or conflicting parameters (fields name the parameters as sent)'),
  401: error('Missing or unknown postback key (unauthorized)', {
    headers: { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } },
  }),
  403: error(
    'ip_not_allowed (address not on the allow-list), offer_not_owned (another advertiser’s offer), affiliate_id_protocol_disabled',
  ),
  404: error('click_not_found, offer_not_found, publisher_not_found, goal_not_found, conversion_not_found'),
  405: error('HEAD is refused (method_not_allowed): link checkers must not convert'),
  409: error('illegal_status_change, or conflict (a concurrent change; retry)'),
  413: error('Body larger than 64 KiB'),
  415: error('Body of another media type'),
  422: error('outside_attribution_window: the click is older than the offer allows'),
};

export const POSTBACK_DESCRIPTION =
  'Parameters are read from the query string and, for POST, from the body (JSON object, form or multipart); both count equally, and one parameter with two different values is a 400. Empty values count as absent; unknown parameters are ignored and logged. In a JSON body numbers and booleans are read as text and products may be the array itself. A replay of the same conversion answers 200 with the same conversion_id and duplicate: true. Every request is recorded in the postback log.';

/** The GET and POST operations of one postback path read with `profile`. */
export function postbackOperations(
  path: string,
  profile: Profile,
  id: string,
  intro: string,
  note = '',
): DeclaredOperation[] {
  const params = postbackParams(profile);
  const example: Record<string, string> =
    profile.name === 'hasoffers'
      ? { transaction_id: 'AQEAAZexampleClickId', adv_sub: 'SO-88812', amount: '80.00', goal_id: 'sale' }
      : profile.name === 'tradetracker'
        ? { data: 'AQEAAZexampleClickId', tid: '123456', tam: '26.09', currency: 'EUR', descrAffiliate: 'new player' }
        : { click_id: 'AQEAAZexampleClickId', event: 'sale', order_id: 'SO-88812', amount: '26.09', currency: 'GBP' };
  const description = note ? `${note} ${POSTBACK_DESCRIPTION}` : POSTBACK_DESCRIPTION;
  const common = {
    path,
    tag: POSTBACK_TAG.name,
    auth: profile.name === 'hasoffers' ? ('hasoffers' as const) : ('postback' as const),
    responses: postbackResponses,
  };
  return [
    {
      ...common,
      method: 'get',
      operationId: `${id}Get`,
      summary: `${intro} (GET)`,
      description,
      query: params,
      queryExample: example,
    },
    {
      ...common,
      method: 'post',
      operationId: `${id}Post`,
      summary: `${intro} (POST)`,
      description: `${description} The query string takes the same parameters as the body.`,
      body: {
        schema: params,
        required: false,
        component: `${PROFILE_LABEL[profile.name]}PostbackParameters`,
        example,
        media: 'postback',
        description: 'Parameters as a form, multipart or JSON object; may be empty when the query string carries them.',
      },
    },
  ];
}
