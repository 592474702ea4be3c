// Declarations of the routes no admin router serves: the tracking link, advertiser postbacks
// and the documentation itself. Postback parameters come from the schema that parses them
// (postbackInput) under each profile's names; the click query from the click route's limits.
import * as z from 'zod';
import { idParam } from '../admin/schemas';
import { postbackInput } from '../postback/input';
import {
  CANONICAL_FIELDS,
  canonicalProfile,
  hasOffersProfile,
  type Profile,
  tradeTrackerProfile,
} from '../postback/profiles';
import { component, type DeclaredOperation, lazy, pathParam, type ResponseSpec } from './operation';
import { errorShape, shapes } from './shapes';

export const PUBLIC_TAGS = {
  click: { name: 'Tracking links', description: 'The redirect publishers share. Public.' },
  postback: {
    name: 'Advertiser postbacks',
    description:
      'Server-to-server conversion reports from advertisers: the canonical URL and the HasOffers and TradeTracker compatible profiles. Authenticated by the advertiser postback key (or, keyless, by the IP allow-list).',
  },
  docs: {
    name: 'Documentation',
    description: 'This document and its HTML rendering. Public: they describe shapes, never data or secrets.',
  },
} as const;

/**
 * The click route reads its query by hand on the hot path (no zod there); this states its
 * checks (at most 255 characters, no control characters), and the tests hold the two together.
 */
function clickQuery() {
  const subText = (n: number, extra = '') =>
    z
      .string()
      .max(255)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: sub IDs with control characters are refused
      .regex(/^[^\u0000-\u001f\u007f]*$/)
      .optional()
      .describe(`Publisher sub ID ${n}${extra}`);
  return z.object({
    sub1: subText(1, ' (at most 255 characters, no control characters); echoed in notifications'),
    sub2: subText(2),
    sub3: subText(3),
    sub4: subText(4),
    sub5: subText(5),
    url: z
      .string()
      .optional()
      .describe(
        "Deep link: a page on one of the offer's deep_link_hosts (anything else is a 400, never an open redirect)",
      ),
  });
}

/** What each canonical postback parameter means; the schema itself is postbackInput's. */
const POSTBACK_FIELDS: Record<string, string> = {
  click_id: 'The click ID the landing page received (transaction-ID protocol)',
  event: "Goal key (lead, sale, ...); omitted = the offer's default goal",
  order_id: "Advertiser's transaction ID; the deduplication key",
  amount: 'Sale amount as a decimal string, e.g. 26.09',
  currency: "ISO 4217 code of amount and products; omitted = the offer's currency",
  status:
    "New conversion: pending, approved or rejected (default: the goal's). Sent again for a known conversion, changes its status (pending -> approved | rejected, approved -> reversed)",
  voucher: 'Voucher or coupon code',
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
  reason: 'Note stored with a status change',
};

const PROFILE_LABEL: Record<Profile['name'], string> = {
  canonical: 'Clickhop',
  hasoffers: 'HasOffers',
  tradetracker: 'TradeTracker',
};

/** TradeTracker sends these too; they are accepted and ignored (see src/postback/profiles.ts). */
const tradeTrackerExtras = () => ({
  descrMerchant: z.string().optional().describe('Kept in the postback log only (merchant-only in TradeTracker)'),
  cid: z.string().optional().describe('TradeTracker campaign ID; accepted and ignored (the click ID names the offer)'),
  pid: z.string().optional().describe('TradeTracker product ID; accepted and ignored'),
  tgi: z.string().optional().describe('Accepted and ignored'),
  s2s: z.string().optional().describe('Accepted and ignored'),
  qty: z.string().optional().describe('Accepted and ignored'),
  event: z.string().optional().describe('Ignored: the path decides the goal'),
});

/**
 * A profile's parameters: the canonical ones (every profile accepts them) and the profile's own
 * names, each with postbackInput's schema of the field it maps onto. The key is a security scheme.
 */
function postbackParams(profile: Profile): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const field of CANONICAL_FIELDS) {
    if (field === 'key' || profile.fixed[field] !== undefined) continue;
    const meaning = POSTBACK_FIELDS[field] ?? field;
    shape[field] = postbackInput.shape[field].describe(meaning);
    for (const alias of profile.aliases[field] ?? []) {
      shape[alias] = postbackInput.shape[field].describe(
        `${PROFILE_LABEL[profile.name]} name for ${field}: ${meaning}`,
      );
    }
  }
  return z.object(profile.name === 'tradetracker' ? { ...shape, ...tradeTrackerExtras() } : shape);
}

const publicShapes = lazy(() => {
  const { money, currencyCode, timestamp, conversionStatus } = shapes();
  const PostbackResult = component(
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
      revenue: money,
      payout: money,
      payout_currency: currencyCode,
      created_at: timestamp,
    }),
  );
  const ServiceIndex = component(
    'ServiceIndex',
    z.strictObject({ service: z.literal('clickhop'), docs: z.literal('/api/docs').describe('The API docs page') }),
  );
  return { PostbackResult, ServiceIndex };
});

const error = (description: string, extra: Partial<ResponseSpec> = {}): ResponseSpec => ({
  description,
  schema: errorShape,
  ...extra,
});

const postbackResponses: Record<number, ResponseSpec> = {
  200: {
    description: 'Conversion recorded, or a replay of one (duplicate: true)',
    schema: () => publicShapes().PostbackResult,
  },
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

const POSTBACK_DESCRIPTION =
  'Parameters are read from the query string and, for POST, from the body (JSON object, form or multipart); both count equally, and one parameter with two different values is a 400. Empty values count as absent; unknown parameters are ignored and logged. In a JSON body numbers and booleans are read as text and products may be the array itself. A replay of the same conversion answers 200 with the same conversion_id and duplicate: true. Every request is recorded in the postback log.';

function postbackOperations(path: string, profile: Profile, id: string, intro: string): DeclaredOperation[] {
  const params = postbackParams(profile);
  const example: Record<string, string> =
    profile.name === 'hasoffers'
      ? { transaction_id: 'AQEAAZexampleClickId', adv_sub: 'SO-88812', amount: '80.00', goal_id: 'sale' }
      : profile.name === 'tradetracker'
        ? { data: 'AQEAAZexampleClickId', tid: '123456', tam: '26.09', currency: 'EUR', descrAffiliate: 'new player' }
        : { click_id: 'AQEAAZexampleClickId', event: 'sale', order_id: 'SO-88812', amount: '26.09', currency: 'GBP' };
  const common = {
    path,
    tag: PUBLIC_TAGS.postback.name,
    auth: profile.name === 'hasoffers' ? ('hasoffers' as const) : ('postback' as const),
    responses: postbackResponses,
  };
  return [
    {
      ...common,
      method: 'get',
      operationId: `${id}Get`,
      summary: `${intro} (GET)`,
      description: POSTBACK_DESCRIPTION,
      query: params,
      queryExample: example,
    },
    {
      ...common,
      method: 'post',
      operationId: `${id}Post`,
      summary: `${intro} (POST)`,
      description: `${POSTBACK_DESCRIPTION} The query string takes the same parameters as the body.`,
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

const routeId = (what: string) =>
  pathParam({ what, schema: idParam, description: `${what} id`, example: 1, read: (t) => t });

/** The tracking link and the postback routes, in the order the docs show them. */
export const publicOperations = lazy((): DeclaredOperation[] => [
  {
    method: 'get',
    path: '/c/{offerId}/{publisherId}',
    operationId: 'click',
    tag: PUBLIC_TAGS.click.name,
    summary: 'Follow a tracking link',
    description:
      'Answers 302 to the landing URL with a signed click ID in it and records the click after the response. HEAD gets the same answer without counting a click; known link-preview bots are counted and flagged as bots. Errors are JSON, or a short HTML page when Accept names text/html.',
    auth: 'none',
    params: { offerId: routeId('Offer'), publisherId: { ...routeId('Publisher'), example: 2 } },
    query: clickQuery(),
    queryExample: { sub1: 'newsletter-42' },
    responses: {
      302: {
        description: "Redirect to the landing URL (or to the offer's fallback URL while it is unavailable)",
        headers: {
          Location: { description: 'Landing URL with the click ID', schema: { type: 'string' } },
          'Cache-Control': { description: 'no-store', schema: { type: 'string', const: 'no-store' } },
          'Referrer-Policy': { description: 'no-referrer', schema: { type: 'string', const: 'no-referrer' } },
        },
      },
      400: error(
        'A sub ID too long or with control characters (invalid_request), or a deep link to a host the offer does not allow (invalid_deep_link)',
        { html: 'also' },
      ),
      404: error(
        'Unknown or paused offer or publisher (offer_not_found, publisher_not_found); a private offer the publisher is not approved for (offer_not_available) or a cap reached (offer_capped) with no fallback',
        { html: 'also' },
      ),
    },
  },
  {
    method: 'get',
    path: '/s/{smartLinkId}/{publisherId}',
    operationId: 'smartLinkClick',
    tag: PUBLIC_TAGS.click.name,
    summary: 'Follow a smart link',
    description:
      'Picks one of the smart link’s offers by weight among those that are active, open to the publisher, not capped and matching the visitor’s country (request.cf) and device (user agent), then answers exactly as /c/{offerId}/{publisherId}.',
    auth: 'none',
    params: { smartLinkId: routeId('Smart link'), publisherId: { ...routeId('Publisher'), example: 2 } },
    query: clickQuery(),
    responses: {
      302: { description: 'Redirect to the chosen offer’s landing URL with a signed click ID' },
      400: error('As for /c/{offerId}/{publisherId}', { html: 'also' }),
      404: error(
        'Unknown smart link (smart_link_not_found), publisher (publisher_not_found), or no eligible offer (no_eligible_offer)',
        {
          html: 'also',
        },
      ),
    },
  },
  ...postbackOperations('/postback', canonicalProfile, 'postback', 'Report a conversion'),
  ...postbackOperations(
    '/postback/hasoffers',
    hasOffersProfile,
    'postbackHasOffers',
    'Report a conversion, HasOffers names',
  ),
  ...postbackOperations(
    '/postback/tradetracker/lead',
    tradeTrackerProfile('lead'),
    'postbackTradeTrackerLead',
    'Report a lead, TradeTracker names',
  ),
  ...postbackOperations(
    '/postback/tradetracker/sale',
    tradeTrackerProfile('sale'),
    'postbackTradeTrackerSale',
    'Report a sale, TradeTracker names',
  ),
]);

/** The service index and the documentation routes (served by app.ts and api-docs.ts). */
export const documentationOperations = lazy((): DeclaredOperation[] => [
  {
    method: 'get',
    path: '/',
    operationId: 'serviceIndex',
    tag: PUBLIC_TAGS.docs.name,
    summary: 'Name the service and where its docs are',
    auth: 'none',
    responses: {
      200: { description: 'Service name and docs page', schema: () => publicShapes().ServiceIndex },
    },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApiDocument',
    tag: PUBLIC_TAGS.docs.name,
    summary: 'This OpenAPI document',
    auth: 'none',
    responses: {
      200: {
        description: 'OpenAPI 3.1 document; servers names the origin it was fetched from',
        json: { type: 'object' },
      },
    },
  },
  {
    method: 'get',
    path: '/api/docs',
    operationId: 'apiDocs',
    tag: PUBLIC_TAGS.docs.name,
    summary: 'This document as an HTML page',
    auth: 'none',
    responses: { 200: { description: 'HTML page', html: 'only' } },
  },
]);
