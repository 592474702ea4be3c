// /api/v1/deliveries: the notification delivery log (newest first; attempt_count in lists, the
// attempts themselves in GET /:id), and resend of a finished delivery under the same id (the same webhook-id),
// or of a retrying one now rather than at its scheduled time.
import * as z from 'zod';
import { DELIVERY_STATUSES, type DeliveryRow, getDelivery, listDeliveries, reopenDelivery } from '../db/deliveries';
import { type AttemptRow, listAttempts } from '../db/delivery-attempts';
import { retryNow } from '../db/delivery-retry';
import { getEndpoint } from '../db/endpoints';
import { ApiError, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { sendDeliveryMessages } from '../notify/fanout';
import { ApiRoutes, component, lazy, pathParam } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { cursorTimeKey, page, pageQuery } from './pagination';
import { idParam } from './schemas';

export const deliveryQuery = pageQuery.extend({
  conversion_id: z.string().min(1).max(100).optional().describe('Only this conversion'),
  endpoint_id: idParam.optional().describe('Only this endpoint'),
  publisher_id: idParam.optional().describe("Only this publisher's endpoints (implied for a publisher key)"),
  status: z.enum(DELIVERY_STATUSES).optional().describe('Only this status'),
});

export const deliveryShapes = lazy(() => {
  const { rowId, timestamp, eventType } = shapes();
  const Delivery = component(
    'Delivery',
    z.strictObject({
      id: z.string(),
      webhook_id: z.string().describe('The webhook-id header of every attempt; the idempotency key'),
      event_id: z.string(),
      conversion_id: z.string(),
      endpoint_id: rowId,
      event_type: eventType,
      status: z.enum(DELIVERY_STATUSES),
      attempt_count: z.int().min(0),
      next_attempt_at: timestamp.nullable(),
      last_attempt_at: timestamp.nullable(),
      last_status_code: z.int().nullable(),
      last_error: z.string().nullable(),
      delivered_at: timestamp.nullable(),
      enqueued_at: timestamp.nullable(),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );
  const DeliveryAttempt = component(
    'DeliveryAttempt',
    z.strictObject({
      attempt: z.int().min(1),
      started_at: timestamp,
      request_method: z.enum(['GET', 'POST']),
      request_url: z.string(),
      status_code: z.int().nullable(),
      latency_ms: z.int().nullable(),
      response_snippet: z.string().nullable(),
      error: z.string().nullable(),
    }),
  );
  const DeliveryDetail = component(
    'DeliveryDetail',
    z.strictObject({ ...Delivery.shape, attempts: z.array(DeliveryAttempt).describe('Oldest first') }),
  );
  return { Delivery, DeliveryPage: pageOf('Delivery', Delivery), DeliveryAttempt, DeliveryDetail };
});

type Shapes = ReturnType<typeof deliveryShapes>;
type Delivery = z.input<Shapes['Delivery']>;
type DeliveryAttempt = z.input<Shapes['DeliveryAttempt']>;

export function presentDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    webhook_id: row.id,
    event_id: row.event_id,
    conversion_id: row.conversion_id,
    endpoint_id: row.endpoint_id,
    // The column holds only event types the fan-out wrote.
    event_type: row.event_type as Delivery['event_type'],
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

export const presentAttempt = (row: AttemptRow): DeliveryAttempt => ({
  attempt: row.attempt,
  started_at: row.started_at,
  request_method: row.request_method as DeliveryAttempt['request_method'],
  request_url: row.request_url,
  status_code: row.status_code,
  latency_ms: row.latency_ms,
  response_snippet: row.response_snippet,
  error: row.error,
});

const DELIVERY_ID = /^[A-Za-z0-9_-]{1,100}$/;

const deliveryId = pathParam({
  what: 'Delivery',
  schema: z.string().regex(DELIVERY_ID),
  description: 'Delivery id (dlv_...), the webhook-id publishers see. Any other form names no delivery (404).',
  example: 'dlv_7hK2pQ9sLm4n',
  read: (text) => (DELIVERY_ID.test(text) ? text : null),
});

export const deliveryRoutes = new ApiRoutes('/api/v1/deliveries', {
  name: 'Deliveries',
  description: 'The notification delivery log, and resend.',
});

deliveryRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listDeliveries',
    summary: 'List deliveries',
    description: 'Newest first.',
    auth: 'admin',
    query: deliveryQuery,
    queryExample: { status: 'dead' },
    responses: { 200: { description: 'A page of deliveries', schema: () => deliveryShapes().DeliveryPage } },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    // The cursor holds "created_at|id" of the last row of the previous page.
    const before = cursorTimeKey(cursor);
    const rows = await listDeliveries(
      c.env.DB,
      filters,
      before && { created_at: before.time, id: before.key },
      limit + 1,
    );
    return { status: 200, body: page(rows, limit, (r) => `${r.created_at}|${r.id}`, presentDelivery) };
  },
);

deliveryRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getDelivery',
    summary: 'Read a delivery with its attempts',
    auth: 'admin',
    params: { id: deliveryId },
    responses: {
      200: { description: 'The delivery and every attempt', schema: () => deliveryShapes().DeliveryDetail },
    },
  },
  async (c, { params: { id } }) => {
    const row = await getDelivery(c.env.DB, id);
    if (!row) throw notFound('Delivery');
    const attempts = await listAttempts(c.env.DB, id);
    return { status: 200, body: { ...presentDelivery(row), attempts: attempts.map(presentAttempt) } };
  },
);

deliveryRoutes.route(
  {
    method: 'post',
    path: '/{id}/resend',
    operationId: 'resendDelivery',
    summary: 'Resend a delivery',
    description:
      'Sends a delivered or dead delivery again through the Queue, with the same id (webhook-id) and payload; a retrying delivery waiting for its next attempt is sent now instead of at its scheduled time.',
    auth: 'admin',
    params: { id: deliveryId },
    responses: {
      202: { description: 'Reopened and queued', schema: () => deliveryShapes().Delivery },
      409: { description: 'endpoint_disabled, or delivery_in_progress (pending, or an attempt under way)' },
    },
  },
  async (c, { params: { id } }) => {
    const current = await getDelivery(c.env.DB, id);
    if (!current) throw notFound('Delivery');
    const endpoint = await getEndpoint(c.env.DB, current.endpoint_id);
    if (endpoint?.status !== 'active') {
      throw new ApiError(409, 'endpoint_disabled', 'The endpoint is disabled; enable it before resending');
    }
    const now = nowIso();
    const reopened =
      current.status === 'retrying' ? await retryNow(c.env.DB, id, now) : await reopenDelivery(c.env.DB, id, now);
    if (!reopened) {
      throw new ApiError(
        409,
        'delivery_in_progress',
        current.status === 'retrying'
          ? 'Delivery is being attempted right now; resend it once the attempt is recorded'
          : `Delivery is ${current.status}; only delivered, dead or retrying deliveries can be resent`,
      );
    }
    // If the Queue refuses now, the delivery stays pending and the cron's reconciliation sends it.
    await sendDeliveryMessages(c.env, [id]);
    return { status: 202, body: presentDelivery((await getDelivery(c.env.DB, id)) ?? reopened) };
  },
);
