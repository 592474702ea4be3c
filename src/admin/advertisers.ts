// /api/v1/advertisers: create (shows the postback key once), read, list, update, rotate key.
import { Hono } from 'hono';
import * as z from 'zod';
import { publishOfferConfigs } from '../click/config';
import {
  type AdvertiserRow,
  getAdvertiser,
  insertAdvertiser,
  listAdvertisers,
  updateAdvertiser,
} from '../db/advertisers';
import { randomId, sha256Hex } from '../lib/crypto';
import { notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { jsonBody, parseWith } from '../lib/validate';
import { cursorAfterId, page, pageQuery } from './pagination';
import { cidrList, name, pathId } from './schemas';

export const advertiserCreate = z.object({
  name,
  status: z.enum(['active', 'paused']).default('active'),
  ip_allowlist: cidrList.default([]),
});

export const advertiserUpdate = z
  .object({
    name: name.optional(),
    status: z.enum(['active', 'paused']).optional(),
    ip_allowlist: cidrList.optional(),
  })
  .strict();

export function presentAdvertiser(row: AdvertiserRow) {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    ip_allowlist: row.ip_allowlist ? (JSON.parse(row.ip_allowlist) as string[]) : [],
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** A postback key: `pbk_` + 32 base64url characters (192 bits). Only its SHA-256 is stored. */
const newPostbackKey = () => randomId('pbk_', 24);

export const advertiserRoutes = new Hono<{ Bindings: Env }>();

advertiserRoutes.post('/', async (c) => {
  const input = parseWith(advertiserCreate, await jsonBody(c));
  const postbackKey = newPostbackKey();
  const now = nowIso();
  const row = await insertAdvertiser(c.env.DB, {
    name: input.name,
    status: input.status,
    postback_key_hash: await sha256Hex(postbackKey),
    ip_allowlist: JSON.stringify(input.ip_allowlist),
    created_at: now,
    updated_at: now,
  });
  return c.json({ ...presentAdvertiser(row), postback_key: postbackKey }, 201);
});

advertiserRoutes.get('/', async (c) => {
  const query = parseWith(pageQuery, c.req.query());
  const after = cursorAfterId(query.cursor);
  const rows = await listAdvertisers(c.env.DB, after, query.limit + 1);
  return c.json(page(rows, query.limit, (r) => r.id, presentAdvertiser));
});

advertiserRoutes.get('/:id', async (c) => {
  const row = await getAdvertiser(c.env.DB, pathId(c.req.param('id'), 'Advertiser'));
  if (!row) throw notFound('Advertiser');
  return c.json(presentAdvertiser(row));
});

advertiserRoutes.patch('/:id', async (c) => {
  const id = pathId(c.req.param('id'), 'Advertiser');
  const input = parseWith(advertiserUpdate, await jsonBody(c));
  const row = await updateAdvertiser(
    c.env.DB,
    id,
    {
      name: input.name,
      status: input.status,
      ip_allowlist: input.ip_allowlist ? JSON.stringify(input.ip_allowlist) : undefined,
    },
    nowIso(),
  );
  if (!row) throw notFound('Advertiser');
  if (input.status) {
    // An advertiser's status gates all of its offers on the click path.
    const { results } = await c.env.DB.prepare('SELECT id FROM offers WHERE advertiser_id = ?')
      .bind(id)
      .all<{ id: number }>();
    await publishOfferConfigs(
      c.env,
      results.map((r) => r.id),
    );
  }
  return c.json(presentAdvertiser(row));
});

advertiserRoutes.post('/:id/postback-key', async (c) => {
  const id = pathId(c.req.param('id'), 'Advertiser');
  const postbackKey = newPostbackKey();
  const row = await updateAdvertiser(c.env.DB, id, { postback_key_hash: await sha256Hex(postbackKey) }, nowIso());
  if (!row) throw notFound('Advertiser');
  return c.json({ ...presentAdvertiser(row), postback_key: postbackKey });
});
