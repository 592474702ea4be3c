// conversion.modified through the real Worker: an adjustment (admin API) of a sale made by an
// advertiser postback, and what the publisher's server on loopback receives in each format:
// the new values and the previous ones (amount, payout, and the product lines when the endpoint
// includes products), never revenue, which publishers do not see.
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { adminOk, createFixture, eventually, type Fixture, RECEIVER, received, uniqueKey } from '../helpers';
import { mintLandedClick, postJson, withPayout } from '../postback-helpers';

const PRODUCTS = [
  { sku: 'SH-42', name: 'Running shoe', unit_price: '40.00', quantity: 2, category: 'shoes', commission_group: null },
];

/** A 80.00 EUR sale at 10% revenue / 5% payout, then an adjustment to one shoe (40.00). */
async function adjustedSale(f: Fixture) {
  const res = await postJson('/postback', {
    click_id: await mintLandedClick(f),
    event: 'sale',
    order_id: uniqueKey('order'),
    products: PRODUCTS,
    key: f.postbackKey,
  });
  expect(await withPayout(res)).toMatchObject({ amount: '80.00', revenue: '8.00', payout: '4.00' });
  const id = res.body.conversion_id as string;
  const adjusted = await adminOk('POST', `/conversions/${id}/adjust`, {
    products: [{ ...PRODUCTS[0], quantity: 1 }],
    reason: 'One shoe returned',
  });
  expect(adjusted).toMatchObject({ amount: '40.00', revenue: '4.00', payout: '2.00' });
  return id;
}

const first = (key: string) => eventually(async () => (await received(key))[0]);

describe('conversion.modified carries the previous values', () => {
  it('in JSON, flat form, XML, body templates and URL macros, without revenue', async () => {
    const f = await createFixture();
    const keys = {
      json: uniqueKey('mod-json'),
      products: uniqueKey('mod-products'),
      form: uniqueKey('mod-form'),
      xml: uniqueKey('mod-xml'),
      template: uniqueKey('mod-tpl'),
      query: uniqueKey('mod-query'),
      created: uniqueKey('mod-created'),
    };
    const endpoint = (body: Record<string, unknown>) =>
      adminOk('POST', '/endpoints', { publisher_id: f.publisherId, events: ['conversion.modified'], ...body });
    await endpoint({ url: `${RECEIVER}/${keys.json}`, format: 'json' });
    await endpoint({ url: `${RECEIVER}/${keys.products}`, format: 'json', include_products: true });
    await endpoint({ url: `${RECEIVER}/${keys.form}`, format: 'form' });
    await endpoint({ url: `${RECEIVER}/${keys.xml}`, format: 'xml' });
    await endpoint({
      url: `${RECEIVER}/${keys.template}`,
      format: 'json',
      body_template: '{"was":"{previous_amount}","now":"{amount}","earned_before":"{previous_payout}"}',
    });
    await endpoint({
      url: `${RECEIVER}/${keys.query}/pb?a={amount}&pa={previous_amount}&p={payout}&pp={previous_payout}`,
      format: 'query',
    });
    await endpoint({ url: `${RECEIVER}/${keys.created}`, format: 'json', events: ['conversion.created'] });
    const id = await adjustedSale(f);

    const json = JSON.parse((await first(keys.json)).body);
    expect(json.type).toBe('conversion.modified');
    expect(json.data).toMatchObject({ conversion_id: id, amount: '40.00', payout: '2.00' });
    expect(json.data.previous).toEqual({ amount: '80.00', payout: '4.00' });

    const withProducts = JSON.parse((await first(keys.products)).body).data;
    expect(withProducts.products).toEqual([{ ...PRODUCTS[0], quantity: 1 }]);
    expect(withProducts.previous).toEqual({ amount: '80.00', payout: '4.00', products: PRODUCTS });

    const form = new URLSearchParams((await first(keys.form)).body);
    expect([form.get('amount'), form.get('previous_amount'), form.get('payout'), form.get('previous_payout')]).toEqual([
      '40.00',
      '80.00',
      '2.00',
      '4.00',
    ]);

    const xml = (await first(keys.xml)).body;
    const doc = new XMLParser({ parseTagValue: false }).parse(xml);
    expect(doc.notification.data.previous).toEqual({ amount: '80.00', payout: '4.00' });

    expect(JSON.parse((await first(keys.template)).body)).toEqual({
      was: '80.00',
      now: '40.00',
      earned_before: '4.00',
    });
    expect((await first(keys.query)).url).toBe('/' + `${keys.query}/pb?a=40.00&pa=80.00&p=2.00&pp=4.00`);

    // Revenue (what the advertiser pays) is in none of them; created carries no previous block.
    for (const key of [keys.json, keys.products, keys.form, keys.xml]) {
      expect((await first(key)).body).not.toContain('revenue');
    }
    expect(JSON.parse((await first(keys.created)).body).data).not.toHaveProperty('previous');
  });

  it('renders {previous_amount} empty on events that are not adjustments', async () => {
    const f = await createFixture();
    const key = uniqueKey('mod-none');
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${key}/pb?pa={previous_amount}&pp={previous_payout}`,
      format: 'query',
      events: ['conversion.created'],
    });
    await adjustedSale(f);
    expect((await first(key)).url).toBe(`/${key}/pb?pa=&pp=`);
  });

  it('shows previous values in the sample a test send of conversion.modified makes', async () => {
    const f = await createFixture();
    const key = uniqueKey('mod-test');
    const created = await adminOk<{ id: number }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${key}`,
      format: 'json',
      include_products: true,
    });
    const report = await adminOk<{ ok: boolean; request: { body: string } }>('POST', `/endpoints/${created.id}/test`, {
      event: 'conversion.modified',
    });
    expect(report.ok).toBe(true);
    const data = JSON.parse(report.request.body).data;
    expect(data).toMatchObject({ amount: '100.00', payout: '5.00', test: true });
    expect(data.previous).toMatchObject({ amount: '150.00', payout: '7.50' });
    expect(data.previous.products[0]).toMatchObject({ sku: 'TEST-SKU-1', quantity: 3 });
    expect(JSON.stringify(data)).not.toContain('revenue');
    expect((await first(key)).body).toBe(report.request.body);
  });
});
