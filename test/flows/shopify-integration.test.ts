// Shopify through the real Worker: X-Shopify-Hmac-Sha256 verified (a bad or missing one is a
// 401 with a log row and nothing stored), orders/create with a click ID in a note attribute or
// the landing site becomes the sale (total_price by the currency's exponent, exact order ids),
// redeliveries are recognised by X-Shopify-Webhook-Id, refunds/create lowers the sale once per
// refund in whichever order they arrive, and a discount code that is a coupon credits its publisher.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminOk, createFixture, type Fixture } from '../helpers';
import {
  conversionsOfAdvertiser,
  integrationLogRows,
  postHook,
  setIntegrationSecret,
  shopifyHmac,
  uid,
} from '../integration-helpers';
import { conversion, createPublisher, eventsOf, mintLandedClick } from '../postback-helpers';

const SECRET = 'shpss_0123456789abcdef0123456789abcdef';

let f: Fixture;
let orderSerial = 5_000_000_000;

async function deliver(topic: string, payload: unknown, webhookId = uid('wh'), fixture = f, secret = SECRET) {
  const body = JSON.stringify(payload);
  return postHook(`/integrations/shopify/${fixture.advertiserId}`, body, {
    'x-shopify-topic': topic,
    'x-shopify-webhook-id': webhookId,
    'x-shopify-shop-domain': 'demo.myshopify.com',
    'x-shopify-hmac-sha256': await shopifyHmac(body, secret),
  });
}

function order(fields: Record<string, unknown>) {
  const id = ++orderSerial;
  return {
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    currency: 'EUR',
    total_price: '120.50',
    subtotal_price: '100.00',
    note_attributes: [],
    landing_site: '/',
    discount_codes: [],
    ...fields,
  };
}

const refund = (orderId: number | string, amounts: string[], id = ++orderSerial) => ({
  id,
  admin_graphql_api_id: `gid://shopify/Refund/${id}`,
  order_id: orderId,
  transactions: [
    ...amounts.map((amount) => ({ kind: 'refund', status: 'success', amount, currency: 'EUR' })),
    { kind: 'refund', status: 'failure', amount: '99.00', currency: 'EUR' },
  ],
});

beforeAll(async () => {
  f = await createFixture();
  await setIntegrationSecret(f.advertiserId, 'shopify', SECRET);
});

describe('X-Shopify-Hmac-Sha256', () => {
  it.each([
    ['a missing header', async () => undefined],
    ['another secret', (body: string) => shopifyHmac(body, 'shpss_other')],
    ['a tampered body', (body: string) => shopifyHmac(body.replace('120.50', '999.00'), SECRET)],
    ['hex instead of base64', async () => 'a'.repeat(64)],
  ])('%s: 401, a log row, no conversion', async (_what, sign) => {
    const body = JSON.stringify(order({ note_attributes: [{ name: 'click_id', value: await mintLandedClick(f) }] }));
    const header = await sign(body);
    const before = (await integrationLogRows(f.advertiserId, 'shopify')).length;
    const res = await postHook(`/integrations/shopify/${f.advertiserId}`, body, {
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': uid('wh'),
      ...(header === undefined ? {} : { 'x-shopify-hmac-sha256': header }),
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_signature');
    expect(await conversionsOfAdvertiser(f.advertiserId)).toEqual([]);
    const rows = await integrationLogRows(f.advertiserId, 'shopify');
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({ outcome: 'refused', http_status: 401 });
  });
});

describe('orders/create', () => {
  it('with a click ID in a note attribute is the sale: total_price to the cent, the order id as order ID', async () => {
    const clickId = await mintLandedClick(f);
    const o = order({
      note_attributes: [
        { name: 'gift', value: 'no' },
        { name: 'click_id', value: clickId },
      ],
    });
    const res = await deliver('orders/create', o);
    expect(res).toMatchObject({ status: 200, body: { outcome: 'created', amount: '120.50', order_id: String(o.id) } });
    expect(await conversion(res.body.conversion_id)).toMatchObject({
      click_id: clickId,
      order_id: String(o.id),
      amount: 12050,
      revenue: 1205,
      payout: 603,
      profile: 'shopify',
      source: 'server',
    });
  });

  it.each([
    ['the landing site query', (c: string) => ({ landing_site: `/products/shoe?utm_source=x&click_id=${c}` })],
    ['a full landing URL with ch_cid', (c: string) => ({ landing_site: `https://shop.example/?ch_cid=${c}` })],
    ['a ch_cid note attribute', (c: string) => ({ note_attributes: [{ name: 'CH_CID', value: c }] })],
  ])('finds the click ID in %s', async (_where, fields) => {
    const clickId = await mintLandedClick(f);
    const res = await deliver('orders/create', order(fields(clickId)));
    expect(await conversion(res.body.conversion_id)).toMatchObject({ click_id: clickId });
  });

  it('keeps every digit of an order id past 2^53', async () => {
    const big = '9007199254740993123';
    const body = `{"id":${big},"admin_graphql_api_id":"gid://shopify/Order/${big}","currency":"EUR","total_price":"10.00","note_attributes":[{"name":"click_id","value":"${await mintLandedClick(f)}"}]}`;
    const res = await postHook(`/integrations/shopify/${f.advertiserId}`, body, {
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': uid('wh'),
      'x-shopify-hmac-sha256': await shopifyHmac(body, SECRET),
    });
    expect(res.body.order_id).toBe(big);
    // A refund names the order by its number alone: read exactly, it finds the sale.
    const refundBody = `{"id":77,"order_id":${big},"transactions":[{"kind":"refund","status":"success","amount":"4.00","currency":"EUR"}]}`;
    const refunded = await postHook(`/integrations/shopify/${f.advertiserId}`, refundBody, {
      'x-shopify-topic': 'refunds/create',
      'x-shopify-webhook-id': uid('wh'),
      'x-shopify-hmac-sha256': await shopifyHmac(refundBody, SECRET),
    });
    expect(refunded.body).toMatchObject({ outcome: 'updated', amount: '6.00' });
  });

  it('reads total_price by the currency’s exponent (JPY has none)', async () => {
    const yen = await createFixture({ currency: 'JPY' });
    await setIntegrationSecret(yen.advertiserId, 'shopify', SECRET);
    const res = await deliver(
      'orders/create',
      order({
        currency: 'JPY',
        total_price: '5000.00',
        note_attributes: [{ name: 'click_id', value: await mintLandedClick(yen) }],
      }),
      uid('wh'),
      yen,
    );
    expect(await conversion(res.body.conversion_id)).toMatchObject({
      amount: 5000,
      currency: 'JPY',
      revenue: 500,
      payout: 250,
    });
  });

  it('a redelivery (same X-Shopify-Webhook-Id) and the same order in another webhook count once', async () => {
    const o = order({ note_attributes: [{ name: 'click_id', value: await mintLandedClick(f) }] });
    const first = await deliver('orders/create', o, 'wh-fixed-1');
    expect((await deliver('orders/create', o, 'wh-fixed-1')).body).toMatchObject({ reason: 'replayed_event' });
    expect((await deliver('orders/create', o)).body).toMatchObject({
      outcome: 'duplicate',
      conversion_id: first.body.conversion_id,
    });
    const rows = (await conversionsOfAdvertiser(f.advertiserId)).filter((r) => r.order_id === String(o.id));
    expect(rows).toHaveLength(1);
  });

  it('without a click ID, a discount code that is a coupon credits its publisher', async () => {
    const influencer = await createPublisher('Instagram');
    await adminOk('POST', '/coupons', { code: 'INSTA15', offer_id: f.offerId, publisher_id: influencer });
    const res = await deliver('orders/create', order({ discount_codes: [{ code: 'insta15', amount: '15.00' }] }));
    expect(res.body).toMatchObject({ outcome: 'created', attribution: 'coupon' });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ publisher_id: influencer, voucher: 'insta15' });
  });

  it('acknowledges an order with neither, and topics it does not use', async () => {
    expect((await deliver('orders/create', order({}))).body).toMatchObject({ ignored: true, reason: 'no_click_id' });
    expect((await deliver('orders/paid', order({}))).body).toMatchObject({ ignored: true, reason: 'unused_topic' });
  });
});

describe('refunds/create', () => {
  async function sale(total = '100.00') {
    const o = order({ total_price: total, note_attributes: [{ name: 'click_id', value: await mintLandedClick(f) }] });
    const res = await deliver('orders/create', o);
    return { orderId: o.id, id: res.body.conversion_id as string };
  }

  it('lowers the sale by each refund once, whatever is redelivered, and reverses a full refund', async () => {
    const { orderId, id } = await sale('100.00');
    const first = refund(orderId, ['20.00', '5.00']);
    const res = await deliver('refunds/create', first, 'wh-refund-1');
    expect(res.body).toMatchObject({ outcome: 'updated', amount: '75.00', refunded: '25.00' });
    expect(await conversion(id)).toMatchObject({ amount: 7500, revenue: 750, payout: 375 });
    // The same webhook again, and the same refund in another webhook: nothing changes.
    await deliver('refunds/create', first, 'wh-refund-1');
    expect((await deliver('refunds/create', first)).body.outcome).toBe('duplicate');
    expect(await conversion(id)).toMatchObject({ amount: 7500 });
    await adminOk('POST', `/conversions/${id}/status`, { status: 'approved' });
    await deliver('refunds/create', refund(orderId, ['75.00']));
    expect(await conversion(id)).toMatchObject({ status: 'reversed' });
    expect((await eventsOf(id)).map((e) => e.type)).toEqual([
      'conversion.created',
      'conversion.modified',
      'conversion.approved',
      'conversion.reversed',
    ]);
  });

  it('a refund before its order waits for it', async () => {
    const clickId = await mintLandedClick(f);
    const o = order({ total_price: '80.00', note_attributes: [{ name: 'click_id', value: clickId }] });
    const early = await deliver('refunds/create', refund(o.id, ['30.00']));
    expect(early.body).toMatchObject({ parked: true });
    const res = await deliver('orders/create', o);
    expect(res.body).toMatchObject({ outcome: 'created', amount: '50.00', refunded: '30.00' });
  });
});
