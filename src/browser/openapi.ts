// Declarations of the browser-facing routes (src/browser/index.ts) for the OpenAPI document,
// beside the tracking links and postbacks (src/openapi/public-routes.ts). None answers an error to
// a browser; what happened to a conversion is in the postback log.
import * as z from 'zod';
import { idParam } from '../admin/schemas';
import type { DeclaredOperation } from '../openapi/operation';
import { pathParam } from '../openapi/operation';
import { postbackInput } from '../postback/input';

export const BROWSER_TAG = {
  name: 'Browser tracking',
  description:
    'For advertisers who cannot call /postback: the tag /t.js and its beacon, the conversion pixel, impressions with view-through, and TUNE’s browser-side paths (docs/browser-tracking.md). Public; conversions count only for offers with browser_tracking on.',
};

const fields = () => ({
  offer_id: z.string().optional().describe('The offer (checked against the click ID)'),
  goal: postbackInput.shape.event.describe("Goal key (lead, sale, ...); omitted = the offer's default goal"),
  order_id: postbackInput.shape.order_id.describe('Order ID: deduplicates across browser and server conversions'),
  amount: postbackInput.shape.amount.describe('Sale amount as a decimal string'),
  currency: z.string().max(3).optional().describe("ISO 4217 code; omitted = the offer's currency"),
  voucher: postbackInput.shape.voucher.describe('Voucher or coupon code (aliases coupon, coupon_code)'),
  click_id: postbackInput.shape.click_id.describe(
    'The click ID; omitted = the ch_cid cookie (the tag’s, or the tracking domain’s set by the redirect)',
  ),
});

const GIF = {
  description: 'A 1x1 transparent GIF (43 bytes, image/gif), whatever happened',
  headers: { 'Cache-Control': { description: 'no-store', schema: { type: 'string', const: 'no-store' } } },
} as const;

const RECORDING =
  'The conversion goes through the same path as /postback (signed click ID, attribution window, dedup by order ID across server and browser conversions, caps, rules, notifications) with source "browser"; a status cannot be sent. An offer without browser_tracking, a bad or altered click ID, more than 3 browser conversions of one click and goal, or bad input are logged in the postback log and ignored.';

const routeId = (what: string) =>
  pathParam({ what, schema: idParam, description: `${what} id`, example: 1, read: (t) => t });

export const browserOperations = (): DeclaredOperation[] => [
  {
    method: 'get',
    path: '/t.js',
    operationId: 'browserTag',
    tag: BROWSER_TAG.name,
    summary: 'The tag (JavaScript, under 3 KB gzipped)',
    description:
      'Keeps the click ID of the landing URL (parameter from data-param, default click_id) in a first-party cookie ch_cid and localStorage on the page’s domain, and defines clickhop("conversion", {...}), which sends POST /b/conversion by sendBeacon. Cacheable: an ETag (304 on If-None-Match), public for an hour; with ?v=<version> immutable for a year.',
    auth: 'none',
    query: z.object({ v: z.string().max(32).optional().describe('The version the tag’s ETag names: pins it') }),
    responses: {
      200: {
        description: 'The script (text/javascript)',
        headers: {
          ETag: { description: 'The version of the tag', schema: { type: 'string' } },
          'Cache-Control': { description: 'public, max-age=3600 (immutable with ?v=)', schema: { type: 'string' } },
        },
      },
      304: { description: 'Not modified (If-None-Match named this version)' },
    },
  },
  {
    method: 'post',
    path: '/b/conversion',
    operationId: 'browserConversion',
    tag: BROWSER_TAG.name,
    summary: 'Report a conversion from the browser (the tag’s beacon)',
    description: `A form, JSON, or JSON sent as text/plain; at most 64 KiB and 100 parameters. Answers 204 always, with Access-Control-Allow-Origin: * and no credentials (OPTIONS answers the preflight of a JSON fetch alike). Without a click ID, a valid ch_vid view cookie of the offer within its view_through_hours attributes the conversion to the view (attribution view_through, outside caps). ${RECORDING}`,
    auth: 'none',
    body: {
      schema: z.object(fields()),
      required: false,
      media: 'postback',
      example: { offer_id: '1', goal: 'sale', order_id: 'SO-1', amount: '42.50', currency: 'EUR', click_id: 'AQEA...' },
      description: 'What clickhop("conversion", {...}) was given, plus the kept click ID',
    },
    responses: { 204: { description: 'Always, whatever happened (see the postback log)' } },
  },
  {
    method: 'get',
    path: '/px',
    operationId: 'conversionPixel',
    tag: BROWSER_TAG.name,
    summary: 'The conversion pixel',
    description: `An <img> on the conversion page. The conversion is recorded before the GIF is sent, so none is lost. ${RECORDING}`,
    auth: 'none',
    query: z.object(fields()),
    queryExample: { offer_id: '1', goal: 'sale', order_id: 'SO-1', amount: '42.50', currency: 'EUR' },
    responses: { 200: GIF },
  },
  {
    method: 'get',
    path: '/px.html',
    operationId: 'conversionPixelFrame',
    tag: BROWSER_TAG.name,
    summary: 'The conversion pixel as an iframe',
    description: `The same as /px, answered with an empty HTML page. ${RECORDING}`,
    auth: 'none',
    query: z.object(fields()),
    responses: { 200: { description: 'An empty page, whatever happened', html: 'only' } },
  },
  {
    method: 'get',
    path: '/aff_l',
    operationId: 'tuneConversionPixel',
    tag: BROWSER_TAG.name,
    summary: 'The conversion pixel, TUNE names',
    description: `TUNE’s /aff_l, read as /px: transaction_id is the click ID, adv_sub the order ID, goal_id the goal. ${RECORDING}`,
    auth: 'none',
    query: z.object({
      offer_id: z.string().optional().describe('The offer'),
      transaction_id: postbackInput.shape.click_id.describe('TUNE name for click_id'),
      adv_sub: postbackInput.shape.order_id.describe('TUNE name for order_id'),
      amount: postbackInput.shape.amount.describe('Sale amount'),
      goal_id: postbackInput.shape.event.describe('TUNE name for goal'),
    }),
    responses: { 200: GIF },
  },
  {
    method: 'get',
    path: '/i/{offerId}/{publisherId}',
    operationId: 'impression',
    tag: BROWSER_TAG.name,
    summary: 'Count an impression',
    description:
      'Counts one impression in the rollups (reports’ impressions; no row per impression; bots and unknown or paused offers and publishers not counted). For an offer with view_through_hours > 0 sets ch_vid, a signed view cookie (HttpOnly; Secure; SameSite=None) for that many hours.',
    auth: 'none',
    params: { offerId: routeId('Offer'), publisherId: { ...routeId('Publisher'), example: 2 } },
    responses: { 200: GIF },
  },
  {
    method: 'get',
    path: '/aff_i',
    operationId: 'tuneImpression',
    tag: BROWSER_TAG.name,
    summary: 'Count an impression, TUNE names',
    description: 'TUNE’s impression pixel, answered as /i/{offer_id}/{aff_id}.',
    auth: 'none',
    query: z.object({
      offer_id: z.string().optional().describe('The offer'),
      aff_id: z.string().optional().describe('TUNE name for the publisher'),
    }),
    responses: { 200: GIF },
  },
  {
    method: 'get',
    path: '/aff_c',
    operationId: 'tuneClick',
    tag: BROWSER_TAG.name,
    summary: 'Follow a tracking link, TUNE names',
    description:
      'TUNE’s publisher link /aff_c?offer_id=&aff_id=&aff_sub..aff_sub5=&url=, answered exactly as /c/{offer_id}/{aff_id} (302 with a signed click ID, errors as there).',
    auth: 'none',
    query: z.object({
      offer_id: z.string().optional().describe('The offer'),
      aff_id: z.string().optional().describe('The publisher'),
      aff_sub: z.string().max(255).optional().describe('Sub ID 1 (aff_sub2..aff_sub5 likewise)'),
      url: z.string().optional().describe("Deep link on one of the offer's deep_link_hosts"),
    }),
    responses: {
      302: { description: 'Redirect to the landing URL with the click ID' },
      400: { description: 'As for /c/{offerId}/{publisherId}', html: 'also' },
      404: { description: 'As for /c/{offerId}/{publisherId}', html: 'also' },
    },
  },
];
