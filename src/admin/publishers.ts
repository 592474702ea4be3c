// /api/v1/publishers: create, read, list, update (status changes reach the click path via KV).
import { Hono } from 'hono';
import * as z from 'zod';
import { publishPublisherConfig } from '../click/config';
import { getPublisher, insertPublisher, listPublishers, type PublisherRow, updatePublisher } from '../db/publishers';
import { notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { jsonBody, parseWith } from '../lib/validate';
import { cursorAfterId, page, pageQuery } from './pagination';
import { name, pathId } from './schemas';

export const publisherCreate = z.object({
  name,
  status: z.enum(['active', 'paused']).default('active'),
});

export const publisherUpdate = z
  .object({ name: name.optional(), status: z.enum(['active', 'paused']).optional() })
  .strict();

export const presentPublisher = (row: PublisherRow) => ({
  id: row.id,
  name: row.name,
  status: row.status,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export const publisherRoutes = new Hono<{ Bindings: Env }>();

publisherRoutes.post('/', async (c) => {
  const input = parseWith(publisherCreate, await jsonBody(c));
  const now = nowIso();
  const row = await insertPublisher(c.env.DB, { ...input, created_at: now, updated_at: now });
  await publishPublisherConfig(c.env, row.id);
  return c.json(presentPublisher(row), 201);
});

publisherRoutes.get('/', async (c) => {
  const query = parseWith(pageQuery, c.req.query());
  const after = cursorAfterId(query.cursor);
  const rows = await listPublishers(c.env.DB, after, query.limit + 1);
  return c.json(page(rows, query.limit, (r) => r.id, presentPublisher));
});

publisherRoutes.get('/:id', async (c) => {
  const row = await getPublisher(c.env.DB, pathId(c.req.param('id'), 'Publisher'));
  if (!row) throw notFound('Publisher');
  return c.json(presentPublisher(row));
});

publisherRoutes.patch('/:id', async (c) => {
  const id = pathId(c.req.param('id'), 'Publisher');
  const input = parseWith(publisherUpdate, await jsonBody(c));
  const row = await updatePublisher(c.env.DB, id, input, nowIso());
  if (!row) throw notFound('Publisher');
  await publishPublisherConfig(c.env, id);
  return c.json(presentPublisher(row));
});
