// /api/v1/endpoints: create, read, list, update (re-validated), secret rotation and the test
// send that returns the request made and the response received.
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { conversionRow, goalIdOf, seedCreatedConversion } from '../fixtures';
import { admin, adminOk, createFixture, type Fixture, RECEIVER, received, uniqueKey } from '../helpers';

interface Endpoint {
  id: number;
  publisher_id: number;
  url: string;
  method: string;
  format: string;
  form_field: string | null;
  events: string[];
  offer_ids: number[] | null;
  include_products: boolean;
  include_click_data: boolean;
  status: string;
  disabled_reason: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  signing_secret?: string;
}

let shared: Fixture | undefined;
const fixture = async () => {
  shared ??= await createFixture();
  return shared;
};
// A publisher may have at most 10 active endpoints (src/admin/endpoint-limit.ts): each test
// starts with its own.
beforeEach(() => {
  shared = undefined;
});

async function createEndpoint(body: Record<string, unknown>): Promise<Endpoint> {
  const f = await fixture();
  return adminOk<Endpoint>('POST', '/endpoints', { publisher_id: f.publisherId, ...body });
}

describe('POST /api/v1/endpoints', () => {
  it('creates an endpoint and shows its signing secret once', async () => {
    const f = await fixture();
    const response = await admin<Endpoint>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'https://hooks.publisher.example/clickhop?c={conversion_id}',
      method: 'POST',
      format: 'json',
      events: ['conversion.created', 'conversion.approved'],
      offer_ids: [f.offerId],
      include_products: true,
    });
    expect(response.status).toBe(201);
    const created = response.body;
    expect(created).toMatchObject({
      publisher_id: f.publisherId,
      url: 'https://hooks.publisher.example/clickhop?c={conversion_id}',
      method: 'POST',
      format: 'json',
      form_field: null,
      events: ['conversion.created', 'conversion.approved'],
      offer_ids: [f.offerId],
      include_products: true,
      include_click_data: false,
      status: 'active',
      disabled_reason: null,
    });
    expect(created.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(created.signing_secret?.slice(6) ?? '')).toHaveLength(32);

    const read = await adminOk<Endpoint>('GET', `/endpoints/${created.id}`);
    expect(read).not.toHaveProperty('signing_secret');
    expect(read).toEqual(Object.fromEntries(Object.entries(created).filter(([k]) => k !== 'signing_secret')));
    const stored = await env.DB.prepare('SELECT signing_secret FROM endpoints WHERE id = ?')
      .bind(created.id)
      .first<{ signing_secret: string }>();
    expect(stored?.signing_secret).toBe(created.signing_secret);
  });

  it('gives two endpoints different secrets', async () => {
    const a = await createEndpoint({ url: 'https://a.publisher.example/', format: 'json' });
    const b = await createEndpoint({ url: 'https://b.publisher.example/', format: 'json' });
    expect(a.signing_secret).not.toBe(b.signing_secret);
  });

  it('fills method from format (and format from method) and subscribes to every event by default', async () => {
    const fromFormat = await createEndpoint({ url: 'https://p.example/x?c={click_id}', format: 'query' });
    expect(fromFormat).toMatchObject({ method: 'GET', format: 'query' });
    expect(fromFormat.events).toEqual([
      'conversion.created',
      'conversion.approved',
      'conversion.rejected',
      'conversion.reversed',
      'conversion.modified',
    ]);
    expect(await createEndpoint({ url: 'https://p.example/x', method: 'POST' })).toMatchObject({ format: 'json' });
    expect(await createEndpoint({ url: 'https://p.example/x', method: 'GET' })).toMatchObject({ format: 'query' });
    expect(
      await createEndpoint({ url: 'https://p.example/awin.php', format: 'form', form_field: 'AwinTransactionPush' }),
    ).toMatchObject({ method: 'POST', format: 'form', form_field: 'AwinTransactionPush' });
  });

  it('refuses unknown macros, naming each one as written', async () => {
    const f = await fixture();
    const response = await admin('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'https://p.example/!!!merchantId!!!/x?a={clickid}&b=!!!clickref!!!&c={click_id}&d={Sub1}',
      format: 'query',
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: {
        code: 'invalid_request',
        message: 'Unknown macros in url: {clickid}, !!!clickref!!!, {Sub1}',
        fields: { url: 'unknown macros: {clickid}, !!!clickref!!!, {Sub1}' },
      },
    });
  });

  it.each([
    [{ method: 'GET', format: 'json' }, { method: 'format json is sent with POST (use format query for GET)' }],
    [{ method: 'GET', format: 'form' }, { method: 'format form is sent with POST (use format query for GET)' }],
    [{ method: 'POST', format: 'query' }, { method: 'format query is sent with GET' }],
    [{ format: 'json', form_field: 'payload' }, { form_field: 'only for format form' }],
    [{ method: 'PUT' }, { method: expect.any(String) }],
    [{ format: 'yaml' }, { format: expect.any(String) }],
    [{ format: 'json', events: ['conversion.deleted'] }, { 'events.0': expect.any(String) }],
    [{ format: 'json', events: [] }, { events: 'must name at least one event' }],
    [{ format: 'json', form_field: 'a b' }, { form_field: 'must be 1-64 letters, digits, _ . - [ ]' }],
    [{}, { format: 'required (query, json, form or xml)' }],
  ])('refuses %j', async (body, fields) => {
    const f = await fixture();
    const response = await admin('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'https://p.example/',
      ...body,
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 'invalid_request', fields } });
  });

  it('refuses an unknown publisher and unknown offers', async () => {
    const f = await fixture();
    const noPublisher = await admin('POST', '/endpoints', {
      publisher_id: 999_999,
      url: 'https://p.example/',
      format: 'json',
    });
    expect(noPublisher.status).toBe(400);
    expect(noPublisher.body).toMatchObject({ error: { fields: { publisher_id: 'no such publisher' } } });
    const noOffers = await admin('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'https://p.example/',
      format: 'json',
      offer_ids: [f.offerId, 888_888, 777_777],
    });
    expect(noOffers.status).toBe(400);
    expect(noOffers.body).toMatchObject({ error: { fields: { offer_ids: 'unknown offers: 888888, 777777' } } });
  });
});

describe('GET /api/v1/endpoints', () => {
  it('lists a publisher’s endpoints with cursor pagination and never shows secrets', async () => {
    const f = await createFixture();
    const created = [];
    for (let i = 0; i < 3; i++) {
      created.push(
        await adminOk<Endpoint>('POST', '/endpoints', {
          publisher_id: f.publisherId,
          url: `https://p${i}.example/`,
          format: 'json',
        }),
      );
    }
    const first = await adminOk<{ data: Endpoint[]; next_cursor: string | null }>(
      'GET',
      `/endpoints?publisher_id=${f.publisherId}&limit=2`,
    );
    expect(first.data.map((e) => e.id)).toEqual([created[0]?.id, created[1]?.id]);
    expect(first.next_cursor).not.toBeNull();
    const second = await adminOk<{ data: Endpoint[]; next_cursor: string | null }>(
      'GET',
      `/endpoints?publisher_id=${f.publisherId}&limit=2&cursor=${first.next_cursor}`,
    );
    expect(second.data.map((e) => e.id)).toEqual([created[2]?.id]);
    expect(second.next_cursor).toBeNull();
    for (const e of [...first.data, ...second.data]) expect(e).not.toHaveProperty('signing_secret');
    expect((await admin('GET', '/endpoints?cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
  });

  it('answers 404 for an unknown endpoint, and for an id that cannot name one', async () => {
    for (const id of ['999999', 'abc', '0', '1.5', '99999999999']) {
      const response = await admin('GET', `/endpoints/${id}`);
      expect(response.status, id).toBe(404);
      expect(response.body).toEqual({ error: { code: 'not_found', message: 'Endpoint not found' } });
    }
    expect((await admin('PATCH', '/endpoints/abc', { status: 'disabled' })).status).toBe(404);
    expect((await admin('GET', '/deliveries/a.b')).body).toEqual({
      error: { code: 'not_found', message: 'Delivery not found' },
    });
  });
});

describe('PATCH /api/v1/endpoints/:id', () => {
  it('changes fields and re-validates the whole endpoint', async () => {
    const endpoint = await createEndpoint({ url: 'https://p.example/a', format: 'json' });
    const changed = await adminOk<Endpoint>('PATCH', `/endpoints/${endpoint.id}`, {
      url: 'https://p.example/b?c=!!!transactionId!!!',
      events: ['conversion.approved', 'conversion.approved'],
      include_click_data: true,
    });
    expect(changed).toMatchObject({
      url: 'https://p.example/b?c=!!!transactionId!!!',
      events: ['conversion.approved'],
      include_click_data: true,
      method: 'POST',
      format: 'json',
    });
    expect(changed.updated_at >= endpoint.updated_at).toBe(true);

    const badMacro = await admin('PATCH', `/endpoints/${endpoint.id}`, { url: 'https://p.example/?x={nope}' });
    expect(badMacro.status).toBe(400);
    expect(badMacro.body).toMatchObject({ error: { fields: { url: 'unknown macros: {nope}' } } });
    const badCombo = await admin('PATCH', `/endpoints/${endpoint.id}`, { method: 'GET', format: 'form' });
    expect(badCombo.status).toBe(400);
    const unknownField = await admin('PATCH', `/endpoints/${endpoint.id}`, { signing_secret: 'whsec_x' });
    expect(unknownField.status).toBe(400);
    expect((await adminOk<Endpoint>('GET', `/endpoints/${endpoint.id}`)).url).toBe(
      'https://p.example/b?c=!!!transactionId!!!',
    );
  });

  it('switching format carries method along, and leaving form drops form_field', async () => {
    const endpoint = await createEndpoint({
      url: 'https://p.example/',
      format: 'form',
      form_field: 'AwinTransactionPush',
    });
    expect(await adminOk('PATCH', `/endpoints/${endpoint.id}`, { format: 'query' })).toMatchObject({
      method: 'GET',
      format: 'query',
      form_field: null,
    });
    expect(await adminOk('PATCH', `/endpoints/${endpoint.id}`, { method: 'POST' })).toMatchObject({
      method: 'POST',
      format: 'json',
    });
  });

  it('disables and enables through status', async () => {
    const endpoint = await createEndpoint({ url: 'https://p.example/', format: 'json' });
    expect(await adminOk('PATCH', `/endpoints/${endpoint.id}`, { status: 'disabled' })).toMatchObject({
      status: 'disabled',
      disabled_reason: 'disabled by operator',
    });
    expect(await adminOk('PATCH', `/endpoints/${endpoint.id}`, { status: 'active' })).toMatchObject({
      status: 'active',
      disabled_reason: null,
    });
  });
});

describe('POST /api/v1/endpoints/:id/rotate-secret', () => {
  it('returns a new secret and keeps the old one signing for 24 hours by default', async () => {
    const endpoint = await createEndpoint({ url: 'https://p.example/', format: 'json' });
    const before = Date.now();
    const rotated = await adminOk<Endpoint>('POST', `/endpoints/${endpoint.id}/rotate-secret`);
    expect(rotated.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.signing_secret).not.toBe(endpoint.signing_secret);
    const expires = Date.parse(rotated.previous_secret_expires_at ?? '');
    expect(expires - before).toBeGreaterThanOrEqual(24 * 3_600_000 - 5_000);
    expect(expires - before).toBeLessThanOrEqual(24 * 3_600_000 + 5_000);
    const stored = await env.DB.prepare('SELECT signing_secret, previous_signing_secret FROM endpoints WHERE id = ?')
      .bind(endpoint.id)
      .first<{ signing_secret: string; previous_signing_secret: string }>();
    expect(stored).toEqual({
      signing_secret: rotated.signing_secret,
      previous_signing_secret: endpoint.signing_secret,
    });
    expect(await adminOk('GET', `/endpoints/${endpoint.id}`)).not.toHaveProperty('signing_secret');
  });

  it('drops the old secret at once with grace_hours 0, and answers 404 for an unknown endpoint', async () => {
    const endpoint = await createEndpoint({ url: 'https://p.example/', format: 'json' });
    const rotated = await adminOk<Endpoint>('POST', `/endpoints/${endpoint.id}/rotate-secret`, { grace_hours: 0 });
    expect(rotated.previous_secret_expires_at).toBeNull();
    expect((await admin('POST', '/endpoints/999999/rotate-secret')).status).toBe(404);
  });
});

interface TestReport {
  ok: boolean;
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
  response: { status: number; latency_ms: number; body_snippet: string | null } | null;
  error: string | null;
}

describe('POST /api/v1/endpoints/:id/test', () => {
  it('sends a marked sample straight to the endpoint and returns the request and the response', async () => {
    const key = uniqueKey('test-json');
    const endpoint = await createEndpoint({
      url: `${RECEIVER}/${key}?body=received`,
      format: 'json',
      events: ['conversion.approved'],
    });
    const report = await adminOk<TestReport>('POST', `/endpoints/${endpoint.id}/test`);
    expect(report.ok).toBe(true);
    expect(report.error).toBeNull();
    expect(report.response).toMatchObject({ status: 200, body_snippet: 'received' });
    expect(report.request.method).toBe('POST');
    expect(report.request.url).toBe(`${RECEIVER}/${key}?body=received`);
    expect(report.request.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Clickhop-Notifications/1.0',
      'clickhop-test': 'true',
    });
    expect(report.request.headers['webhook-id']).toMatch(/^dlv_test_/);
    const payload = JSON.parse(report.request.body ?? '');
    expect(payload).toMatchObject({
      type: 'conversion.approved',
      data: { status: 'approved', test: true, order_id: 'TEST-ORDER-1', publisher_id: endpoint.publisher_id },
    });
    expect(payload.data.conversion_id).toMatch(/^cv_test_/);

    const [request, ...more] = await received(key);
    expect(more).toEqual([]);
    expect(request?.body).toBe(report.request.body);
    expect(request?.headers['webhook-signature']).toBe(report.request.headers['webhook-signature']);
    expect(new Webhook(endpoint.signing_secret ?? '').verify(request?.body ?? '', request?.headers ?? {})).toEqual(
      payload,
    );
    // A test is not a delivery: nothing is logged.
    const logged = await env.DB.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE endpoint_id = ?')
      .bind(endpoint.id)
      .first<{ n: number }>();
    expect(logged?.n).toBe(0);
  });

  it('renders a GET template with the sample values and the requested event', async () => {
    const key = uniqueKey('test-get');
    const endpoint = await createEndpoint({
      url: `${RECEIVER}/${key}/!!!merchantId!!!?clk=!!!clickRef!!!&ev={event}&st={status}&com=!!!commission!!!`,
      format: 'query',
    });
    const report = await adminOk<TestReport>('POST', `/endpoints/${endpoint.id}/test`, {
      event: 'conversion.reversed',
    });
    expect(report.request).toMatchObject({
      method: 'GET',
      url: `${RECEIVER}/${key}/0?clk=test_sub1&ev=conversion.reversed&st=reversed&com=5.00`,
      body: null,
    });
    expect(report.request.headers['webhook-signature']).toBeUndefined();
    const [request] = await received(key);
    expect(request?.url).toBe(`/${key}/0?clk=test_sub1&ev=conversion.reversed&st=reversed&com=5.00`);
    expect(request?.headers['clickhop-test']).toBe('true');
  });

  it('reports a failing answer and a broken connection', async () => {
    const failing = await createEndpoint({
      url: `${RECEIVER}/${uniqueKey('test-500')}?status=500&body=nope`,
      format: 'json',
    });
    const report = await adminOk<TestReport>('POST', `/endpoints/${failing.id}/test`);
    expect(report).toMatchObject({ ok: false, error: 'HTTP 500', response: { status: 500, body_snippet: 'nope' } });

    const closing = await createEndpoint({ url: `${RECEIVER}/${uniqueKey('test-close')}?close=1`, format: 'json' });
    const broken = await adminOk<TestReport>('POST', `/endpoints/${closing.id}/test`);
    expect(broken.ok).toBe(false);
    expect(broken.response).toBeNull();
    expect(broken.error).toMatch(/^connection failed: /);
  });

  it('refuses an unknown event name', async () => {
    const endpoint = await createEndpoint({ url: 'https://p.example/', format: 'json' });
    const response = await admin('POST', `/endpoints/${endpoint.id}/test`, { event: 'conversion.deleted' });
    expect(response.status).toBe(400);
  });
});

describe('stored endpoints drive the fan-out', () => {
  it('creates deliveries only for active endpoints subscribed to the event and the offer', async () => {
    const f = await createFixture();
    const other = await createFixture();
    const make = (body: Record<string, unknown>) =>
      adminOk<Endpoint>('POST', '/endpoints', {
        publisher_id: f.publisherId,
        url: 'https://p.example/',
        format: 'json',
        ...body,
      });
    const all = await make({});
    const approvedOnly = await make({ events: ['conversion.approved'] });
    const thisOffer = await make({ offer_ids: [f.offerId] });
    const otherOffer = await make({ offer_ids: [other.offerId] });
    const disabled = await make({ status: 'disabled' });
    expect(disabled.disabled_reason).toBe('disabled by operator');

    const now = '2026-11-23T10:15:00.000Z';
    const conversion = conversionRow(f, await goalIdOf(f.offerId), {
      id: 'cv_fanout',
      dedupe_key: 'r:1',
      profile: 'admin',
      source: 'server',
      created_at: now,
      updated_at: now,
    });
    const { deliveries: results } = await seedCreatedConversion(conversion, {
      event: { id: 'ev_fanout', actor: 'admin' },
    });
    expect(results.map((r) => r.endpoint_id)).toEqual([all.id, thisOffer.id]);
    expect([approvedOnly.id, otherOffer.id, disabled.id].some((id) => results.some((r) => r.endpoint_id === id))).toBe(
      false,
    );
  });
});
