// /api/v1/deliveries: the notification delivery log (newest first; attempt_count in lists, the
// attempts themselves in GET /:id), and resend of a finished delivery under the same id (the same webhook-id).
import { Hono } from 'hono';
import * as z from 'zod';
import { ApiError, badRequest, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { parseWith } from '../lib/validate';
import { sendDeliveryMessages } from '../notify/fanout';
import {
  type AttemptRow,
  type DeliveryRow,
  getDelivery,
  getEndpoint,
  listAttempts,
  listDeliveries,
  reopenDelivery,
} from '../notify/store';
import { decodeCursor, page, pageQuery } from './pagination';
import { idParam } from './schemas';

export const deliveryQuery = pageQuery.extend({
  conversion_id: z.string().min(1).max(100).optional(),
  endpoint_id: idParam.optional(),
  status: z.enum(['pending', 'retrying', 'delivered', 'dead']).optional(),
});

/** A delivery id in a path; anything else names no delivery, so 404 (like pathId). */
function deliveryId(text: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(text)) throw notFound('Delivery');
  return text;
}

export function presentDelivery(row: DeliveryRow) {
  return {
    id: row.id,
    webhook_id: row.id,
    event_id: row.event_id,
    conversion_id: row.conversion_id,
    endpoint_id: row.endpoint_id,
    event_type: row.event_type,
    status: row.status,
    attempt_count: row.attempts,
    next_attempt_at: row.next_attempt_at,
    last_attempt_at: row.last_attempt_at,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    delivered_at: row.delivered_at,
    enqueued_at: row.enqueued_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export const presentAttempt = (row: AttemptRow) => ({
  attempt: row.attempt,
  started_at: row.started_at,
  request_method: row.request_method,
  request_url: row.request_url,
  status_code: row.status_code,
  latency_ms: row.latency_ms,
  response_snippet: row.response_snippet,
  error: row.error,
});

/** The cursor holds "created_at|id" of the last row of the previous page; a foreign one is a 400. */
function parseCursor(cursor: string | undefined) {
  const value = decodeCursor(cursor);
  if (value === undefined) return undefined;
  const bar = typeof value === 'string' ? value.indexOf('|') : -1;
  if (typeof value !== 'string' || bar < 0) {
    throw badRequest('Invalid cursor', { cursor: 'is not a cursor from this list' });
  }
  return { created_at: value.slice(0, bar), id: value.slice(bar + 1) };
}

export const deliveryRoutes = new Hono<{ Bindings: Env }>();

deliveryRoutes.get('/', async (c) => {
  const query = parseWith(deliveryQuery, c.req.query());
  const rows = await listDeliveries(
    c.env.DB,
    { conversion_id: query.conversion_id, endpoint_id: query.endpoint_id, status: query.status },
    parseCursor(query.cursor),
    query.limit + 1,
  );
  return c.json(page(rows, query.limit, (r) => `${r.created_at}|${r.id}`, presentDelivery));
});

deliveryRoutes.get('/:id', async (c) => {
  const id = deliveryId(c.req.param('id'));
  const row = await getDelivery(c.env.DB, id);
  if (!row) throw notFound('Delivery');
  const attempts = await listAttempts(c.env.DB, id);
  return c.json({ ...presentDelivery(row), attempts: attempts.map(presentAttempt) });
});

/** A new attempt now (through the Queue) of a delivered or dead delivery, same id and payload. */
deliveryRoutes.post('/:id/resend', async (c) => {
  const id = deliveryId(c.req.param('id'));
  const current = await getDelivery(c.env.DB, id);
  if (!current) throw notFound('Delivery');
  const endpoint = await getEndpoint(c.env.DB, current.endpoint_id);
  if (endpoint?.status !== 'active') {
    throw new ApiError(409, 'endpoint_disabled', 'The endpoint is disabled; enable it before resending');
  }
  const reopened = await reopenDelivery(c.env.DB, id, nowIso());
  if (!reopened) {
    throw new ApiError(
      409,
      'delivery_in_progress',
      `Delivery is ${current.status}; only delivered or dead deliveries can be resent`,
    );
  }
  // If the Queue refuses now, the delivery stays pending and the cron's reconciliation sends it.
  await sendDeliveryMessages(c.env, [id]);
  return c.json(presentDelivery((await getDelivery(c.env.DB, id)) ?? reopened), 202);
});
