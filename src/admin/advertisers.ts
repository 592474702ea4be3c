// /api/v1/advertisers: create (shows the postback key once), read, list, update, rotate key.
import * as z from 'zod';
import { publishOfferConfigs } from '../click/config';
import {
  type AdvertiserRow,
  getAdvertiser,
  insertAdvertiser,
  listAdvertisers,
  updateAdvertiser,
} from '../db/advertisers';
import { offerIdsOfAdvertiser } from '../db/offers';
import { randomId, sha256Hex } from '../lib/crypto';
import { badRequest, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { cursorAfterId, page, pageQuery } from './pagination';
import { cidrList, idPath, name } from './schemas';

const ipAllowlist = cidrList.describe(
  'IPv4/IPv6 addresses or CIDRs (at most /16 wide for IPv4, /32 for IPv6) allowed to send postbacks; empty = any address. The key is still required unless keyless_ip_auth is on.',
);
const status = z
  .enum(['active', 'paused'])
  .describe(
    "paused: clicks on all its offers are refused (404, or the offer's fallback_url); postbacks are still accepted, so conversions of earlier clicks are recorded (rotate the key to stop them)",
  );
const keylessIpAuth = z
  .boolean()
  .describe(
    'Accept postbacks without a key from the ip_allowlist addresses when they carry a genuine click ID of this advertiser (for integrations that cannot send a key). Needs a non-empty ip_allowlist.',
  );

export const advertiserCreate = z.strictObject({
  name,
  status: status.default('active'),
  ip_allowlist: ipAllowlist.default([]),
  keyless_ip_auth: keylessIpAuth.default(false),
});

export const advertiserUpdate = z.strictObject({
  name: name.optional(),
  status: status.optional(),
  ip_allowlist: ipAllowlist.optional(),
  keyless_ip_auth: keylessIpAuth.optional(),
});

/**
 * Keyless postbacks only with an allow-list: an allow-list alone never switches keys off, and
 * keys are never off for every address. Refuses the combination, naming the field that made it.
 */
function checkKeylessSetting(allowlist: string[], keyless: boolean, changed: 'ip_allowlist' | 'keyless_ip_auth') {
  if (!keyless || allowlist.length > 0) return;
  throw changed === 'keyless_ip_auth'
    ? badRequest('Invalid keyless_ip_auth', { keyless_ip_auth: 'needs a non-empty ip_allowlist' })
    : badRequest('Invalid ip_allowlist', {
        ip_allowlist: 'must not be empty while keyless_ip_auth is on (turn keyless_ip_auth off first)',
      });
}

const allowListOf = (row: AdvertiserRow): string[] =>
  row.ip_allowlist ? (JSON.parse(row.ip_allowlist) as string[]) : [];

export const advertiserShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const Advertiser = component(
    'Advertiser',
    z.strictObject({
      id: rowId,
      name: z.string(),
      status: z.enum(['active', 'paused']),
      ip_allowlist: z
        .array(z.string())
        .describe('CIDRs allowed to send postbacks; empty = any address (the key still applies)'),
      keyless_ip_auth: z
        .boolean()
        .describe('Postbacks without a key are accepted from the ip_allowlist addresses (off unless set)'),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );
  const AdvertiserWithKey = component(
    'AdvertiserWithKey',
    Advertiser.extend({
      postback_key: z
        .string()
        .regex(/^pbk_[A-Za-z0-9_-]{32}$/)
        .describe('The advertiser postback key. Shown only in this answer; Clickhop stores its SHA-256.'),
    }),
  );
  return { Advertiser, AdvertiserWithKey, AdvertiserPage: pageOf('Advertiser', Advertiser) };
});

type Advertiser = z.input<ReturnType<typeof advertiserShapes>['Advertiser']>;

export function presentAdvertiser(row: AdvertiserRow): Advertiser {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    ip_allowlist: allowListOf(row),
    keyless_ip_auth: row.keyless_ip_auth === 1,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** A postback key: `pbk_` + 32 base64url characters (192 bits). Only its SHA-256 is stored. */
const newPostbackKey = () => randomId('pbk_', 24);

export const advertiserRoutes = new ApiRoutes('/api/v1/advertisers', {
  name: 'Advertisers',
  description: 'Advertisers and their postback keys.',
});

const advertiserId = idPath('Advertiser');

advertiserRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'createAdvertiser',
    summary: 'Create an advertiser',
    description: 'The answer carries the postback key, shown this once.',
    auth: 'admin',
    body: { schema: advertiserCreate, required: true, example: { name: 'Acme Shop' } },
    responses: {
      201: { description: 'Created, with its postback key', schema: () => advertiserShapes().AdvertiserWithKey },
    },
  },
  async (c, { body }) => {
    checkKeylessSetting(body.ip_allowlist, body.keyless_ip_auth, 'keyless_ip_auth');
    const postbackKey = newPostbackKey();
    const now = nowIso();
    const row = await insertAdvertiser(c.env.DB, {
      name: body.name,
      status: body.status,
      postback_key_hash: await sha256Hex(postbackKey),
      ip_allowlist: JSON.stringify(body.ip_allowlist),
      keyless_ip_auth: body.keyless_ip_auth ? 1 : 0,
      created_at: now,
      updated_at: now,
    });
    return { status: 201, body: { ...presentAdvertiser(row), postback_key: postbackKey } };
  },
);

advertiserRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listAdvertisers',
    summary: 'List advertisers',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery,
    responses: { 200: { description: 'A page of advertisers', schema: () => advertiserShapes().AdvertiserPage } },
  },
  async (c, { query }) => {
    const rows = await listAdvertisers(c.env.DB, cursorAfterId(query.cursor), query.limit + 1);
    return { status: 200, body: page(rows, query.limit, (r) => r.id, presentAdvertiser) };
  },
);

advertiserRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getAdvertiser',
    summary: 'Read an advertiser',
    auth: 'admin',
    params: { id: advertiserId },
    responses: { 200: { description: 'The advertiser', schema: () => advertiserShapes().Advertiser } },
  },
  async (c, { params }) => {
    const row = await getAdvertiser(c.env.DB, params.id);
    if (!row) throw notFound('Advertiser');
    return { status: 200, body: presentAdvertiser(row) };
  },
);

advertiserRoutes.route(
  {
    method: 'patch',
    path: '/{id}',
    operationId: 'updateAdvertiser',
    summary: 'Change an advertiser',
    description: 'Pausing an advertiser pauses the click path of all its offers.',
    auth: 'admin',
    params: { id: advertiserId },
    body: { schema: advertiserUpdate, required: true, example: { status: 'paused' } },
    responses: { 200: { description: 'The changed advertiser', schema: () => advertiserShapes().Advertiser } },
  },
  async (c, { params: { id }, body }) => {
    if (body.ip_allowlist !== undefined || body.keyless_ip_auth !== undefined) {
      const current = await getAdvertiser(c.env.DB, id);
      if (!current) throw notFound('Advertiser');
      checkKeylessSetting(
        body.ip_allowlist ?? allowListOf(current),
        body.keyless_ip_auth ?? current.keyless_ip_auth === 1,
        body.keyless_ip_auth ? 'keyless_ip_auth' : 'ip_allowlist',
      );
    }
    const row = await updateAdvertiser(
      c.env.DB,
      id,
      {
        name: body.name,
        status: body.status,
        ip_allowlist: body.ip_allowlist ? JSON.stringify(body.ip_allowlist) : undefined,
        keyless_ip_auth: body.keyless_ip_auth === undefined ? undefined : body.keyless_ip_auth ? 1 : 0,
      },
      nowIso(),
    );
    if (!row) throw notFound('Advertiser');
    // An advertiser's status gates all of its offers on the click path.
    if (body.status) await publishOfferConfigs(c.env, await offerIdsOfAdvertiser(c.env.DB, id));
    return { status: 200, body: presentAdvertiser(row) };
  },
);

advertiserRoutes.route(
  {
    method: 'post',
    path: '/{id}/postback-key',
    operationId: 'rotateAdvertiserPostbackKey',
    summary: 'Rotate the postback key',
    description: 'The old key stops working at once. The answer carries the new key, shown this once.',
    auth: 'admin',
    params: { id: advertiserId },
    responses: {
      200: { description: 'The advertiser with its new key', schema: () => advertiserShapes().AdvertiserWithKey },
    },
  },
  async (c, { params: { id } }) => {
    const postbackKey = newPostbackKey();
    const row = await updateAdvertiser(c.env.DB, id, { postback_key_hash: await sha256Hex(postbackKey) }, nowIso());
    if (!row) throw notFound('Advertiser');
    return { status: 200, body: { ...presentAdvertiser(row), postback_key: postbackKey } };
  },
);
