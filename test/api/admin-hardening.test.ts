// Admin API hardening (issue 18): allow-lists that name someone, keyless postbacks only by
// choice, strict bodies with named fields, endpoint URLs checked for a scheme, a limit on active
// endpoints per publisher, and a retrying delivery sent now on request.
import { createMessageBatch } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MAX_ACTIVE_ENDPOINTS } from '../../src/admin/endpoint-limit';
import worker from '../../src/index';
import type { NotificationMessage } from '../../src/notify/fanout';
import { setDelivery } from '../fixtures';
import {
  admin,
  adminOk,
  createFixture,
  expectError,
  worker as fetchWorker,
  RECEIVER,
  received,
  uniqueKey,
} from '../helpers';
import { deliveriesOf, deliveryRow, getPostback, mintClick } from '../postback-helpers';

describe('advertiser IP allow-lists', () => {
  it.each(['0.0.0.0/0', '10.0.0.0/8', '::/0', '2001::/16', '::ffff:0.0.0.0/96', '::ffff:10.0.0.0/104'])(
    'refuses %s as wider than an allow-list may be, naming the entry',
    async (cidr) => {
      const error = expectError(
        await admin('POST', '/advertisers', { name: 'Wide', ip_allowlist: ['203.0.113.0/24', cidr] }),
        400,
        'invalid_request',
        ['ip_allowlist.1'],
      );
      expect(error.fields?.['ip_allowlist.1']).toMatch(/at most \/16 for IPv4 and \/32 for IPv6/);
    },
  );

  it.each(['10.1.0.0/16', '2001:db8::/32', '198.51.100.7', '::ffff:10.1.0.0/112'])('accepts %s', async (cidr) => {
    const created = await adminOk<{ ip_allowlist: string[] }>('POST', '/advertisers', {
      name: 'Narrow',
      ip_allowlist: [cidr],
    });
    expect(created.ip_allowlist).toEqual([cidr]);
  });
});

describe('keyless_ip_auth', () => {
  it('is off by default, even with an allow-list', async () => {
    const created = await adminOk('POST', '/advertisers', { name: 'Listed', ip_allowlist: ['203.0.113.0/24'] });
    expect(created).toMatchObject({ keyless_ip_auth: false });
  });

  it('needs a non-empty allow-list, on create and on update', async () => {
    expectError(await admin('POST', '/advertisers', { name: 'K', keyless_ip_auth: true }), 400, 'invalid_request', [
      'keyless_ip_auth',
    ]);
    const plain = await adminOk<{ id: number }>('POST', '/advertisers', { name: 'K2' });
    expectError(await admin('PATCH', `/advertisers/${plain.id}`, { keyless_ip_auth: true }), 400, 'invalid_request', [
      'keyless_ip_auth',
    ]);
  });

  it('turns keyless postbacks on from the listed addresses, and keeps the list from being emptied under it', async () => {
    const f = await createFixture();
    const changed = await adminOk('PATCH', `/advertisers/${f.advertiserId}`, {
      ip_allowlist: ['203.0.113.0/24'],
      keyless_ip_auth: true,
    });
    expect(changed).toMatchObject({ keyless_ip_auth: true, ip_allowlist: ['203.0.113.0/24'] });
    const keyless = await getPostback(
      '/postback/tradetracker/lead',
      { data: await mintClick(f), tid: 'KL-1' },
      { 'cf-connecting-ip': '203.0.113.9' },
    );
    expect(keyless.status).toBe(200);
    expectError(await admin('PATCH', `/advertisers/${f.advertiserId}`, { ip_allowlist: [] }), 400, 'invalid_request', [
      'ip_allowlist',
    ]);
    const off = await adminOk('PATCH', `/advertisers/${f.advertiserId}`, { keyless_ip_auth: false, ip_allowlist: [] });
    expect(off).toMatchObject({ keyless_ip_auth: false, ip_allowlist: [] });
  });
});

describe('request bodies', () => {
  it.each([
    ['/advertisers', { name: 'Shop', colour: 'red' }, 'colour'],
    ['/publishers', { name: 'Blog', colour: 'red' }, 'colour'],
  ])('POST %s refuses an unknown field, naming it', async (path, body, field) => {
    const error = expectError(await admin('POST', path, body), 400, 'invalid_request', [field]);
    expect(error.message).toBe(`Invalid ${field}`);
  });

  it('names a __proto__ key in the message instead of answering "Invalid "', async () => {
    const res = await fetchWorker('/api/v1/advertisers', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: '{"name":"Shop","__proto__":{"admin":true}}',
    });
    const error = expectError({ status: res.status, body: await res.json() }, 400, 'invalid_request', ['__proto__']);
    expect(error.message).toBe('Invalid __proto__');
  });

  it('refuses a JSON body over 64 KiB sent in chunks without Content-Length', async () => {
    const bytes = new TextEncoder().encode(`{"name":"${'x'.repeat(70 * 1024)}"}`);
    const res = await fetchWorker('/api/v1/advertisers', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      }),
      // @ts-expect-error: workerd's RequestInit needs no duplex, the DOM typing asks for it
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });
});

describe('endpoints', () => {
  it('reports a URL without a scheme on url, not as a method or format problem', async () => {
    const f = await createFixture();
    const error = expectError(
      await admin('POST', '/endpoints', { publisher_id: f.publisherId, url: 'hooks.example.com/clickhop' }),
      400,
      'invalid_request',
      ['url'],
    );
    expect(error.fields?.url).toBe('must start with http:// or https://');
  });

  it(`allows at most ${MAX_ACTIVE_ENDPOINTS} active endpoints per publisher; disabled ones do not count`, async () => {
    const f = await createFixture();
    const create = (status = 'active') =>
      admin<{ id: number }>('POST', '/endpoints', {
        publisher_id: f.publisherId,
        url: 'https://hooks.example.com/clickhop',
        format: 'json',
        status,
      });
    for (let i = 0; i < MAX_ACTIVE_ENDPOINTS; i++) expect((await create()).status).toBe(201);
    const over = expectError(await create(), 409, 'endpoint_limit_reached', ['publisher_id']);
    expect(over.message).toContain(`${MAX_ACTIVE_ENDPOINTS} active endpoints`);
    const disabled = await create('disabled');
    expect(disabled.status).toBe(201);
    expectError(
      await admin('PATCH', `/endpoints/${disabled.body.id}`, { status: 'active' }),
      409,
      'endpoint_limit_reached',
      ['publisher_id'],
    );
  });
});

describe('POST /api/v1/deliveries/:id/resend for a retrying delivery', () => {
  /** Hands the delivery to the notifications consumer as queue message `messageId`. */
  async function consume(deliveryId: string, messageId: string, attempts = 1) {
    const batch = createMessageBatch<NotificationMessage>('clickhop-notifications', [
      { id: messageId, timestamp: new Date(), attempts, body: { v: 1, delivery_id: deliveryId } },
    ]);
    await worker.queue(batch, env);
  }

  it('sends it now instead of at its scheduled retry, under the same webhook-id', async () => {
    const f = await createFixture();
    const key = uniqueKey('retry-now');
    const endpoint = await adminOk<{ id: number }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${key}?status=500`,
      format: 'json',
      events: ['conversion.created'],
    });
    const answer = await getPostback('/postback', { click_id: await mintClick(f), key: f.postbackKey });
    const [delivery] = await deliveriesOrFail(answer.body.conversion_id);
    const id = String(delivery?.id);
    await consume(id, 'msg-first');
    const retrying = await deliveryRow(id);
    expect(retrying?.status).toBe('retrying');
    expect(Date.parse(String(retrying?.next_attempt_at))).toBeGreaterThan(Date.now());

    await adminOk('PATCH', `/endpoints/${endpoint.id}`, { url: `${RECEIVER}/${key}` });
    const resent = await admin<{ status: string }>('POST', `/deliveries/${id}/resend`);
    expect(resent.status).toBe(202);
    expect(resent.body.status).toBe('pending');
    await consume(id, 'msg-now');
    expect((await deliveryRow(id))?.status).toBe('delivered');
    // The retry that was scheduled arrives later and finds nothing to do.
    await consume(id, 'msg-first', 2);
    const requests = await received(key);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([id, id]);
  });

  it('refuses a retrying delivery whose attempt is under way (its next attempt is not ahead)', async () => {
    const f = await createFixture();
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${uniqueKey('under-way')}`,
      format: 'json',
      events: ['conversion.created'],
    });
    const answer = await getPostback('/postback', { click_id: await mintClick(f), key: f.postbackKey });
    const [delivery] = await deliveriesOrFail(answer.body.conversion_id);
    const id = String(delivery?.id);
    await setDelivery(id, { status: 'retrying', next_attempt_at: new Date(Date.now() - 1000).toISOString() });
    expectError(await admin('POST', `/deliveries/${id}/resend`), 409, 'delivery_in_progress');
  });
});

async function deliveriesOrFail(conversionId: string) {
  const rows = await deliveriesOf(conversionId);
  if (rows.length === 0) throw new Error(`no delivery for ${conversionId}`);
  return rows;
}
