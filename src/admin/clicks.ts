// /api/v1/clicks: the click list (filters, newest first, cursor pagination) and the dispute
// view of one click: what its ID says (verified, no storage needed), the click row if the clicks
// consumer has written it, its conversions with their status history and deliveries, and the
// postback requests that named it.
import { Hono } from 'hono';
import * as z from 'zod';
import { clickIdKeys, verifyClickId } from '../click/click-id';
import { type ClickRow, listClicks } from '../db/clicks';
import { type DisputeLimits, readClickDispute } from '../db/disputes';
import { ApiError, badRequest } from '../lib/errors';
import { iso } from '../lib/time';
import { parseWith } from '../lib/validate';
import { presentConversion, presentEvent, timeBound } from './conversions';
import { presentDelivery } from './deliveries';
import { decodeCursor, encodeCursor, pageQuery } from './pagination';
import { presentPostbackLog } from './postbacks';
import { idParam } from './schemas';

/** 'true' or 'false' in a query string (anything else is a 400 naming the field). */
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

const subFilter = z.string().min(1, 'must not be empty').max(255).optional();

/**
 * Filters of GET /api/v1/clicks. `unique` and `bot` are the flags the clicks consumer stored;
 * `country` is the two-letter code from request.cf; sub1..sub5 match exactly.
 */
export const clickListQuery = pageQuery.extend({
  offer_id: idParam.optional(),
  publisher_id: idParam.optional(),
  from: timeBound('from').optional(),
  to: timeBound('to').optional(),
  unique: flag.optional(),
  bot: flag.optional(),
  country: z
    .string()
    .regex(/^[A-Za-z0-9]{2}$/, 'must be a two-letter country code')
    .transform((v) => v.toUpperCase())
    .optional(),
  sub1: subFilter,
  sub2: subFilter,
  sub3: subFilter,
  sub4: subFilter,
  sub5: subFilter,
});

/** A click row as the admin API shows it: no visitor hash (a tracking key) or ingest batch. */
export function presentClick(row: ClickRow) {
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
    device: row.device,
    // The network only (IPv4 /24, IPv6 /48); the address itself is never stored.
    ip_prefix: row.ip_prefix,
    is_bot: row.is_bot === 1,
    is_unique: row.is_unique === 1,
  };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The cursor of a clicks page: "clicked_at|rowid" of its last row; a foreign one is a 400. */
function decodeClickCursor(cursor: string | undefined) {
  const value = decodeCursor(cursor);
  if (value === undefined) return undefined;
  const [clickedAt, rowid, ...rest] = typeof value === 'string' ? value.split('|') : [];
  const id = Number(rowid);
  if (
    !clickedAt ||
    !ISO_TIME.test(clickedAt) ||
    !/^\d{1,16}$/.test(rowid ?? '') ||
    !Number.isSafeInteger(id) ||
    rest.length > 0
  ) {
    throw badRequest('Invalid cursor', { cursor: 'is not a cursor from this list' });
  }
  return { clicked_at: clickedAt, rowid: id };
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

export const clickRoutes = new Hono<{ Bindings: Env }>();

clickRoutes.get('/', async (c) => {
  const { limit, cursor, ...filters } = parseWith(clickListQuery, c.req.query());
  const rows = await listClicks(c.env.DB, filters, decodeClickCursor(cursor), limit + 1);
  const [kept, more] = capped(rows, limit);
  const last = kept[kept.length - 1];
  return c.json({
    data: kept.map(presentClick),
    next_cursor: more && last ? encodeCursor(`${last.clicked_at}|${last.rowid}`) : null,
  });
});

clickRoutes.get('/:clickId', async (c) => {
  const clickId = c.req.param('clickId');
  const parts = await verifyClickId(await clickIdKeys(c.env), clickId);
  if (!parts) throw new ApiError(404, 'click_not_found', 'Unknown click ID: not issued by this tracker, or altered');
  const limits = DISPUTE_LIMITS;
  const rows = await readClickDispute(c.env.DB, clickId, limits);
  const [conversions, moreConversions] = capped(rows.conversions, limits.conversions);
  const [postbacks, morePostbacks] = capped(rows.postbacks, limits.postbacks);
  const events = byConversion(rows.events);
  const deliveries = byConversion(rows.deliveries);
  return c.json({
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
      return {
        ...presentConversion(cv),
        events: history.map(presentEvent),
        deliveries: sent.map(presentDelivery),
        truncated: { events: moreEvents, deliveries: moreDeliveries },
      };
    }),
    postbacks: postbacks.map(presentPostbackLog),
    truncated: { conversions: moreConversions, postbacks: morePostbacks },
    limits,
  });
});
