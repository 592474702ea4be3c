// Store integration secrets are write-only: set by the operator or the advertiser's own key,
// stored sealed (never in clear, never answered back, never in the audit log), removable.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, adminOk, createFixture, type Fixture, worker } from '../helpers';
import { checkoutSessionCompleted, postHook, stripeHeader } from '../integration-helpers';

const SECRET = 'whsec_admin_test_9f8e7d6c5b4a39281706';

async function asKey(key: string, method: string, path: string, body?: unknown) {
  const res = await worker(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});

describe('PUT/GET/DELETE /api/v1/advertisers/:id/integrations/:provider', () => {
  it('sets a secret and answers only that it is set, since when, and the webhook URL', async () => {
    const res = await admin('PUT', `/advertisers/${f.advertiserId}/integrations/stripe`, { secret: SECRET });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      advertiser_id: f.advertiserId,
      provider: 'stripe',
      configured: true,
      updated_at: expect.any(String),
      webhook_url: `https://clickhop.test/integrations/stripe/${f.advertiserId}`,
    });
    const read = await admin('GET', `/advertisers/${f.advertiserId}/integrations/stripe`);
    expect(read.body).toMatchObject({ configured: true });
    expect(JSON.stringify(read.body)).not.toContain(SECRET);
  });

  it('stores it sealed and keeps it out of the audit log', async () => {
    const row = await env.DB.prepare('SELECT sealed_secret FROM advertiser_integrations WHERE advertiser_id = ?')
      .bind(f.advertiserId)
      .first<{ sealed_secret: string }>();
    expect(row?.sealed_secret).toMatch(/^v1:\d+:/);
    expect(row?.sealed_secret).not.toContain('admin_test');
    const audit = await adminOk<{ data: unknown[] }>('GET', '/audit?resource=integration');
    expect(audit.data.length).toBeGreaterThan(0);
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it('a sealed secret copied onto another advertiser does not open there', async () => {
    const other = await createFixture();
    await env.DB.prepare(
      `INSERT INTO advertiser_integrations (advertiser_id, provider, sealed_secret, updated_at)
       SELECT ?, provider, sealed_secret, updated_at FROM advertiser_integrations WHERE advertiser_id = ? AND provider = 'stripe'`,
    )
      .bind(other.advertiserId, f.advertiserId)
      .run();
    const body = checkoutSessionCompleted({});
    const res = await postHook(`/integrations/stripe/${other.advertiserId}`, body, {
      'stripe-signature': await stripeHeader(body, SECRET),
    });
    expect(res.status).toBe(401);
  });

  it.each([
    ['stripe', { secret: 'not-a-stripe-secret' }],
    ['stripe', { secret: 'whsec_ with spaces' }],
    ['shopify', { secret: 'short' }],
    ['shopify', {}],
  ])('refuses a bad %s secret %j with a 400 naming secret', async (provider, body) => {
    const res = await admin<{ error: { fields: Record<string, string> } }>(
      'PUT',
      `/advertisers/${f.advertiserId}/integrations/${provider}`,
      body,
    );
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('secret');
  });

  it('answers 404 for an unknown provider or advertiser', async () => {
    expect((await admin('GET', `/advertisers/${f.advertiserId}/integrations/paypal`)).status).toBe(404);
    expect((await admin('PUT', '/advertisers/999999/integrations/shopify', { secret: 'abcdefgh12' })).status).toBe(404);
  });

  it('the advertiser sets its own, never another’s; a publisher may not', async () => {
    const other = await createFixture();
    const { key } = await adminOk<{ key: string }>('POST', '/api-keys', {
      role: 'advertiser',
      advertiser_id: f.advertiserId,
    });
    const own = await asKey(key, 'PUT', `/advertisers/${f.advertiserId}/integrations/shopify`, {
      secret: 'shpss_own_secret',
    });
    expect(own.status).toBe(200);
    expect(own.text).not.toContain('shpss_own_secret');
    expect(
      (await asKey(key, 'PUT', `/advertisers/${other.advertiserId}/integrations/shopify`, { secret: 'shpss_x_12345' }))
        .status,
    ).toBe(404);
    const publisher = await adminOk<{ key: string }>('POST', '/api-keys', {
      role: 'publisher',
      publisher_id: f.publisherId,
    });
    expect((await asKey(publisher.key, 'GET', `/advertisers/${f.advertiserId}/integrations/shopify`)).status).toBe(403);
  });

  it('DELETE removes it: the webhook is refused from then on', async () => {
    const removed = await admin('DELETE', `/advertisers/${f.advertiserId}/integrations/stripe`);
    expect(removed.body).toMatchObject({ configured: false, updated_at: null });
    expect((await admin('DELETE', `/advertisers/${f.advertiserId}/integrations/stripe`)).status).toBe(200);
    const body = checkoutSessionCompleted({});
    const res = await postHook(`/integrations/stripe/${f.advertiserId}`, body, {
      'stripe-signature': await stripeHeader(body, SECRET),
    });
    expect(res.status).toBe(401);
  });
});
