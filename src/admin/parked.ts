// /api/v1/parked: queue messages that reached a dead end (src/parked), oldest failure first, and
// their retry. Operator only: a parked body may hold any party's clicks.
import * as z from 'zod';
import { listParked, PARKED_REASONS, PARKED_STATUSES, type ParkedRow } from '../db/parked';
import { ApiRoutes, component, lazy, pathParam } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { SOURCE_QUEUES } from '../parked/queues';
import { RETRY_OUTCOMES, retryParked } from '../parked/retry';
import { cursorTimeKey, page, pageQuery } from './pagination';

const PARKED_ID = /^pkd_[A-Za-z0-9_-]{16}$/;

export const parkedQuery = pageQuery.extend({
  queue: z.enum(SOURCE_QUEUES).optional().describe('Only messages of this queue'),
  status: z.enum(PARKED_STATUSES).optional().describe('parked: waiting for a retry; retried: sent back to its queue'),
});

export const parkedShapes = lazy(() => {
  const { timestamp } = shapes();
  const ParkedMessage = component(
    'ParkedMessage',
    z.strictObject({
      id: z.string(),
      queue: z.enum(SOURCE_QUEUES).describe('The queue the message came from and goes back to on retry'),
      body: z.string().describe('The message body as sent: JSON text, a string, or base64 bytes (body_encoding)'),
      body_encoding: z.enum(['json', 'text', 'bytes']),
      reason: z
        .enum(PARKED_REASONS)
        .describe(
          'retries_exhausted: from the dead-letter queue; undecodable: no consumer can read it (not retryable)',
        ),
      error: z.string().nullable(),
      attempts: z.int().min(0).describe('Deliveries to a consumer that failed, over every time it was parked'),
      status: z.enum(PARKED_STATUSES),
      retries: z.int().min(0).describe('Times the operator sent it back to its queue'),
      first_failed_at: timestamp.describe('When it first reached a dead end'),
      parked_at: timestamp.describe('When it last reached one'),
      retried_at: timestamp.nullable(),
    }),
  );
  const ParkedRetry = component(
    'ParkedRetry',
    z.strictObject({
      ...ParkedMessage.shape,
      outcome: z
        .enum(RETRY_OUTCOMES)
        .describe(
          'resent: back in its queue; already_delivered / in_progress: its notification needs no new message (nothing sent)',
        ),
    }),
  );
  return { ParkedMessage, ParkedPage: pageOf('ParkedMessage', ParkedMessage), ParkedRetry };
});

type ParkedMessage = z.input<ReturnType<typeof parkedShapes>['ParkedMessage']>;

export const presentParked = (row: ParkedRow): ParkedMessage => ({
  id: row.id,
  queue: row.queue as ParkedMessage['queue'],
  body: row.body,
  body_encoding: row.body_encoding,
  reason: row.reason,
  error: row.error,
  attempts: row.attempts,
  status: row.status,
  retries: row.retries,
  first_failed_at: row.first_failed_at,
  parked_at: row.parked_at,
  retried_at: row.retried_at,
});

const parkedId = pathParam({
  what: 'Parked message',
  schema: z.string().regex(PARKED_ID),
  description: 'Parked message id (pkd_...). Any other form names no parked message (404).',
  example: 'pkd_Xc2fJ8qLm0Ta9bWe',
  read: (text) => (PARKED_ID.test(text) ? text : null),
});

export const parkedRoutes = new ApiRoutes('/api/v1/parked', {
  name: 'Parked messages',
  description: 'Queue messages that reached a dead end, and their retry (operator only).',
});

parkedRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listParked',
    summary: 'List parked queue messages',
    description: 'Oldest failure first. Messages from the dead-letter queues and poison messages, with their bodies.',
    auth: 'admin',
    access: {},
    query: parkedQuery,
    queryExample: { status: 'parked' },
    responses: { 200: { description: 'A page of parked messages', schema: () => parkedShapes().ParkedPage } },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    const after = cursorTimeKey(cursor);
    const rows = await listParked(
      c.env.DB,
      filters,
      after && { first_failed_at: after.time, id: after.key },
      limit + 1,
    );
    return { status: 200, body: page(rows, limit, (r) => `${r.first_failed_at}|${r.id}`, presentParked) };
  },
);

parkedRoutes.route(
  {
    method: 'post',
    path: '/{id}/retry',
    operationId: 'retryParked',
    summary: 'Retry a parked queue message',
    description:
      'Sends the message back to the queue it came from, once. A notification whose delivery is dead is reopened first; one already delivered or still under way is closed without a send (see outcome). If it fails again it is parked again under the same id.',
    auth: 'admin',
    access: {},
    audit: { resource: 'parked_message' },
    params: { id: parkedId },
    responses: {
      202: { description: 'Sent back (or closed, see outcome)', schema: () => parkedShapes().ParkedRetry },
      409: {
        description:
          'not_parked (retried already), not_retryable (undecodable), endpoint_disabled, or delivery_missing',
      },
      503: { description: 'queue_unavailable: the queue refused the message; nothing was sent' },
    },
  },
  async (c, { params: { id } }) => {
    const { parked, outcome } = await retryParked(c.env, id);
    return { status: 202, body: { ...presentParked(parked), outcome } };
  },
);
