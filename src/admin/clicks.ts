// /api/v1/clicks: the click list (filters, newest first, cursor pagination) and the dispute
// view of one click: what its ID says (verified, no storage needed), the click row if the clicks
// consumer has written it, its conversions with their status history and deliveries, and the
// postback requests that named it, each cut for the caller (src/auth/money-view.ts).
import * as z from 'zod';
import { conversionFor, visibleTo } from '../auth/money-view';
import { clickIdKeys, verifyClickId } from '../click/click-id';
import { clickListCursor, listAllClicks } from '../clicks/list';
import type { ClickRow } from '../db/clicks';
import { type DisputeLimits, readClickDispute } from '../db/disputes';
import { ApiError } from '../lib/errors';
import { iso } from '../lib/time';
import { ApiRoutes, component, lazy, pathParam } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { conversionShapes, presentConversion, presentEvent } from './conversion-shapes';
import { deliveryShapes, presentDelivery } from './deliveries';
import { cursorTimeKey, page, pageQuery } from './pagination';
import { postbackLogShapes, presentPostbackLog } from './postbacks';
import { filters } from './schemas';

/** 'true' or 'false' in a query string (anything else is a 400 naming the field). */
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

const subFilter = (n: number) =>
  z.string().min(1, 'must not be empty').max(255).optional().describe(`Only clicks with exactly this sub${n}`);

/**
 * Filters of GET /api/v1/clicks. `unique` and `bot` are the flags the clicks consumer stored;
 * `country` is the two-letter code from request.cf; sub1..sub5 match exactly.
 */
export const clickListQuery = pageQuery.extend({
  offer_id: filters.offer_id(),
  publisher_id: filters.publisher_id(),
  from: filters.from(),
  to: filters.to(),
  unique: flag.optional().describe('true: only unique clicks; false: only repeats'),
  bot: flag.optional().describe('true: only bot clicks; false: only human ones'),
  country: z
    .string()
    .regex(/^[A-Za-z0-9]{2}$/, 'must be a two-letter country code')
    .transform((v) => v.toUpperCase())
    .optional()
    .describe('Only clicks from this two-letter country code'),
  sub1: subFilter(1),
  sub2: subFilter(2),
  sub3: subFilter(3),
  sub4: subFilter(4),
  sub5: subFilter(5),
});

export const clickShapes = lazy(() => {
  const { rowId, timestamp, subIds, creativeIds } = shapes();
  const { conversionShape, ConversionEvent } = conversionShapes();
  const { Delivery } = deliveryShapes();
  const { PostbackLogEntry } = postbackLogShapes();
  const Click = component(
    'Click',
    z.strictObject({
      click_id: z.string(),
      clicked_at: timestamp,
      offer_id: rowId,
      publisher_id: rowId,
      ...subIds,
      ...creativeIds,
      deep_link: z.string().nullable(),
      referrer: z.string().nullable(),
      search_engine: z.string().nullable(),
      search_phrase: z.string().nullable(),
      country: z.string().nullable().describe('Two-letter country code from Cloudflare'),
      region: z.string().nullable(),
      city: z.string().nullable(),
      colo: z.string().nullable().describe('Cloudflare data center that answered the click'),
      asn: z.int().nullable(),
      user_agent: z.string().nullable(),
      device: z.enum(['desktop', 'mobile', 'tablet', 'bot', 'unknown']),
      ip_prefix: z.string().nullable().describe('IPv4 /24 or IPv6 /48 network; the full address is never stored'),
      is_bot: z.boolean().describe('A known bot or link-preview agent'),
      is_unique: z
        .boolean()
        .describe(
          'No click of the same visitor reached this offer and publisher in the 24 hours before; bots never are',
        ),
    }),
  );
  const ClickConversion = component(
    'ClickConversion',
    z.strictObject({
      ...conversionShape,
      events: z.array(ConversionEvent).describe('Status history, oldest first'),
      deliveries: z
        .array(Delivery)
        .optional()
        .describe("Notifications sent for it, oldest first: the publisher's, never shown to an advertiser"),
      truncated: z
        .strictObject({ events: z.boolean(), deliveries: z.boolean().optional() })
        .describe('True where a list was cut at its limit'),
    }),
  );
  const ClickLookup = component(
    'ClickLookup',
    z
      .strictObject({
        click_id: z.string(),
        offer_id: rowId.describe('From the verified click ID'),
        publisher_id: rowId.describe('From the verified click ID'),
        clicked_at: timestamp,
        key_id: z.int().min(0).max(255).describe('Signing key id of the click ID'),
        landed: z.boolean().describe('Whether the clicks consumer has stored the click row yet'),
        click: Click.nullable(),
        conversions: z.array(ClickConversion).describe('Oldest first'),
        postbacks: z
          .array(PostbackLogEntry)
          .optional()
          .describe(
            "Postback requests that named the click or its conversions, newest first: the advertiser's log, never shown to a publisher",
          ),
        truncated: z
          .strictObject({ conversions: z.boolean(), postbacks: z.boolean().optional() })
          .describe('True where a list was cut at its limit'),
        limits: z
          .strictObject({
            conversions: z.int(),
            events_per_conversion: z.int(),
            deliveries_per_conversion: z.int().optional(),
            postbacks: z.int().optional(),
          })
          .describe('The caps of each list'),
      })
      .describe('Everything stored about one click, for settling disputes'),
  );
  return { Click, ClickPage: pageOf('Click', Click), ClickConversion, ClickLookup };
});

type Click = z.input<ReturnType<typeof clickShapes>['Click']>;

/** A click row as the admin API shows it: no visitor hash (a tracking key) or ingest batch. */
export function presentClick(row: ClickRow): Click {
  return {
    click_id: row.click_id,
    clicked_at: row.clicked_at,
    offer_id: row.offer_id,
    publisher_id: row.publisher_id,
    sub1: row.sub1,
    sub2: row.sub2,
    sub3: row.sub3,
    sub4: row.sub4,
    sub5: row.sub5,
    sub6: row.sub6 ?? null,
    creative_id: row.creative_id ?? null,
    creative_group_id: row.creative_group_id ?? null,
    deep_link: row.deep_link,
    referrer: row.referrer,
    search_engine: row.search_engine,
    search_phrase: row.search_phrase,
    country: row.country,
    region: row.region,
    city: row.city,
    colo: row.colo,
    asn: row.asn,
    user_agent: row.user_agent,
    // The column holds only device classes the click path writes.
    device: row.device as Click['device'],
    // The network only (IPv4 /24, IPv6 /48); the address itself is never stored.
    ip_prefix: row.ip_prefix,
    is_bot: row.is_bot === 1,
    is_unique: row.is_unique === 1,
  };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The cursor of a clicks page: "clicked_at|rowid" or "clicked_at|click_id" of its last row (src/clicks/list.ts). */
function clickCursor(cursor: string | undefined) {
  const value = cursorTimeKey(cursor, (time, key) => ISO_TIME.test(time) && clickListCursor(time, key) !== null);
  return value && (clickListCursor(value.time, value.key) ?? undefined);
}

/** Caps of the dispute view; a capped section says so in `truncated`. */
export const DISPUTE_LIMITS: DisputeLimits = {
  conversions: 50,
  events_per_conversion: 20,
  deliveries_per_conversion: 20,
  postbacks: 50,
};

/** Rows of a list read with a limit of one more: the kept rows and whether there were more. */
function capped<T>(rows: T[], limit: number): [T[], boolean] {
  return [rows.slice(0, limit), rows.length > limit];
}

/** Rows grouped by conversion id, in their order. */
function byConversion<T extends { conversion_id: string }>(rows: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(row.conversion_id);
    if (group) group.push(row);
    else groups.set(row.conversion_id, [row]);
  }
  return groups;
}

export const clickRoutes = new ApiRoutes('/api/v1/clicks', {
  name: 'Clicks',
  description: 'Recorded clicks and click ID lookup.',
});

clickRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listClicks',
    summary: 'List clicks',
    description:
      'Newest first. A click is listed once the clicks consumer has stored it (Queue batches, normally within seconds of the redirect).',
    auth: 'admin',
    query: clickListQuery,
    queryExample: { offer_id: 1, unique: 'true' },
    responses: { 200: { description: 'A page of clicks', schema: () => clickShapes().ClickPage } },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    const rows = await listAllClicks(c.env, filters, clickCursor(cursor), limit + 1);
    return { status: 200, body: page(rows, limit, (r) => r.cursor, presentClick) };
  },
);

const clickIdParam = pathParam({
  what: 'Click',
  schema: z.string(),
  description: 'A click ID as the landing page received it; one this tracker did not sign is a 404',
  example: 'AQEAAZexampleClickId',
  read: (text) => text,
});

clickRoutes.route(
  {
    method: 'get',
    path: '/{clickId}',
    operationId: 'getClick',
    summary: 'Look up a click ID',
    description:
      'Verifies the click ID (a forged or altered one is a 404 without any storage read) and shows what it says, the stored click once it has landed, the conversions attributed to it with their histories and deliveries, and the postback requests about it.',
    auth: 'admin',
    params: { clickId: clickIdParam },
    responses: {
      200: { description: 'The click', schema: () => clickShapes().ClickLookup },
      404: { description: 'click_not_found: not signed by this tracker, or altered' },
    },
  },
  async (c, { params: { clickId } }) => {
    const parts = await verifyClickId(await clickIdKeys(c.env), clickId);
    if (!parts) throw new ApiError(404, 'click_not_found', 'Unknown click ID: not issued by this tracker, or altered');
    const limits = DISPUTE_LIMITS;
    const rows = await readClickDispute(c.env, clickId, limits);
    const [conversions, moreConversions] = capped(rows.conversions, limits.conversions);
    const [postbacks, morePostbacks] = capped(rows.postbacks, limits.postbacks);
    const events = byConversion(rows.events);
    const deliveries = byConversion(rows.deliveries);
    const role = c.get('principal').role;
    return {
      status: 200,
      body: visibleTo(role, {
        click_id: clickId,
        offer_id: parts.offerId,
        publisher_id: parts.publisherId,
        clicked_at: iso(parts.clickedAt),
        key_id: parts.keyId,
        landed: rows.click !== null,
        click: rows.click ? presentClick(rows.click) : null,
        conversions: conversions.map((cv) => {
          const [history, moreEvents] = capped(events.get(cv.id) ?? [], limits.events_per_conversion);
          const [sent, moreDeliveries] = capped(deliveries.get(cv.id) ?? [], limits.deliveries_per_conversion);
          return conversionFor(role, {
            ...presentConversion(cv),
            events: history.map(presentEvent),
            deliveries: sent.map(presentDelivery),
            truncated: visibleTo(role, { events: moreEvents, deliveries: moreDeliveries }),
          });
        }),
        postbacks: postbacks.map(presentPostbackLog),
        truncated: visibleTo(role, { conversions: moreConversions, postbacks: morePostbacks }),
        limits: visibleTo(role, limits),
      }),
    };
  },
);
