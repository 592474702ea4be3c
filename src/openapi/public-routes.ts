// Declarations of the routes no admin router serves: the tracking links, advertiser postbacks
// (postback-routes.ts), the root and the documentation itself. The click query states the click
// route's limits; postback parameters come from the schema that parses them.
import * as z from 'zod';
import { idParam } from '../admin/schemas';
import { BROWSER_TAG, browserOperations } from '../browser/openapi';
import { SUB_ID_NAMES } from '../click/sub-ids';
import { canonicalProfile, hasOffersProfile, tradeTrackerProfile } from '../postback/profiles';
import { component, type DeclaredOperation, lazy, pathParam } from './operation';
import { error, POSTBACK_TAG, postbackOperations, postbackResponses, postbackResult } from './postback-routes';

export const PUBLIC_TAGS = {
  click: { name: 'Tracking links', description: 'The redirects publishers share. Public.' },
  postback: POSTBACK_TAG,
  browser: BROWSER_TAG,
  docs: {
    name: 'Documentation',
    description:
      'The service index, this document and its HTML rendering. Public: they describe shapes, never data or secrets.',
  },
} as const;

/** Whose name each sub ID alias is (src/click/sub-ids.ts lists them in precedence order). */
const aliasNetwork = (name: string) =>
  name.startsWith('aff_sub') ? 'TUNE' : name.startsWith('clickref') ? 'Awin' : 'impact';

/**
 * The click route reads its query by hand on the hot path (no zod there); this states its
 * checks from the same name table (at most 255 characters, no control characters; creative ids
 * whole numbers), and the tests hold the two together.
 */
function clickQuery() {
  const subText = (description: string) =>
    z
      .string()
      .max(255)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: sub IDs with control characters are refused
      .regex(/^[^\u0000-\u001f\u007f]*$/)
      .optional()
      .describe(description);
  const shape: Record<string, z.ZodType> = {};
  SUB_ID_NAMES.forEach(([canonical, ...aliases], i) => {
    if (!canonical) return;
    shape[canonical] = subText(
      `Publisher sub ID ${i + 1} (at most 255 characters, no control characters); echoed in notifications`,
    );
    for (const alias of aliases) {
      shape[alias] = subText(
        `${aliasNetwork(alias)} name for ${canonical}: read only when ${canonical} and the names listed before this one are absent or empty`,
      );
    }
  });
  const creativeId = (what: string) =>
    z
      .string()
      .regex(/^(0|[1-9]\d{0,14})$/)
      .optional()
      .describe(`${what}: a whole number (0 or more), stored with the click and its conversions`);
  return z.object({
    ...shape,
    creative_id: creativeId('Creative (banner) id'),
    creative_group_id: creativeId('Creative group id'),
    url: z
      .string()
      .optional()
      .describe(
        "Deep link: a page on one of the offer's deep_link_hosts (anything else is a 400, never an open redirect)",
      ),
  });
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
        'A sub ID too long or with control characters, or a creative id that is not a whole number (invalid_request, naming the parameter as sent), or a deep link to a host the offer does not allow (invalid_deep_link)',
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
  // TUNE's own server postback paths: the HasOffers profile, so only the host changes.
  ...postbackOperations(
    '/aff_lsr',
    hasOffersProfile,
    'postbackTuneLsr',
    'Report a conversion, TUNE drop-in path',
    'TUNE’s /aff_lsr, read exactly as /postback/hasoffers.',
  ),
  ...postbackOperations(
    '/aff_goal',
    hasOffersProfile,
    'postbackTuneGoal',
    'Report a goal conversion, TUNE drop-in path',
    'TUNE’s /aff_goal, read exactly as /postback/hasoffers (goal_id names the goal; a=lsr and other TUNE parameters are ignored).',
  ),
  ...rootOperations(),
  ...browserOperations(),
]);

const serviceIndex = lazy(() =>
  component(
    'ServiceIndex',
    z.strictObject({ service: z.literal('clickhop'), docs: z.literal('/api/docs').describe('The API docs page') }),
  ),
);

/** GET / answers either; which one depends on s2s in the query. */
const rootAnswer = lazy(() =>
  component(
    'ServiceIndexOrPostbackResult',
    z
      .union([serviceIndex(), postbackResult()])
      .describe('ServiceIndex without s2s in the query; PostbackResult for a TradeTracker callback'),
  ),
);

const TRADETRACKER_ROOT =
  'TradeTracker calls back on the root (`/?s2s=1&...`), so an advertiser moving from TradeTracker changes only the host. The goal comes from the host: lead when its first label is tl, sale when it is ts; on any other host sale when tam is present, else lead. Parameters as /postback/tradetracker/lead and /sale.';

/**
 * The root: the service index, and TradeTracker's callbacks when the query carries s2s (the
 * postback routes take `/` only then; OpenAPI keys operations by path, not by query).
 */
function rootOperations(): DeclaredOperation[] {
  const [get, post] = postbackOperations('/', tradeTrackerProfile('sale'), 'root', 'TradeTracker callback');
  if (!get?.query || !post) throw new Error('postbackOperations gives GET and POST');
  const s2s = z.string().describe('Marks a TradeTracker callback (any value; TradeTracker sends 1)');
  return [
    {
      ...get,
      operationId: 'serviceIndex',
      summary: 'Name the service and its docs; with s2s, a TradeTracker callback',
      description: `Without s2s in the query: the service name and where its docs are (no key needed). With s2s: a conversion report. ${TRADETRACKER_ROOT} ${get.description}`,
      query: get.query.extend({ s2s: s2s.optional() }),
      queryExample: { s2s: '1', ...get.queryExample },
      responses: {
        ...postbackResponses,
        200: {
          description: 'The service index; with s2s, the conversion recorded or a replay of one (duplicate: true)',
          schema: rootAnswer,
        },
      },
    },
    {
      ...post,
      operationId: 'tradeTrackerRootPost',
      summary: 'TradeTracker callback (POST)',
      description: `${TRADETRACKER_ROOT} ${post.description}`,
      query: z.object({ s2s }),
      queryExample: { s2s: '1' },
      responses: {
        ...postbackResponses,
        404: error(`Without s2s in the query: no such route (not_found). ${postbackResponses[404]?.description}`),
      },
    },
  ];
}

/** The documentation routes (served by api-docs.ts). */
export const documentationOperations = lazy((): DeclaredOperation[] => [
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
