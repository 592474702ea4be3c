// The awin preset and commission groups through the real Worker: offers with named and described
// commission groups (admin API), a postback with product lines, status changes and an
// adjustment, and what the publisher's server on loopback receives from the notifications
// Queue: Awin's JSON once per sale by default, later pushes marked with the fields of Awin's
// transactions API, Awin's commissionGroups and products (skuType included) in the push and in
// the !!!commissionGroups!!! / !!!products!!! macros, and the groups in JSON, form and XML.
import { env } from 'cloudflare:workers';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { awinTime } from '../../src/notify/macros';
import { clickRecord, insertClicks } from '../fixtures';
import type { ReceivedRequest } from '../global-setup';
import {
  admin,
  adminOk,
  createFixture,
  eventually,
  expectError,
  type Fixture,
  RECEIVER,
  received,
  scalar,
  uniqueKey,
} from '../helpers';
import { mintClick, postJson, withPayout } from '../postback-helpers';

const ALL_EVENTS = [
  'conversion.created',
  'conversion.approved',
  'conversion.rejected',
  'conversion.reversed',
  'conversion.modified',
];

/** A sale program paying 8% on CDs and 6% on DVDs, each group with its own name; CDs described. */
const offerWithGroups = () =>
  createFixture({
    goals: [
      {
        key: 'sale',
        revenue_percent: 10,
        payout_percent: 5,
        commission_groups: [
          {
            key: 'CD',
            name: 'Compact discs',
            description: 'Music on CD & vinyl',
            revenue_percent: 12,
            payout_percent: 8,
          },
          { code: 'DVD', name: 'Films', revenue_percent: 10, payout_percent: 6 },
        ],
      },
    ],
  });

const PRODUCTS = [
  { sku: 'C1', name: 'Album "Blue"', unit_price: '10.00', quantity: 2, category: 'music', commission_group: 'CD' },
  { sku: 'D1', name: 'Film', unit_price: '5.00', quantity: 1, commission_group: 'DVD' },
];

interface Sale {
  id: string;
  createdAt: string;
  clickTime: string;
}

/**
 * A click stored with sub1 and a referrer, then an advertiser postback with PRODUCTS: 25.00 EUR,
 * payout 1.60 (CD) + 0.30 (DVD) = 1.90.
 */
async function sale(f: Fixture, orderId = uniqueKey('order')): Promise<Sale> {
  const now = Date.now();
  const clickId = await mintClick(f, 60_000, now);
  await insertClicks([
    clickRecord(f, new Date(now - 60_000).toISOString(), {
      click_id: clickId,
      sub1: 'member-42',
      referrer: 'https://blog.example/post',
    }),
  ]);
  const res = await postJson('/postback', {
    click_id: clickId,
    event: 'sale',
    order_id: orderId,
    products: PRODUCTS,
    key: f.postbackKey,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(await withPayout(res)).toMatchObject({ amount: '25.00', payout: '1.90' });
  const stored = await adminOk<{ created_at: string; click_time: string }>(
    'GET',
    `/conversions/${res.body.conversion_id}`,
  );
  return { id: res.body.conversion_id, createdAt: stored.created_at, clickTime: stored.click_time };
}

/** The first `n` requests the receiver got under `key`, waiting for them to arrive. */
const nth = (key: string, n: number) =>
  eventually(async () => {
    const list = await received(key);
    return list.length >= n ? list : null;
  });

const pushOf = (request: ReceivedRequest | undefined) =>
  new URLSearchParams(request?.body ?? '').get('AwinTransactionPush') ?? '';

async function groupIds(offerId: number) {
  const { results } = await env.DB.prepare('SELECT id, code FROM commission_groups WHERE offer_id = ?')
    .bind(offerId)
    .all<{ id: number; code: string }>();
  return Object.fromEntries(results.map((g) => [g.code, String(g.id)]));
}

/** When the conversion's event of `type` happened, in Awin's date format. */
async function eventTime(conversionId: string, type: string): Promise<string> {
  const row = await env.DB.prepare('SELECT created_at FROM conversion_events WHERE conversion_id = ? AND type = ?')
    .bind(conversionId, type)
    .first<{ created_at: string }>();
  return awinTime(row?.created_at ?? null);
}

describe('awin preset: one push per sale, later pushes told apart', () => {
  it('subscribes a preset endpoint to conversion.created only when it names no events', async () => {
    const f = await createFixture({
      goals: [
        {
          key: 'sale',
          payout_percent: 5,
          commission_groups: [
            { key: 'CD', payout_percent: 8 },
            { key: 'DVD', payout_percent: 6 },
          ],
        },
      ],
    });
    const awinKey = uniqueKey('awin-default');
    const jsonKey = uniqueKey('json-all');
    const awin = await adminOk<{ id: number; events: string[] }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${awinKey}/awin.php`,
      preset: 'awin',
    });
    expect(awin.events).toEqual(['conversion.created']);
    const json = await adminOk<{ events: string[] }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${jsonKey}`,
      format: 'json',
    });
    expect(json.events).toEqual(ALL_EVENTS);

    const { id } = await sale(f);
    await adminOk('POST', `/conversions/${id}/status`, { status: 'approved' });
    await adminOk('POST', `/conversions/${id}/adjust`, { products: PRODUCTS.slice(0, 1), reason: 'Film returned' });
    await adminOk('POST', `/conversions/${id}/status`, { status: 'reversed', reason: 'Order cancelled' });
    // The json endpoint hears all four events; by then the preset endpoint has had its one push.
    const types = (await nth(jsonKey, 4)).map((r) => JSON.parse(r.body).type).sort();
    expect(types).toEqual(['conversion.approved', 'conversion.created', 'conversion.modified', 'conversion.reversed']);
    const pushes = await received(awinKey);
    expect(pushes).toHaveLength(1);
    expect(JSON.parse(pushOf(pushes[0]))).toMatchObject({ transactionId: id, commission: '1.90' });
    expect(await scalar('SELECT COUNT(*) AS n FROM deliveries WHERE endpoint_id = ?', awin.id)).toBe(1);
  });

  it("sends Awin's exact push on created, then commissionStatus, validationDate and the amendment on later events", async () => {
    const f = await offerWithGroups();
    const key = uniqueKey('awin-all');
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${key}/awin.php`,
      preset: 'awin',
      events: ALL_EVENTS,
    });
    const { id, createdAt, clickTime } = await sale(f);
    const ids = await groupIds(f.offerId);
    const [created] = await nth(key, 1);
    expect(created?.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=UTF-8');
    // Byte for byte, in Awin's key order; no status fields (Awin's own push has none).
    const base = {
      transactionId: id,
      transactionDate: awinTime(createdAt),
      transactionCurrency: 'EUR',
      transactionAmount: '25.00',
      affiliateId: String(f.publisherId),
      merchantId: String(f.advertiserId),
      groupId: '0',
      bannerId: '0',
      clickRef: 'member-42',
      clickThroughTime: awinTime(clickTime),
      clickTime: awinTime(clickTime),
      url: 'https://blog.example/post',
      commission: '1.90',
    };
    const groups = [
      { id: ids.CD, name: 'Compact discs', code: 'CD', description: 'Music on CD & vinyl' },
      { id: ids.DVD, name: 'Films', code: 'DVD' },
    ];
    const products = [
      {
        productName: 'Album "Blue"',
        unitPrice: '10.00',
        skuType: 'sku',
        skuCode: 'C1',
        quantity: '2',
        category: 'music',
        cgId: ids.CD,
      },
      { productName: 'Film', unitPrice: '5.00', skuType: 'sku', skuCode: 'D1', quantity: '1', cgId: ids.DVD },
    ];
    expect(pushOf(created)).toBe(JSON.stringify({ ...base, commissionGroups: groups, products }));

    await adminOk('POST', `/conversions/${id}/status`, { status: 'approved' });
    const approved = JSON.parse(pushOf((await nth(key, 2))[1]));
    expect(approved).toEqual({
      ...base,
      commissionStatus: 'approved',
      validationDate: await eventTime(id, 'conversion.approved'),
      commissionGroups: groups,
      products,
    });

    const albumOnly = [{ ...PRODUCTS[0], quantity: 1 }];
    await adminOk('POST', `/conversions/${id}/adjust`, { products: albumOnly, reason: 'Film and an album returned' });
    const modified = JSON.parse(pushOf((await nth(key, 3))[2]));
    expect(modified).toEqual({
      ...base,
      transactionAmount: '10.00',
      commission: '0.80',
      commissionStatus: 'approved',
      amended: 'true',
      oldSaleAmount: '25.00',
      oldCommissionAmount: '1.90',
      commissionGroups: [groups[0]],
      products: [{ ...products[0], quantity: '1' }],
    });

    await adminOk('POST', `/conversions/${id}/status`, { status: 'reversed', reason: 'Order cancelled' });
    const reversed = JSON.parse(pushOf((await nth(key, 4))[3]));
    expect(reversed).toMatchObject({
      transactionId: id,
      commission: '0.80',
      commissionStatus: 'declined',
      validationDate: await eventTime(id, 'conversion.reversed'),
    });
    expect(reversed).not.toHaveProperty('amended');
  });
});

describe('commission groups in the offers API', () => {
  interface Group {
    id: number | null;
    key: string;
    name: string;
    description: string | null;
  }
  const groupsOf = (offer: { goals: { commission_groups: Group[] }[] }) =>
    offer.goals.flatMap((g) =>
      g.commission_groups.map(({ id, key, name, description }) => ({ id, key, name, description })),
    );

  it('takes name and description (and code as an alias of key), stores and answers them', async () => {
    const f = await offerWithGroups();
    const ids = await groupIds(f.offerId);
    const offer = await adminOk<{ goals: { commission_groups: Group[] }[] }>('GET', `/offers/${f.offerId}`);
    expect(groupsOf(offer)).toEqual([
      { id: Number(ids.CD), key: 'CD', name: 'Compact discs', description: 'Music on CD & vinyl' },
      { id: Number(ids.DVD), key: 'DVD', name: 'Films', description: null },
    ]);
    expect(offer.goals[0]?.commission_groups[0]).toMatchObject({ payout_percent: 8, revenue_percent: 12 });

    // A change keeps what it does not name; null clears a description; ids stay.
    const changed = await adminOk<{ goals: { commission_groups: Group[] }[] }>('PATCH', `/offers/${f.offerId}`, {
      goals: [
        {
          key: 'sale',
          payout_percent: 5,
          commission_groups: [
            { key: 'CD', description: null, payout_percent: 8 },
            { key: 'DVD', name: 'Films and series', description: 'DVD and Blu-ray', payout_percent: 6 },
          ],
        },
      ],
    });
    expect(groupsOf(changed)).toEqual([
      { id: Number(ids.CD), key: 'CD', name: 'Compact discs', description: null },
      { id: Number(ids.DVD), key: 'DVD', name: 'Films and series', description: 'DVD and Blu-ray' },
    ]);
    const stored = await env.DB.prepare(
      'SELECT code, name, description FROM commission_groups WHERE offer_id = ? ORDER BY code',
    )
      .bind(f.offerId)
      .all();
    expect(stored.results).toEqual([
      { code: 'CD', name: 'Compact discs', description: null },
      { code: 'DVD', name: 'Films and series', description: 'DVD and Blu-ray' },
    ]);
  });

  it.each([
    [
      'a group without a code',
      [{ key: 'sale', commission_groups: [{ name: 'Books', payout: '1.00' }] }],
      ['goals.0.commission_groups.0.key'],
    ],
    [
      'key and code that differ',
      [{ key: 'sale', commission_groups: [{ key: 'A', code: 'B' }] }],
      ['goals.0.commission_groups.0.code'],
    ],
    [
      'one code named two ways by two goals',
      [
        { key: 'sale', commission_groups: [{ key: 'CD', name: 'Compact discs' }] },
        { key: 'resale', commission_groups: [{ key: 'CD', name: 'Records' }] },
      ],
      ['goals.1.commission_groups.0.name'],
    ],
    [
      'one code described two ways by two goals',
      [
        { key: 'sale', commission_groups: [{ key: 'CD', description: 'Music' }] },
        { key: 'resale', commission_groups: [{ key: 'CD', description: 'Records' }] },
      ],
      ['goals.1.commission_groups.0.description'],
    ],
  ])('refuses %s with a 400 naming the field and writes nothing', async (_, goals, fields) => {
    const f = await createFixture();
    const offers = await scalar('SELECT COUNT(*) AS n FROM offers');
    const groups = await scalar('SELECT COUNT(*) AS n FROM commission_groups');
    const created = await admin('POST', '/offers', {
      advertiser_id: f.advertiserId,
      name: 'Records',
      landing_url: 'https://shop.example/',
      currency: 'EUR',
      goals,
    });
    expectError(created, 400, 'invalid_request', fields);
    const changed = await admin('PATCH', `/offers/${f.offerId}`, { goals });
    expectError(changed, 400, 'invalid_request', fields);
    expect(await scalar('SELECT COUNT(*) AS n FROM offers')).toBe(offers);
    expect(await scalar('SELECT COUNT(*) AS n FROM commission_groups')).toBe(groups);
  });
});

describe('commission groups and products in every payload', () => {
  it("sends Awin's products and groups in the macros, and the groups with JSON, form and XML products", async () => {
    const f = await offerWithGroups();
    const keys = { get: uniqueKey('get'), json: uniqueKey('json'), form: uniqueKey('form'), xml: uniqueKey('xml') };
    const endpoint = (body: Record<string, unknown>) =>
      adminOk('POST', '/endpoints', { publisher_id: f.publisherId, events: ['conversion.created'], ...body });
    await endpoint({
      url: `${RECEIVER}/${keys.get}/cb?cg=!!!commissionGroups!!!&p=!!!products!!!&own={products}`,
      format: 'query',
    });
    await endpoint({ url: `${RECEIVER}/${keys.json}`, format: 'json', include_products: true });
    await endpoint({ url: `${RECEIVER}/${keys.form}`, format: 'form', include_products: true });
    await endpoint({ url: `${RECEIVER}/${keys.xml}`, format: 'xml', include_products: true });
    await sale(f);
    const ids = await groupIds(f.offerId);

    const [get] = await nth(keys.get, 1);
    const query = new URL(get?.url ?? '', RECEIVER).searchParams;
    expect(query.get('cg')).toBe(
      JSON.stringify([
        { id: ids.CD, name: 'Compact discs', code: 'CD', description: 'Music on CD & vinyl' },
        { id: ids.DVD, name: 'Films', code: 'DVD' },
      ]),
    );
    expect(query.get('p')).toBe(
      JSON.stringify([
        {
          productName: 'Album "Blue"',
          unitPrice: '10.00',
          skuType: 'sku',
          skuCode: 'C1',
          quantity: '2',
          category: 'music',
          cgId: ids.CD,
        },
        { productName: 'Film', unitPrice: '5.00', skuType: 'sku', skuCode: 'D1', quantity: '1', cgId: ids.DVD },
      ]),
    );
    // {products} keeps Clickhop's own product lines.
    expect(JSON.parse(query.get('own') ?? '')[0]).toEqual({
      sku: 'C1',
      name: 'Album "Blue"',
      unit_price: '10.00',
      quantity: 2,
      category: 'music',
      commission_group: 'CD',
    });

    const groups = [
      { id: Number(ids.CD), code: 'CD', name: 'Compact discs', description: 'Music on CD & vinyl' },
      { id: Number(ids.DVD), code: 'DVD', name: 'Films', description: null },
    ];
    const [json] = await nth(keys.json, 1);
    expect(JSON.parse(json?.body ?? '').data.commission_groups).toEqual(groups);
    const [form] = await nth(keys.form, 1);
    expect(new URLSearchParams(form?.body).get('commission_groups')).toBe(JSON.stringify(groups));
    const [xml] = await nth(keys.xml, 1);
    const doc = new XMLParser({ parseTagValue: false, processEntities: true }).parse(xml?.body ?? '');
    expect(doc.notification.data.commission_groups.commission_group).toEqual([
      { id: ids.CD, code: 'CD', name: 'Compact discs', description: 'Music on CD & vinyl' },
      { id: ids.DVD, code: 'DVD', name: 'Films', description: '' },
    ]);
  });
});
