// The delivery log through the admin API (list, read with attempts, resend), the real
// notifications Queue end to end, the cron's reconciliation, the dev-only demo receiver, and
// the whole chain from an advertiser postback to the publisher's server.
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { buildSnapshot } from '../../src/conversions/snapshot';
import type { DeliveryRow } from '../../src/db/deliveries';
import worker from '../../src/index';
import { enqueueDeliveries, type NotificationMessage } from '../../src/notify/fanout';
import { reconcileDeliveries } from '../../src/notify/reconcile';
import { conversionRow, goalIdOf, seedCreatedConversion, setDeliveryStatement } from '../fixtures';
import {
  admin,
  adminOk,
  click,
  clickRow,
  createFixture,
  eventually,
  type Fixture,
  worker as fetchWorker,
  RECEIVER,
  received,
  uniqueKey,
} from '../helpers';
import { deliveryRow } from '../postback-helpers';

let shared: Fixture | undefined;
const fixture = async () => {
  shared ??= await createFixture();
  return shared;
};

async function createEndpoint(f: Fixture, body: Record<string, unknown>) {
  return adminOk<{ id: number; signing_secret: string }>('POST', '/endpoints', {
    publisher_id: f.publisherId,
    format: 'json',
    events: ['conversion.created'],
    ...body,
  });
}

/** A conversion and its conversion.created event, fanned out to the publisher's endpoints. */
async function seedEvent(f: Fixture, conversionId = `cv_${uniqueKey('log')}`) {
  const conversion = conversionRow(f, await goalIdOf(f.offerId, 'lead'), {
    id: conversionId,
    order_id: `order-${conversionId}`,
    dedupe_key: `o:${conversionId}`,
    revenue: 500,
    payout: 200,
    profile: 'admin',
    source: 'server',
  });
  const snapshot = buildSnapshot({
    event: 'conversion.created',
    eventTime: conversion.created_at,
    conversion,
    goalKey: 'lead',
    offerName: 'Summer sale',
    click: null,
  });
  const { eventId, deliveries } = await seedCreatedConversion(conversion, { snapshot, event: { actor: 'admin' } });
  return { conversionId, eventId, deliveries };
}

async function deliverDirectly(deliveryId: string, attempts = 1, messageId = `msg-${uniqueKey('d')}`) {
  const batch = createMessageBatch<NotificationMessage>('clickhop-notifications', [
    { id: messageId, timestamp: new Date(), attempts, body: { v: 1, delivery_id: deliveryId } },
  ]);
  await worker.queue(batch, env);
}

async function untilStatus(id: string, status: string, attempts?: number) {
  return eventually(async () => {
    const row = await deliveryRow(id);
    return row?.status === status && (attempts === undefined || row.attempts === attempts) ? row : null;
  });
}

describe('through the notifications Queue', () => {
  it('delivers every delivery of an event once enqueued, and records when it was enqueued', async () => {
    const f = await createFixture();
    const [keyA, keyB] = [uniqueKey('q-a'), uniqueKey('q-b')];
    await createEndpoint(f, { url: `${RECEIVER}/${keyA}` });
    await createEndpoint(f, { url: `${RECEIVER}/${keyB}?c={conversion_id}`, format: 'query' });
    const { eventId, deliveries, conversionId } = await seedEvent(f);
    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((d) => d.status === 'pending' && d.enqueued_at === null)).toBe(true);

    expect(await enqueueDeliveries(env, [eventId])).toBe(2);
    for (const d of deliveries) await untilStatus(d.id, 'delivered');
    expect((await deliveryRow(deliveries[0]?.id ?? ''))?.enqueued_at).toMatch(/^\d{4}-/);
    const [post] = await received(keyA);
    expect(post?.headers['webhook-id']).toBe(deliveries[0]?.id);
    const [get] = await received(keyB);
    expect(get?.url).toBe(`/${keyB}?c=${conversionId}`);
    // Enqueueing again sends nothing: the deliveries are no longer pending and unsent.
    expect(await enqueueDeliveries(env, [eventId])).toBe(0);
  });
});

describe('GET /api/v1/deliveries', () => {
  it('filters by conversion, endpoint and status, newest first, with cursor pagination', async () => {
    const f = await createFixture();
    const ok = await createEndpoint(f, { url: `${RECEIVER}/${uniqueKey('list-ok')}` });
    const failing = await createEndpoint(f, { url: `${RECEIVER}/${uniqueKey('list-fail')}?status=500` });
    const first = await seedEvent(f);
    const second = await seedEvent(f);
    for (const d of [...first.deliveries, ...second.deliveries]) await deliverDirectly(d.id);

    type Page = {
      data: { id: string; status: string; endpoint_id: number; attempt_count: number }[];
      next_cursor: string | null;
    };
    const byConversion = await adminOk<Page>('GET', `/deliveries?conversion_id=${first.conversionId}`);
    expect(byConversion.data.map((d) => d.id).sort()).toEqual(first.deliveries.map((d) => d.id).sort());

    const delivered = await adminOk<Page>('GET', `/deliveries?endpoint_id=${ok.id}&status=delivered`);
    expect(delivered.data.map((d) => d.id)).toEqual([second.deliveries[0]?.id, first.deliveries[0]?.id]);
    expect(delivered.data[0]).toMatchObject({ status: 'delivered', endpoint_id: ok.id, attempt_count: 1 });

    const retrying = await adminOk<Page>('GET', `/deliveries?endpoint_id=${failing.id}&status=retrying`);
    expect(retrying.data).toHaveLength(2);
    expect(await adminOk<Page>('GET', `/deliveries?endpoint_id=${failing.id}&status=delivered`)).toEqual({
      data: [],
      next_cursor: null,
    });

    const page1 = await adminOk<Page>('GET', `/deliveries?endpoint_id=${ok.id}&limit=1`);
    expect(page1.data.map((d) => d.id)).toEqual([second.deliveries[0]?.id]);
    const page2 = await adminOk<Page>('GET', `/deliveries?endpoint_id=${ok.id}&limit=1&cursor=${page1.next_cursor}`);
    expect(page2.data.map((d) => d.id)).toEqual([first.deliveries[0]?.id]);
    expect(page2.next_cursor).toBeNull();

    expect((await admin('GET', '/deliveries?status=lost')).status).toBe(400);
    const foreign = await admin('GET', `/deliveries?cursor=${btoa('42')}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({ error: { fields: { cursor: 'is not a cursor from this list' } } });
  });

  it('shows one delivery with its attempts', async () => {
    const f = await createFixture();
    const key = uniqueKey('detail');
    await createEndpoint(f, { url: `${RECEIVER}/${key}?status=503&retry_after=60&body=busy` });
    const { deliveries, conversionId, eventId } = await seedEvent(f);
    const id = deliveries[0]?.id ?? '';
    await deliverDirectly(id, 1, 'msg-detail');
    await deliverDirectly(id, 2, 'msg-detail');
    const detail = await adminOk<Record<string, unknown> & { attempts: Record<string, unknown>[] }>(
      'GET',
      `/deliveries/${id}`,
    );
    expect(detail).toMatchObject({
      id,
      webhook_id: id,
      conversion_id: conversionId,
      event_id: eventId,
      event_type: 'conversion.created',
      status: 'retrying',
      attempt_count: 2,
      last_status_code: 503,
      last_error: 'HTTP 503 (Retry-After: 60)',
    });
    expect(detail).not.toHaveProperty('message_id');
    expect(detail.attempts).toEqual([
      {
        attempt: 1,
        started_at: expect.stringMatching(/^\d{4}-/),
        request_method: 'POST',
        request_url: `${RECEIVER}/${key}?status=503&retry_after=60&body=busy`,
        status_code: 503,
        latency_ms: expect.any(Number),
        response_snippet: 'busy',
        error: 'HTTP 503 (Retry-After: 60)',
      },
      expect.objectContaining({ attempt: 2, status_code: 503 }),
    ]);
    expect((await admin('GET', '/deliveries/dlv_nope')).status).toBe(404);
  });
});

describe('POST /api/v1/deliveries/:id/resend', () => {
  it('sends a delivered notification again under the same webhook-id, with the same body', async () => {
    const f = await createFixture();
    const key = uniqueKey('resend');
    await createEndpoint(f, { url: `${RECEIVER}/${key}` });
    const { deliveries } = await seedEvent(f);
    const id = deliveries[0]?.id ?? '';
    await deliverDirectly(id);
    expect((await deliveryRow(id))?.status).toBe('delivered');

    const resent = await admin<{ id: string; status: string }>('POST', `/deliveries/${id}/resend`);
    expect(resent.status).toBe(202);
    expect(resent.body).toMatchObject({ id, status: 'pending' });
    await untilStatus(id, 'delivered', 2);
    const requests = await received(key);
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([id, id]);
    expect(requests[1]?.body).toBe(requests[0]?.body);
  });

  it('revives a dead delivery once the publisher fixed the server', async () => {
    const f = await createFixture();
    const key = uniqueKey('revive');
    const endpoint = await createEndpoint(f, { url: `${RECEIVER}/${key}?status=500` });
    const { deliveries } = await seedEvent(f);
    const id = deliveries[0]?.id ?? '';
    await deliverDirectly(id, 21, 'msg-last');
    expect((await deliveryRow(id))?.status).toBe('dead');

    // The publisher fixes the server; the operator resends under the same id.
    await adminOk('PATCH', `/endpoints/${endpoint.id}`, { url: `${RECEIVER}/${key}` });
    const resent = await admin('POST', `/deliveries/${id}/resend`);
    expect(resent.status).toBe(202);
    await untilStatus(id, 'delivered', 2);
    const requests = await received(key);
    expect(requests.map((r) => [r.url, r.headers['webhook-id']])).toEqual([
      [`/${key}?status=500`, id],
      [`/${key}`, id],
    ]);
  });

  it('refuses a delivery still in flight, or whose endpoint is disabled', async () => {
    const f = await createFixture();
    const endpoint = await createEndpoint(f, { url: `${RECEIVER}/${uniqueKey('refuse')}` });
    const { deliveries } = await seedEvent(f);
    const id = deliveries[0]?.id ?? '';
    const inFlight = await admin('POST', `/deliveries/${id}/resend`);
    expect(inFlight.status).toBe(409);
    expect(inFlight.body).toEqual({
      error: {
        code: 'delivery_in_progress',
        message: 'Delivery is pending; only delivered, dead or retrying deliveries can be resent',
      },
    });
    await deliverDirectly(id);
    await adminOk('PATCH', `/endpoints/${endpoint.id}`, { status: 'disabled' });
    const disabled = await admin('POST', `/deliveries/${id}/resend`);
    expect(disabled.status).toBe(409);
    expect(disabled.body).toMatchObject({ error: { code: 'endpoint_disabled' } });
    expect((await admin('POST', '/deliveries/dlv_nope/resend')).status).toBe(404);
  });
});

describe('cron reconciliation', () => {
  it('sends deliveries never enqueued, stuck in the queue, or long overdue; a second run sends nothing', async () => {
    const f = await createFixture();
    const key = uniqueKey('cron');
    await createEndpoint(f, { url: `${RECEIVER}/${key}` });
    const fresh = (await seedEvent(f)).deliveries[0]?.id ?? '';
    const unsent = (await seedEvent(f)).deliveries[0]?.id ?? '';
    const stuck = (await seedEvent(f)).deliveries[0]?.id ?? '';
    const overdue = (await seedEvent(f)).deliveries[0]?.id ?? '';
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    await env.DB.batch([
      setDeliveryStatement(unsent, { updated_at: ago(5) }),
      setDeliveryStatement(stuck, { enqueued_at: ago(20), message_id: 'lost-1' }),
      setDeliveryStatement(overdue, {
        status: 'retrying',
        attempts: 1,
        enqueued_at: ago(120),
        next_attempt_at: ago(30),
        message_id: 'lost-2',
      }),
    ]);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    for (const id of [unsent, stuck, overdue]) await untilStatus(id, 'delivered');
    // Written seconds ago: its own enqueue may still be on the way, so it is left alone.
    expect(await deliveryRow(fresh)).toMatchObject({ status: 'pending', enqueued_at: null });
    expect((await deliveryRow(overdue))?.attempts).toBe(2);
    expect(await reconcileDeliveries(env)).toEqual({ unsent: 0, stuck: 0, overdue: 0 });
    expect((await received(key)).map((r) => r.headers['webhook-id']).sort()).toEqual([unsent, stuck, overdue].sort());
  });
});

describe('dev demo receiver', () => {
  it('keeps the notifications it receives, newest first, at most 50', async () => {
    const post = (i: number) =>
      fetchWorker('/dev/receiver', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': `dlv_demo_${i}`, 'x-other': 'dropped' },
        body: JSON.stringify({ type: 'conversion.created', n: i }),
      });
    const answer = await post(0);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ received: true });
    for (let i = 1; i <= 51; i++) await post(i);
    expect((await fetchWorker('/dev/receiver?status=500&x=1')).status).toBe(500);

    const log = (await (await fetchWorker('/dev/receiver/log')).json()) as { data: Record<string, unknown>[] };
    expect(log.data).toHaveLength(50);
    expect(log.data[0]).toMatchObject({ method: 'GET', url: '/dev/receiver?status=500&x=1', body: '' });
    expect(log.data[1]).toEqual({
      received_at: expect.stringMatching(/^\d{4}-/),
      method: 'POST',
      url: '/dev/receiver',
      headers: { 'content-type': 'application/json', 'webhook-id': 'dlv_demo_51' },
      body: '{"type":"conversion.created","n":51}',
    });
    expect(log.data[49]).toMatchObject({ headers: { 'webhook-id': 'dlv_demo_3' } });
  });

  it('does not exist unless private destinations are allowed', async () => {
    const production = { ...env, ALLOW_PRIVATE_DESTINATIONS: 'false' };
    for (const [method, path] of [
      ['POST', '/dev/receiver'],
      ['GET', '/dev/receiver'],
      ['GET', '/dev/receiver/log'],
    ] as const) {
      const response = await app.fetch(new Request(`https://clickhop.test${path}`, { method }), production);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: { code: 'not_found', message: `No route for ${method} ${path}` },
      });
    }
  });
});

describe('advertiser postback to publisher notification', () => {
  it('delivers a signed notification for a click that converts, then one for its approval', async () => {
    const f = await fixture();
    const key = uniqueKey('e2e');
    const endpoint = await createEndpoint(f, {
      url: `${RECEIVER}/${key}`,
      events: ['conversion.created', 'conversion.approved'],
      include_click_data: true,
    });
    const clickId = await click(f, '?sub1=newsletter&sub2=a%26b');
    // Sub IDs and click data come from the click row, which the clicks consumer writes.
    await eventually(() => clickRow(clickId));
    const orderId = uniqueKey('order');
    const created = await fetchWorker(
      `/postback?click_id=${clickId}&event=sale&order_id=${orderId}&amount=49.90&currency=EUR&key=${f.postbackKey}`,
    );
    expect(created.status).toBe(200);
    const { conversion_id: conversionId } = (await created.json()) as { conversion_id: string };

    const [first] = await eventually(async () => {
      const list = await received(key);
      return list.length >= 1 ? list : null;
    });
    const payload = new Webhook(endpoint.signing_secret).verify(first?.body ?? '', first?.headers ?? {});
    expect(payload).toMatchObject({
      type: 'conversion.created',
      data: {
        conversion_id: conversionId,
        click_id: clickId,
        order_id: orderId,
        status: 'pending',
        goal: 'sale',
        amount: '49.90',
        currency: 'EUR',
        payout: '2.50',
        sub1: 'newsletter',
        sub2: 'a&b',
      },
    });
    const delivery = await eventually(() =>
      env.DB.prepare(`SELECT * FROM deliveries WHERE conversion_id = ? AND status = 'delivered'`)
        .bind(conversionId)
        .first<DeliveryRow>(),
    );
    expect(first?.headers['webhook-id']).toBe(delivery.id);

    const approved = await fetchWorker(
      `/postback?click_id=${clickId}&event=sale&order_id=${orderId}&status=approved&key=${f.postbackKey}`,
    );
    expect(approved.status).toBe(200);
    const second = await eventually(async () => (await received(key))[1]);
    expect(new Webhook(endpoint.signing_secret).verify(second.body, second.headers)).toMatchObject({
      type: 'conversion.approved',
      data: { conversion_id: conversionId, status: 'approved' },
    });
    expect(second.headers['webhook-id']).not.toBe(delivery.id);
  });
});
