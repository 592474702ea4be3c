// /api/v1/conversions: list with filters (newest first, cursor pagination), read one with its
// events, and change its status (the same lifecycle and write path as advertiser postbacks).
import { Hono } from 'hono';
import * as z from 'zod';
import {
  type ConversionEventRow,
  type ConversionWithGoal,
  getConversion,
  listConversionEvents,
  listConversions,
} from '../db/conversions';
import { badRequest, notFound } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { jsonBody, parseWith } from '../lib/validate';
import { STATUSES } from '../postback/input';
import { afterCommit, changeConversionStatus } from '../postback/record';
import { decodeCursor, encodeCursor, pageQuery } from './pagination';
import { idParam } from './schemas';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A time filter bound: a UTC day ('2026-11-23') or an ISO 8601 timestamp. `from` is inclusive;
 * `to` is exclusive, except that a day given as `to` includes that whole day.
 */
export const timeBound = (edge: 'from' | 'to') =>
  z
    .string()
    .refine((v) => (DATE.test(v) || /^\d{4}-\d{2}-\d{2}T/.test(v)) && !Number.isNaN(Date.parse(v)), {
      message: 'must be a date (YYYY-MM-DD) or an ISO 8601 timestamp',
    })
    .transform((v) => {
      const ms = Date.parse(DATE.test(v) ? `${v}T00:00:00.000Z` : v);
      return new Date(DATE.test(v) && edge === 'to' ? ms + 86_400_000 : ms).toISOString();
    });

export const conversionListQuery = pageQuery.extend({
  status: z.enum(STATUSES).optional(),
  offer_id: idParam.optional(),
  publisher_id: idParam.optional(),
  advertiser_id: idParam.optional(),
  click_id: z.string().max(255).optional(),
  order_id: z.string().max(255).optional(),
  from: timeBound('from').optional(),
  to: timeBound('to').optional(),
});

export const statusChange = z
  .object({
    status: z.enum(STATUSES),
    reason: z.string().trim().max(500).optional(),
  })
  .strict();

/** A conversion id in a path; anything else names no conversion, so 404 (like pathId). */
function conversionId(text: string): string {
  if (!/^cv_[A-Za-z0-9_-]{1,64}$/.test(text)) throw notFound('Conversion');
  return text;
}

export function presentConversion(cv: ConversionWithGoal) {
  return {
    id: cv.id,
    offer_id: cv.offer_id,
    goal_id: cv.goal_id,
    event: cv.goal_key,
    advertiser_id: cv.advertiser_id,
    publisher_id: cv.publisher_id,
    click_id: cv.click_id,
    click_time: cv.click_time,
    order_id: cv.order_id,
    status: cv.status,
    amount: formatAmount(cv.amount, cv.currency),
    currency: cv.currency,
    revenue: formatAmount(cv.revenue, cv.payout_currency),
    payout: formatAmount(cv.payout, cv.payout_currency),
    payout_currency: cv.payout_currency,
    voucher: cv.voucher,
    description: cv.description,
    products: cv.products ? (JSON.parse(cv.products) as unknown[]) : [],
    sub1: cv.sub1,
    sub2: cv.sub2,
    sub3: cv.sub3,
    sub4: cv.sub4,
    sub5: cv.sub5,
    source: cv.source,
    flags: cv.flags ? (JSON.parse(cv.flags) as string[]) : [],
    created_at: cv.created_at,
    updated_at: cv.updated_at,
  };
}

export const presentEvent = (event: ConversionEventRow) => ({
  id: event.id,
  type: event.type,
  from_status: event.from_status,
  to_status: event.to_status,
  actor: event.actor,
  reason: event.reason,
  created_at: event.created_at,
  snapshot: JSON.parse(event.snapshot) as unknown,
});

/** The cursor of a conversions page: the (created_at, id) of its last row. */
function decodeConversionCursor(cursor: string | undefined) {
  const value = decodeCursor(cursor);
  if (value === undefined) return undefined;
  const [createdAt, id, ...rest] = typeof value === 'string' ? value.split('|') : [];
  if (!createdAt || !id || rest.length > 0)
    throw badRequest('Invalid cursor', { cursor: 'is not a cursor from this list' });
  return { created_at: createdAt, id };
}

export const conversionRoutes = new Hono<{ Bindings: Env }>();

conversionRoutes.get('/', async (c) => {
  const { limit, cursor, ...filters } = parseWith(conversionListQuery, c.req.query());
  const rows = await listConversions(c.env.DB, filters, decodeConversionCursor(cursor), limit + 1);
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return c.json({
    data: kept.map(presentConversion),
    next_cursor: rows.length > limit && last ? encodeCursor(`${last.created_at}|${last.id}`) : null,
  });
});

conversionRoutes.get('/:id', async (c) => {
  const id = conversionId(c.req.param('id'));
  const [cv, events] = await Promise.all([getConversion(c.env.DB, id), listConversionEvents(c.env.DB, id)]);
  if (!cv) throw notFound('Conversion');
  return c.json({ ...presentConversion(cv), events: events.map(presentEvent) });
});

/** Operator decision: approve, reject or reverse. Asking for the current status changes nothing. */
conversionRoutes.post('/:id/status', async (c) => {
  const id = conversionId(c.req.param('id'));
  const input = parseWith(statusChange, await jsonBody(c));
  const cv = await getConversion(c.env.DB, id);
  if (!cv) throw notFound('Conversion');
  const result = await changeConversionStatus(c.env.DB, cv, input.status, 'admin', input.reason ?? null, nowIso);
  afterCommit(c.env, c.executionCtx, result.committed);
  return c.json({
    ...presentConversion(result.conversion),
    changed: result.committed !== null,
    previous_status: result.previousStatus,
  });
});
