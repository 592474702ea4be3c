// /api/v1/advertisers/{id}/integrations/{provider}: the webhook signing secret of an
// advertiser's Stripe or Shopify integration (docs/store-integrations.md). Write-only: stored
// sealed, never answered back; reading says only whether one is set, since when, and where the
// provider must send its events.
import * as z from 'zod';
import { sealIntegrationSecret } from '../auth/secret-box';
import { getAdvertiser } from '../db/advertisers';
import {
  deleteIntegration,
  getIntegration,
  type IntegrationRow,
  PROVIDERS,
  type Provider,
  putIntegration,
  secretBinding,
} from '../db/integrations';
import { badRequest, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy, pathParam } from '../openapi/operation';
import { shapes } from '../openapi/shapes';
import { ownedResource } from './access';
import { idPath } from './schemas';

export const integrationSecret = z.strictObject({
  secret: z
    .string()
    .trim()
    .min(8, 'must be at least 8 characters')
    .max(256)
    .refine((v) => !/\s/.test(v), 'must not contain spaces')
    .describe(
      'Stripe: the endpoint’s signing secret (whsec_...); Shopify: the app’s client secret (or the shared secret shown under Notifications > Webhooks)',
    ),
});

const providerPath = pathParam<Provider>({
  what: 'Integration',
  schema: z.enum(PROVIDERS),
  description: 'stripe or shopify',
  example: 'stripe',
  read: (text) => ((PROVIDERS as readonly string[]).includes(text) ? (text as Provider) : null),
});

export const integrationShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const Integration = component(
    'Integration',
    z.strictObject({
      advertiser_id: rowId,
      provider: z.enum(PROVIDERS),
      configured: z.boolean().describe('Whether a signing secret is set (the secret itself is never answered)'),
      updated_at: timestamp.nullable().describe('When the secret was last set'),
      webhook_url: z.string().describe('The URL to register with the provider'),
    }),
  );
  return { Integration };
});

type Integration = z.input<ReturnType<typeof integrationShapes>['Integration']>;

export const webhookUrl = (origin: string, provider: Provider, advertiserId: number) =>
  `${origin}/integrations/${provider}/${advertiserId}`;

export const presentIntegration = (
  origin: string,
  advertiserId: number,
  provider: Provider,
  row: IntegrationRow | null,
): Integration => ({
  advertiser_id: advertiserId,
  provider,
  configured: row !== null,
  updated_at: row?.updated_at ?? null,
  webhook_url: webhookUrl(origin, provider, advertiserId),
});

export const integrationRoutes = new ApiRoutes('/api/v1', {
  name: 'Store integrations',
  description: 'Webhook secrets of an advertiser’s Stripe and Shopify integrations (write-only).',
});

const ownAdvertiser = ownedResource(async (env, params) =>
  (await getAdvertiser(env.DB, params.id as number)) ? { advertiser_id: params.id as number } : null,
);
const params = { id: idPath('Advertiser'), provider: providerPath };
const answer = { description: 'Whether the secret is set', schema: () => integrationShapes().Integration };
const originOf = (url: string) => new URL(url).origin;

async function advertiserOr404(db: D1Database, id: number) {
  if (!(await getAdvertiser(db, id))) throw notFound('Advertiser');
}

integrationRoutes.route(
  {
    method: 'put',
    path: '/advertisers/{id}/integrations/{provider}',
    operationId: 'putIntegrationSecret',
    summary: 'Set a store integration’s webhook secret',
    description:
      'The operator or the advertiser’s own key. Stripe secrets start with whsec_. Replaces any earlier secret at once: events signed with the old one are refused from then on.',
    auth: 'admin',
    access: { advertiser: ownAdvertiser },
    audit: { resource: 'integration' },
    params,
    body: { schema: integrationSecret, required: true, example: { secret: 'whsec_test_0123456789abcdef' } },
    responses: { 200: answer },
  },
  async (c, { params, body }) => {
    await advertiserOr404(c.env.DB, params.id);
    if (params.provider === 'stripe' && !body.secret.startsWith('whsec_')) {
      throw badRequest('Invalid secret', { secret: 'must be the endpoint’s signing secret, starting with whsec_' });
    }
    const row: IntegrationRow = {
      advertiser_id: params.id,
      provider: params.provider,
      sealed_secret: await sealIntegrationSecret(c.env, secretBinding(params.id, params.provider), body.secret),
      updated_at: nowIso(),
    };
    await putIntegration(c.env.DB, row);
    return { status: 200, body: presentIntegration(originOf(c.req.url), params.id, params.provider, row) };
  },
);

integrationRoutes.route(
  {
    method: 'get',
    path: '/advertisers/{id}/integrations/{provider}',
    operationId: 'getIntegration',
    summary: 'Whether a store integration’s secret is set',
    description: 'Never the secret itself.',
    auth: 'admin',
    access: { advertiser: ownAdvertiser },
    params,
    responses: { 200: answer },
  },
  async (c, { params }) => {
    await advertiserOr404(c.env.DB, params.id);
    const row = await getIntegration(c.env.DB, params.id, params.provider);
    return { status: 200, body: presentIntegration(originOf(c.req.url), params.id, params.provider, row) };
  },
);

integrationRoutes.route(
  {
    method: 'delete',
    path: '/advertisers/{id}/integrations/{provider}',
    operationId: 'deleteIntegrationSecret',
    summary: 'Remove a store integration’s secret',
    description:
      'The provider’s events are refused (401) from then on. Removing a secret that is not set changes nothing.',
    auth: 'admin',
    access: { advertiser: ownAdvertiser },
    audit: { resource: 'integration' },
    params,
    responses: { 200: { ...answer, description: 'The integration, now without a secret' } },
  },
  async (c, { params }) => {
    await advertiserOr404(c.env.DB, params.id);
    await deleteIntegration(c.env.DB, params.id, params.provider);
    return { status: 200, body: presentIntegration(originOf(c.req.url), params.id, params.provider, null) };
  },
);
