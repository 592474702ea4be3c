// Endpoint formats through the admin API and the notifications consumer: the awin preset (one
// signed form field holding Awin's JSON, commission groups with their stable ids), XML and body
// templates, and the 400s that name the field and write nothing.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { XMLParser } from 'fast-xml-parser';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/conversions/snapshot';
import worker from '../../src/index';
import type { NotificationMessage } from '../../src/notify/fanout';
import { conversionRow, goalIdOf, seedCreatedConversion, storedClick } from '../fixtures';
import { admin, adminOk, createFixture, type Fixture, RECEIVER, received, scalar, uniqueKey } from '../helpers';

const offerWithGroups = () =>
  createFixture({
    goals: [
      {
        key: 'sale',
        revenue_percent: 10,
        payout_percent: 5,
        commission_groups: [
          { key: 'CD', payout_percent: 8 },
          { key: 'DVD', payout_percent: 6 },
        ],
      },
    ],
  });

/** An endpoint made through the admin API, and one conversion event fanned out to it. */
async function deliverOne(f: Fixture, endpointInput: Record<string, unknown>) {
  const endpoint = await adminOk<{ id: number; signing_secret: string }>('POST', '/endpoints', {
    publisher_id: f.publisherId,
    events: ['conversion.created'],
    ...endpointInput,
  });
  const id = `cv_${uniqueKey('fmt').replace(/-/g, '_')}`;
  const conversion = conversionRow(f, await goalIdOf(f.offerId, 'sale'), {
    id,
    click_id: 'CLK1',
    click_time: '2026-11-23T09:00:00.000Z',
    order_id: 'ORD-1',
    dedupe_key: `o:${id}`,
    currency: 'USD',
    amount: 2609,
    payout_currency: 'EUR',
    payout: 185,
    products: JSON.stringify([
      { sku: 'C1', name: 'A "CD"', unit_price: '11.10', quantity: 1, category: 'music', commission_group: 'CD' },
      { sku: 'D1', name: 'A <DVD> & more', unit_price: '7.50', quantity: 2, category: null, commission_group: 'DVD' },
    ]),
    sub1: 'REF-9',
    sub4: 'member\n42 ü',
    created_at: '2026-11-23T10:15:00.000Z',
  });
  const snapshot = buildSnapshot({
    event: 'conversion.created',
    eventTime: '2026-11-23T10:15:00.000Z',
    conversion,
    goalKey: 'sale',
    offerName: 'Summer sale',
    click: storedClick(f, '2026-11-23T09:00:00.000Z', { click_id: 'CLK1', referrer: 'https://blog.example/post' }),
  });
  const { deliveries } = await seedCreatedConversion(conversion, { snapshot });
  const delivery = deliveries.find((d) => d.endpoint_id === endpoint.id);
  if (!delivery) throw new Error('no delivery');
  const batch = createMessageBatch<NotificationMessage>('clickhop-notifications', [
    { id: `m-${delivery.id}`, timestamp: new Date(), attempts: 1, body: { v: 1, delivery_id: delivery.id } },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
  return endpoint;
}

describe('awin preset end to end', () => {
  it("delivers one signed form field with Awin's JSON, commission groups by their stable ids", async () => {
    const f = await offerWithGroups();
    const key = uniqueKey('awin');
    const endpoint = await deliverOne(f, { url: `${RECEIVER}/${key}/awin.php`, preset: 'awin' });
    const [request] = await received(key);
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=UTF-8');
    new Webhook(endpoint.signing_secret).verify(request?.body ?? '', request?.headers ?? {}, { jsonParse: false });
    const push = JSON.parse(new URLSearchParams(request?.body).get('AwinTransactionPush') ?? '');
    const groups = await env.DB.prepare('SELECT id, code FROM commission_groups WHERE offer_id = ? ORDER BY code')
      .bind(f.offerId)
      .all<{ id: number; code: string }>();
    const [cd, dvd] = groups.results;
    expect(push).toMatchObject({
      transactionCurrency: 'EUR',
      trackedCurrency: 'USD',
      trackedAmount: '26.09',
      commission: '1.85',
      clickRef: 'REF-9',
      clickRef4: 'member\n42 ü',
      bannerId: '0',
      groupId: '0',
      url: 'https://blog.example/post',
      commissionGroups: [
        { id: String(cd?.id), code: 'CD', name: 'CD' },
        { id: String(dvd?.id), code: 'DVD', name: 'DVD' },
      ],
      products: [
        { productName: 'A "CD"', cgId: String(cd?.id) },
        { productName: 'A <DVD> & more', cgId: String(dvd?.id), quantity: '2' },
      ],
    });
    expect(push).not.toHaveProperty('transactionAmount');
  });
});

describe('xml and body templates end to end', () => {
  it('delivers the payload as XML', async () => {
    const f = await offerWithGroups();
    const key = uniqueKey('xml');
    const endpoint = await deliverOne(f, { url: `${RECEIVER}/${key}`, format: 'xml', include_products: true });
    expect(endpoint).toMatchObject({ method: 'POST', format: 'xml', preset: null, body_template: null });
    const [request] = await received(key);
    expect(request?.headers['content-type']).toBe('application/xml');
    expect(request?.headers['webhook-signature']).toMatch(/^v1,/);
    const doc = new XMLParser({
      parseTagValue: false,
      trimValues: false,
      processEntities: true,
      htmlEntities: true,
    }).parse(request?.body ?? '');
    expect(doc.notification.data.sub4).toBe('member\n42 ü');
    expect(doc.notification.data.products.product[1].name).toBe('A <DVD> & more');
  });

  it('delivers a JSON body template with every value escaped', async () => {
    const f = await offerWithGroups();
    const key = uniqueKey('tpl');
    await deliverOne(f, {
      url: `${RECEIVER}/${key}`,
      format: 'json',
      body_template: '{"ref":"{sub1}","member":"!!!clickRef4!!!","commission":"!!!commission!!!"}',
    });
    const [request] = await received(key);
    expect(JSON.parse(request?.body ?? '')).toEqual({ ref: 'REF-9', member: 'member\n42 ü', commission: '1.85' });
  });
});

describe('bad endpoint settings', () => {
  const endpointCount = () => scalar('SELECT COUNT(*) FROM endpoints');

  it.each([
    [{ preset: 'tune' }, 'preset'],
    [{ format: 'json', body_template: '{"a":"{sub7}"}' }, 'body_template'],
    [{ format: 'xml', body_template: '<a><b>{sub1}</a>' }, 'body_template'],
    [{ format: 'query', body_template: 'a={sub1}' }, 'body_template'],
    [{ preset: 'awin', format: 'json' }, 'preset'],
  ])('answers 400 naming the field for %j and writes nothing', async (input, field) => {
    const f = await createFixture();
    const before = await endpointCount();
    const res = await admin<{ error: { fields?: Record<string, string> } }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'https://hooks.publisher.example/x',
      ...input,
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.fields ?? {})).toContain(field);
    expect(await endpointCount()).toBe(before);
  });
});
