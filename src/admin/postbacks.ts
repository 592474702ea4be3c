// /api/v1/postbacks: the postback log, newest first, for settling disputes with advertisers.
import { Hono } from 'hono';
import * as z from 'zod';
import { listPostbackLog, type PostbackLogRow } from '../db/postback-log';
import { badRequest } from '../lib/errors';
import { parseWith } from '../lib/validate';
import { timeBound } from './conversions';
import { decodeCursor, page, pageQuery } from './pagination';
import { idParam } from './schemas';

export const postbackLogQuery = pageQuery.extend({
  advertiser_id: idParam.optional(),
  offer_id: idParam.optional(),
  outcome: z.enum(['created', 'duplicate', 'updated', 'refused']).optional(),
  click_id: z.string().max(255).optional(),
  conversion_id: z.string().max(100).optional(),
  from: timeBound('from').optional(),
  to: timeBound('to').optional(),
});

export const presentPostbackLog = (row: PostbackLogRow) => ({
  ...row,
  params: JSON.parse(row.params) as Record<string, string | string[]>,
});

export const postbackLogRoutes = new Hono<{ Bindings: Env }>();

postbackLogRoutes.get('/', async (c) => {
  const { limit, cursor, ...filters } = parseWith(postbackLogQuery, c.req.query());
  const before = decodeCursor(cursor);
  if (before === null || typeof before === 'string') {
    throw badRequest('Invalid cursor', { cursor: 'is not a cursor from this list' });
  }
  const rows = await listPostbackLog(c.env.DB, filters, before, limit + 1);
  return c.json(page(rows, limit, (r) => r.id, presentPostbackLog));
});
