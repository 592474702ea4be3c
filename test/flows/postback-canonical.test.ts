// GET/POST /postback with canonical parameters: encodings, goals, money to the minor unit,
// commission groups, click data joins, and the 400s for bad input.
import { describe, expect, it } from 'vitest';
import { click, clickRow, createFixture, eventually, worker } from '../helpers';
import {
  conversion,
  conversionsOfOffer,
  eventsOf,
  getPostback,
  lastLogRow,
  mintClick,
  postForm,
  postJson,
  withPayout,
} from '../postback-helpers';

const goals = (currency: string) => ({
  currency,
  goals: [
    { key: 'lead', revenue: currency === 'JPY' ? '500' : '5.00', payout: currency === 'JPY' ? '200' : '2.00' },
    { key: 'sale', revenue_percent: 10, payout_percent: 5 },
  ],
});

describe('canonical postback', () => {
  it('records a GET postback as a pending conversion of the default goal with its fixed payout', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const res = await getPostback('/postback', { click_id: clickId, order_id: 'A-1', key: f.postbackKey });
    expect(res.status).toBe(200);
    expect(await withPayout(res)).toMatchObject({
      status: 'ok',
      duplicate: false,
      outcome: 'created',
      event: 'lead',
      conversion_status: 'pending',
      click_id: clickId,
      order_id: 'A-1',
      amount: '0.00',
      currency: 'EUR',
      revenue: '5.00',
      payout: '2.00',
      payout_currency: 'EUR',
    });
    expect(res.body.conversion_id).toMatch(/^cv_/);
    const row = await conversion(res.body.conversion_id);
    expect(row).toMatchObject({
      offer_id: f.offerId,
      advertiser_id: f.advertiserId,
      publisher_id: f.publisherId,
      click_id: clickId,
      order_id: 'A-1',
      dedupe_key: 'o:A-1',
      status: 'pending',
      revenue: 500,
      payout: 200,
      profile: 'canonical',
      source: 'server',
    });
    expect(Date.parse(String(row?.click_time))).toBeLessThan(Date.parse(String(row?.created_at)));
  });

  it('accepts a JSON body and prices a 26.09 GBP sale to the penny (10% and 5%, half up)', async () => {
    const f = await createFixture(goals('GBP'));
    const res = await postJson('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      order_id: 'G-1',
      amount: '26.09',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    // 10% of 26.09 = 2.609 -> 2.61; 5% = 1.3045 -> 1.30
    expect(await withPayout(res)).toMatchObject({
      event: 'sale',
      amount: '26.09',
      currency: 'GBP',
      revenue: '2.61',
      payout: '1.30',
    });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ amount: 2609, revenue: 261, payout: 130 });
  });

  it('accepts a JSON number as the amount', async () => {
    const f = await createFixture(goals('GBP'));
    const res = await postJson('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      amount: 26.09,
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ amount: '26.09', revenue: '2.61' });
  });

  it('prices 1999 JPY with no decimals (199.9 -> 200, 99.95 -> 100)', async () => {
    const f = await createFixture(goals('JPY'));
    const res = await postForm('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      amount: '1999',
      currency: 'JPY',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(await withPayout(res)).toMatchObject({ amount: '1999', currency: 'JPY', revenue: '200', payout: '100' });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ amount: 1999, revenue: 200, payout: 100 });
  });

  it('prices 1.234 BHD with three decimals (0.1234 -> 0.123, 0.0617 -> 0.062)', async () => {
    const f = await createFixture(goals('BHD'));
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      amount: '1.234',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(await withPayout(res)).toMatchObject({
      amount: '1.234',
      currency: 'BHD',
      revenue: '0.123',
      payout: '0.062',
    });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ amount: 1234, revenue: 123, payout: 62 });
  });

  it('adds fixed and percent parts of one rule (1.00 + 2.5% of 40.00 = 2.00)', async () => {
    const f = await createFixture({
      goals: [{ key: 'sale', revenue: '1.00', revenue_percent: 2.5, payout: '0.50', payout_percent: 1.25 }],
    });
    const res = await getPostback('/postback', { click_id: await mintClick(f), amount: '40.00', key: f.postbackKey });
    expect(await withPayout(res)).toMatchObject({ revenue: '2.00', payout: '1.00' });
  });

  it('prices products by commission group, base fixed once, unknown groups at the base percent', async () => {
    const f = await createFixture({
      goals: [
        {
          key: 'sale',
          revenue: '1.00',
          payout: '0.50',
          revenue_percent: 10,
          payout_percent: 4,
          commission_groups: [
            { key: 'books', revenue_percent: 20, payout_percent: 12.5 },
            { key: 'gift', revenue: '0.30', payout: '0.10' },
          ],
        },
      ],
    });
    const products = [
      { sku: 'B1', name: 'Novel', unit_price: '12.99', quantity: 2, category: 'Books', commission_group: 'books' },
      { sku: 'G1', name: 'Card', unit_price: '3.00', quantity: 3, commission_group: 'gift' },
      { sku: 'X1', name: 'Lamp', unit_price: '45.50', commission_group: 'unknown' },
      { sku: 'X2', name: 'Cable', unit_price: 4.05 },
    ];
    const res = await postJson('/postback', {
      click_id: await mintClick(f),
      order_id: 'P-1',
      products,
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    // books: 25.98 -> revenue 20% = 5.196 -> 5.20, payout 12.5% = 3.2475 -> 3.25
    // gift: 3 units -> revenue 0.90, payout 0.30 (fixed per unit, no percent)
    // base: 1.00 / 0.50 once + 10% / 4% of (45.50 + 4.05 = 49.55) -> 4.955 -> 4.96 and 1.982 -> 1.98
    // revenue 1.00 + 5.20 + 0.90 + 4.96 = 12.06; payout 0.50 + 3.25 + 0.30 + 1.98 = 6.03
    expect(await withPayout(res)).toMatchObject({ amount: '84.53', revenue: '12.06', payout: '6.03' });
    const row = await conversion(res.body.conversion_id);
    expect(row).toMatchObject({ amount: 8453, revenue: 1206, payout: 603 });
    expect(JSON.parse(String(row?.products))).toEqual([
      { sku: 'B1', name: 'Novel', unit_price: '12.99', quantity: 2, category: 'Books', commission_group: 'books' },
      { sku: 'G1', name: 'Card', unit_price: '3.00', quantity: 3, category: null, commission_group: 'gift' },
      { sku: 'X1', name: 'Lamp', unit_price: '45.50', quantity: 1, category: null, commission_group: 'unknown' },
      { sku: 'X2', name: 'Cable', unit_price: '4.05', quantity: 1, category: null, commission_group: null },
    ]);
  });

  it('keeps a reported amount beside products, but prices the products', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      amount: '100.00',
      products: JSON.stringify([{ sku: 'A', unit_price: '10.00', quantity: 2 }]),
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(await withPayout(res)).toMatchObject({ amount: '100.00', revenue: '2.00', payout: '1.00' });
  });

  it('uses the goal named by event, and the default goal without it', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const lead = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    const sale = await getPostback('/postback', {
      click_id: clickId,
      event: 'sale',
      amount: '50.00',
      key: f.postbackKey,
    });
    expect(lead.body).toMatchObject({ event: 'lead', revenue: '5.00' });
    expect(await withPayout(sale)).toMatchObject({ event: 'sale', revenue: '5.00', payout: '2.50' });
    expect(sale.body.conversion_id).not.toBe(lead.body.conversion_id);
  });

  it('creates a conversion of a goal whose default status is approved as approved, with both events', async () => {
    const f = await createFixture({
      goals: [{ key: 'lead', revenue: '1.00', payout: '0.40', default_status: 'approved' }],
    });
    const res = await getPostback('/postback', { click_id: await mintClick(f), key: f.postbackKey });
    expect(res.body.conversion_status).toBe('approved');
    const events = await eventsOf(res.body.conversion_id);
    expect(events.map((e) => [e.type, e.from_status, e.to_status, e.actor])).toEqual([
      ['conversion.created', null, 'approved', 'postback'],
      ['conversion.approved', null, 'approved', 'postback'],
    ]);
    expect(JSON.parse(String(events[0]?.snapshot))).toMatchObject({
      event: 'conversion.created',
      conversion_id: res.body.conversion_id,
      status: 'approved',
      goal: 'lead',
      payout: '0.40',
      offer_name: 'Summer sale',
    });
  });

  it('accepts status=rejected on creation and emits conversion.rejected', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      status: 'rejected',
      key: f.postbackKey,
    });
    expect(res.body.conversion_status).toBe('rejected');
    expect((await eventsOf(res.body.conversion_id)).map((e) => e.type)).toEqual([
      'conversion.created',
      'conversion.rejected',
    ]);
  });

  it('joins the sub IDs and click data of a click that has landed', async () => {
    const f = await createFixture();
    const clickId = await click(f, '?sub1=news&sub3=top', { referer: 'https://www.google.com/search?q=red+shoes' });
    await eventually(() => clickRow(clickId));
    const res = await getPostback('/postback', { click_id: clickId, key: f.postbackKey, sub1: 'ignored' });
    expect(res.status).toBe(200);
    expect(await conversion(res.body.conversion_id)).toMatchObject({ sub1: 'news', sub2: null, sub3: 'top' });
    const [created] = await eventsOf(res.body.conversion_id);
    expect(JSON.parse(String(created?.snapshot)).click).toMatchObject({
      search_engine: 'Google',
      search_phrase: 'red shoes',
    });
  });

  it('attributes a click whose row has not landed yet, from the click ID alone', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f, 5_000);
    const res = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    expect(res.status).toBe(200);
    expect(await clickRow(clickId)).toBeNull();
    expect(await conversion(res.body.conversion_id)).toMatchObject({ publisher_id: f.publisherId, sub1: null });
    const [created] = await eventsOf(res.body.conversion_id);
    expect(JSON.parse(String(created?.snapshot)).click).toBeNull();
  });

  it('stores a sale in another currency when the goal pays fixed amounts only', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      amount: '19.99',
      currency: 'usd',
      voucher: 'SPRING',
      description: 'first order',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ amount: '19.99', currency: 'USD', revenue: '5.00', payout_currency: 'EUR' });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ voucher: 'SPRING', description: 'first order' });
  });
});

describe('canonical postback: parameter sources', () => {
  it('accepts the same value in the query and the body', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const res = await postForm(`/postback?click_id=${clickId}`, { click_id: clickId, key: f.postbackKey });
    expect(res.status).toBe(200);
  });

  it('refuses a parameter whose query and body values differ, naming it, and stores nothing', async () => {
    const f = await createFixture();
    const res = await postJson('/postback?order_id=Q-1', {
      click_id: await mintClick(f),
      order_id: 'Q-2',
      key: f.postbackKey,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.fields).toHaveProperty('order_id');
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('refuses a repeated parameter with two values', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const res = await getPostback(`/postback?amount=1.00&amount=2.00`, { click_id: clickId, key: f.postbackKey });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('amount');
  });

  it('refuses a body of another media type with 415', async () => {
    const f = await createFixture();
    const response = await worker(`/postback?key=${f.postbackKey}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: '<postback/>',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
  });

  it('refuses malformed JSON with 400', async () => {
    const response = await worker('/postback', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"click_id":',
    });
    expect(response.status).toBe(400);
  });

  it('answers HEAD with 405 and records no conversion', async () => {
    const f = await createFixture();
    const response = await worker(`/postback?click_id=${await mintClick(f)}&key=${f.postbackKey}`, { method: 'HEAD' });
    expect(response.status).toBe(405);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });
});

describe('canonical postback: bad input is a 400 naming the field', () => {
  it.each([
    [{ amount: 'abc' }, 'amount'],
    [{ amount: '-5.00' }, 'amount'],
    [{ amount: '26.091' }, 'amount'],
    [{ amount: '1e3' }, 'amount'],
    [{ currency: 'ABC' }, 'currency'],
    [{ currency: 'EURO' }, 'currency'],
    [{ status: 'paid' }, 'status'],
    [{ event: 'install' }, 'event'],
    [{ products: 'not json' }, 'products'],
    [{ products: '{"sku":"a"}' }, 'products'],
    [{ products: '[{"sku":"a"}]' }, 'products.0.unit_price'],
    [{ products: '[{"unit_price":"1.00","quantity":0}]' }, 'products.0.quantity'],
    [{ products: '[{"unit_price":"1.001"}]' }, 'products.0.unit_price'],
    [{ order_id: 'x'.repeat(256) }, 'order_id'],
    [{ order_id: 'a\nb' }, 'order_id'],
  ])('%j -> 400 on %s', async (params, field) => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      key: f.postbackKey,
      ...params,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(Object.keys(res.body.error.fields)).toContain(field);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
    expect(await lastLogRow()).toMatchObject({ outcome: 'refused', http_status: 400, error_code: 'invalid_request' });
  });

  it('refuses a sale in another currency when the goal pays a percentage (no exchange rates)', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      amount: '10.00',
      currency: 'USD',
      key: f.postbackKey,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.currency).toMatch(/EUR/);
  });

  it('requires a click ID (or offer_id + publisher_id)', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', { order_id: 'Z', key: f.postbackKey });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('click_id');
  });

  it('refuses a JSON object where a text value belongs', async () => {
    const f = await createFixture();
    const res = await postJson('/postback', { click_id: await mintClick(f), order_id: { a: 1 }, key: f.postbackKey });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('order_id');
  });
});

describe('canonical postback: limits', () => {
  it('refuses a body over 64 KiB with 413', async () => {
    const f = await createFixture();
    const res = await postJson('/postback', {
      click_id: await mintClick(f),
      description: 'x'.repeat(70_000),
      key: f.postbackKey,
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('asks for event when a status update without it matches the order in two goals', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    await getPostback('/postback', { click_id: clickId, event: 'lead', order_id: 'TWO', key: f.postbackKey });
    await getPostback('/postback', {
      click_id: clickId,
      event: 'sale',
      order_id: 'TWO',
      amount: '1.00',
      key: f.postbackKey,
    });
    const res = await getPostback('/postback', {
      click_id: clickId,
      order_id: 'TWO',
      status: 'approved',
      key: f.postbackKey,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.event).toMatch(/lead, sale/);
  });
});
