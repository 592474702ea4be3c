// /api/v1/api-keys: scoped API keys. The operator makes keys of any role; a publisher or
// advertiser may make and revoke keys for its own party only (the portal's API keys page).
// The key is shown once, in the creation answer; D1 keeps its SHA-256.
import * as z from 'zod';
import { mintApiKey } from '../auth/api-keys';
import type { Principal } from '../auth/principal';
import { getAdvertiser } from '../db/advertisers';
import { type ApiKeyRow, getApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../db/api-keys';
import { getPublisher } from '../db/publishers';
import { badRequest, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy, type ScopeRule } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { forbidden, ownedResource, ownFilter } from './access';
import { cursorId, page, pageQuery } from './pagination';
import { filters, idParam, idPath } from './schemas';

const keyName = z.string().trim().min(1).max(100).optional().describe('What uses the key, for people reading the list');

export const apiKeyCreate = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('operator'), name: keyName }),
  z.strictObject({
    role: z.literal('publisher'),
    publisher_id: idParam.describe('The publisher it acts for'),
    name: keyName,
  }),
  z.strictObject({
    role: z.literal('advertiser'),
    advertiser_id: idParam.describe('The advertiser it acts for'),
    name: keyName,
  }),
]);

export const apiKeyShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const ApiKey = component(
    'ApiKey',
    z.strictObject({
      id: rowId,
      role: z.enum(['operator', 'publisher', 'advertiser']),
      publisher_id: rowId.nullable(),
      advertiser_id: rowId.nullable(),
      name: z.string().nullable(),
      prefix: z.string().describe('The first characters of the key, to tell keys apart'),
      created_by: z.string(),
      created_at: timestamp,
      last_used_at: timestamp.nullable().describe('Updated at most once a minute'),
      revoked_at: timestamp.nullable(),
    }),
  );
  const ApiKeyWithSecret = component(
    'ApiKeyWithSecret',
    ApiKey.extend({ key: z.string().describe('Send as Authorization: Bearer <key>. Shown only in this answer.') }),
  );
  return { ApiKey, ApiKeyWithSecret, ApiKeyPage: pageOf('ApiKey', ApiKey) };
});

type ApiKey = z.input<ReturnType<typeof apiKeyShapes>['ApiKey']>;

export const presentApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  role: row.role,
  publisher_id: row.publisher_id,
  advertiser_id: row.advertiser_id,
  name: row.name,
  prefix: row.prefix,
  created_by: row.created_by,
  created_at: row.created_at,
  last_used_at: row.last_used_at,
  revoked_at: row.revoked_at,
});

export const apiKeyRoutes = new ApiRoutes('/api/v1/api-keys', {
  name: 'API keys',
  description:
    'Keys for the same /api/v1 routes, scoped to a role: operator (everything), publisher or advertiser (its own data).',
});

/** A party may only make keys of its own role and party; any other body names nothing it has. */
const ownKeyScope: ScopeRule = (principal: Principal, input, env) => {
  if (input.body?.role !== principal.role) throw forbidden(`A ${principal.role} can only make ${principal.role} keys`);
  return ownFilter('body', `${principal.role}_id`)(principal, input, env);
};

apiKeyRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'createApiKey',
    summary: 'Create an API key',
    description: 'The answer carries the key, shown this once; it works at once.',
    auth: 'admin',
    access: { publisher: ownKeyScope, advertiser: ownKeyScope },
    audit: { resource: 'api_key' },
    body: { schema: apiKeyCreate, required: true, example: { role: 'publisher', publisher_id: 1, name: 'reporting' } },
    responses: { 201: { description: 'Created, with its key', schema: () => apiKeyShapes().ApiKeyWithSecret } },
  },
  async (c, { body }) => {
    const scope = {
      role: body.role,
      publisher_id: body.role === 'publisher' ? body.publisher_id : null,
      advertiser_id: body.role === 'advertiser' ? body.advertiser_id : null,
    };
    if (scope.publisher_id !== null && !(await getPublisher(c.env.DB, scope.publisher_id))) {
      throw badRequest('Unknown publisher_id', { publisher_id: 'no such publisher' });
    }
    if (scope.advertiser_id !== null && !(await getAdvertiser(c.env.DB, scope.advertiser_id))) {
      throw badRequest('Unknown advertiser_id', { advertiser_id: 'no such advertiser' });
    }
    const { key, values } = await mintApiKey(scope, body.name ?? null, c.get('principal').actor, nowIso());
    const row = await insertApiKey(c.env.DB, values);
    return { status: 201, body: { ...presentApiKey(row), key } };
  },
);

apiKeyRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listApiKeys',
    summary: 'List API keys',
    description: 'Newest first, revoked ones included (with revoked_at).',
    auth: 'admin',
    access: { publisher: ownFilter('query', 'publisher_id'), advertiser: ownFilter('query', 'advertiser_id') },
    query: pageQuery.extend({ publisher_id: filters.publisher_id(), advertiser_id: filters.advertiser_id() }),
    responses: { 200: { description: 'A page of keys', schema: () => apiKeyShapes().ApiKeyPage } },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    const rows = await listApiKeys(c.env.DB, filters, cursorId(cursor) ?? Number.MAX_SAFE_INTEGER, limit + 1);
    return { status: 200, body: page(rows, limit, (r) => r.id, presentApiKey) };
  },
);

const apiKeyId = idPath('API key');
const keyParty = ownedResource((env, params) => getApiKey(env.DB, params.id as number));

apiKeyRoutes.route(
  {
    method: 'delete',
    path: '/{id}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description: 'The key stops working at once. Revoking a revoked key is a 404.',
    auth: 'admin',
    resourceName: 'API key',
    access: { publisher: keyParty, advertiser: keyParty },
    audit: {
      resource: 'api_key',
      before: async (env, params) => presentOrNull(await getApiKey(env.DB, params.id as number)),
    },
    params: { id: apiKeyId },
    responses: { 200: { description: 'The revoked key', schema: () => apiKeyShapes().ApiKey } },
  },
  async (c, { params: { id } }) => {
    const row = await revokeApiKey(c.env.DB, id, nowIso());
    if (!row) throw notFound('API key');
    return { status: 200, body: presentApiKey(row) };
  },
);

const presentOrNull = (row: ApiKeyRow | null) => (row ? presentApiKey(row) : null);
