// /api/v1/publishers: create, read, list, update (status changes reach the click path via KV).
import * as z from 'zod';
import { publishPublisherConfig } from '../click/config';
import { getPublisher, insertPublisher, listPublishers, type PublisherRow, updatePublisher } from '../db/publishers';
import { notFound } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { cursorAfterId, page, pageQuery } from './pagination';
import { idPath, name } from './schemas';
import { minimumPayout, storedMinimumPayout } from './statement-settings';

const status = z.enum(['active', 'paused']).describe('paused: its tracking links answer 404 (or the fallback URL)');

export const publisherCreate = z.strictObject({ name, status: status.default('active') });

export const publisherUpdate = z
  .object({ name: name.optional(), status: status.optional(), minimum_payout: minimumPayout.optional() })
  .strict();

export const publisherShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const Publisher = component(
    'Publisher',
    z.strictObject({
      id: rowId,
      name: z.string(),
      status: z.enum(['active', 'paused']),
      minimum_payout: z
        .record(z.string(), z.string())
        .describe('Per currency: a statement total below it is carried to the next period ({} for none)'),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );
  return { Publisher, PublisherPage: pageOf('Publisher', Publisher) };
});

type Publisher = z.input<ReturnType<typeof publisherShapes>['Publisher']>;

export const presentPublisher = (row: PublisherRow): Publisher => ({
  id: row.id,
  name: row.name,
  status: row.status,
  minimum_payout: Object.fromEntries(
    Object.entries(JSON.parse(row.minimum_payout ?? '{}') as Record<string, number>).map(([cur, minor]) => [
      cur,
      formatAmount(minor, cur),
    ]),
  ),
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export const publisherRoutes = new ApiRoutes('/api/v1/publishers', {
  name: 'Publishers',
  description: 'Publishers (affiliates).',
});

const publisherId = idPath('Publisher');
const publisherAnswer = { description: 'The publisher', schema: () => publisherShapes().Publisher };

publisherRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'createPublisher',
    summary: 'Create a publisher',
    auth: 'admin',
    body: { schema: publisherCreate, required: true, example: { name: 'Deal Blog' } },
    responses: { 201: { ...publisherAnswer, description: 'Created' } },
  },
  async (c, { body }) => {
    const now = nowIso();
    const row = await insertPublisher(c.env.DB, { ...body, created_at: now, updated_at: now });
    await publishPublisherConfig(c.env, row.id);
    return { status: 201, body: presentPublisher(row) };
  },
);

publisherRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listPublishers',
    summary: 'List publishers',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery,
    responses: { 200: { description: 'A page of publishers', schema: () => publisherShapes().PublisherPage } },
  },
  async (c, { query }) => {
    const rows = await listPublishers(c.env.DB, cursorAfterId(query.cursor), query.limit + 1);
    return { status: 200, body: page(rows, query.limit, (r) => r.id, presentPublisher) };
  },
);

publisherRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getPublisher',
    summary: 'Read a publisher',
    auth: 'admin',
    params: { id: publisherId },
    responses: { 200: publisherAnswer },
  },
  async (c, { params }) => {
    const row = await getPublisher(c.env.DB, params.id);
    if (!row) throw notFound('Publisher');
    return { status: 200, body: presentPublisher(row) };
  },
);

publisherRoutes.route(
  {
    method: 'patch',
    path: '/{id}',
    operationId: 'updatePublisher',
    summary: 'Change a publisher',
    description:
      'A paused publisher’s tracking links answer 404 (or the offer’s fallback URL). minimum_payout replaces the publisher’s minimums per currency ({"EUR": "50.00"}; {} or null clears them).',
    auth: 'admin',
    params: { id: publisherId },
    body: { schema: publisherUpdate, required: true, example: { status: 'paused' } },
    responses: { 200: { ...publisherAnswer, description: 'The changed publisher' } },
  },
  async (c, { params: { id }, body }) => {
    const { minimum_payout, ...changes } = body;
    const stored = minimum_payout === undefined ? {} : { minimum_payout: storedMinimumPayout(minimum_payout) };
    const row = await updatePublisher(c.env.DB, id, { ...changes, ...stored }, nowIso());
    if (!row) throw notFound('Publisher');
    await publishPublisherConfig(c.env, id);
    return { status: 200, body: presentPublisher(row) };
  },
);
