// What each party reads of a conversion's money through the API (DESIGN.md "What each party may
// see"): a publisher its payout and never revenue, an advertiser its revenue (what it pays) and
// never payout, the operator both. Every call goes through the OpenAPI document (openapi-call.ts),
// so each party's answer also reads with the documented shape. Money is checked to the cent.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminRouters } from '../../src/admin';
import { accessOf } from '../../src/openapi/operation';
import { adminOk, click, createFixture, eventually, type Fixture } from '../helpers';
import { getPostback } from '../postback-helpers';
import { call, json } from './openapi-call';

type Role = 'operator' | 'publisher' | 'advertiser';

/** Every path in `value` at which a key of `names` occurs. */
function keysAt(value: unknown, names: readonly string[], path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => keysAt(item, names, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(names.includes(key) ? [`${path}.${key}`] : []),
    ...keysAt(inner, names, `${path}.${key}`),
  ]);
}

const REVENUE_FIELDS = ['revenue', 'revenue_approved', 'revenue_percent'];
const PAYOUT_FIELDS = ['payout', 'payout_approved', 'payout_percent', 'payout_rule', 'tiers'];

const today = new Date().toISOString().slice(0, 10);
let f: Fixture;
let keys: Record<Role, string>;
let clickIds: string[];
let saleId: string;
let smallSaleId: string;

const as = (role: Role) => ({ headers: { authorization: `Bearer ${keys[role]}` } });

async function sale(clickId: string, orderId: string, amount: string, extra: Record<string, string> = {}) {
  const answer = await getPostback(
    '/postback',
    { click_id: clickId, event: 'sale', order_id: orderId, amount, key: f.postbackKey, ...extra },
    { 'cf-connecting-ip': '203.0.113.9' },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.conversion_id as string;
}

beforeAll(async () => {
  // Sale goal: revenue 10% and payout 5% of the sale amount.
  f = await createFixture({ name: 'Boundaries' });
  keys = { operator: '', publisher: '', advertiser: '' };
  for (const [role, scope] of [
    ['operator', {}],
    ['publisher', { publisher_id: f.publisherId }],
    ['advertiser', { advertiser_id: f.advertiserId }],
  ] as const) {
    keys[role] = (await adminOk<{ key: string }>('POST', '/api-keys', { role, ...scope })).key;
  }
  clickIds = [await click(f), await click(f), await click(f), await click(f)];
  saleId = await sale(clickIds[0] as string, 'B-1', '100.00', { descrMerchant: 'margin 5 percent' });
  smallSaleId = await sale(clickIds[1] as string, 'B-2', '40.00');
  // The four clicks reach the rollups through the clicks queue.
  await eventually(async () => {
    const report = json(await call('get', '/api/v1/reports', { query: { from: today, to: today }, ...as('operator') }));
    return report.data[0]?.clicks === 4 ? true : null;
  });
});

describe('reports and their totals', () => {
  const report = async (role: Role, group_by?: string) =>
    json(
      await call('get', '/api/v1/reports', {
        query: { from: today, to: today, offer_id: f.offerId, ...(group_by ? { group_by } : {}) },
        ...as(role),
      }),
    );

  it('a publisher reads its payout and EPC as payout per click, never revenue, in the total and by day', async () => {
    for (const body of [await report('publisher'), await report('publisher', 'day')]) {
      expect(keysAt(body, REVENUE_FIELDS)).toEqual([]);
      expect(body.data).toHaveLength(1);
      expect(body.data[0]).toMatchObject({ clicks: 4, payout: '7.00', payout_approved: '0.00', epc: '1.75' });
    }
  });

  it('an advertiser reads its revenue and EPC as its cost per click, never payout', async () => {
    for (const body of [await report('advertiser'), await report('advertiser', 'offer')]) {
      expect(keysAt(body, PAYOUT_FIELDS)).toEqual([]);
      expect(body.data[0]).toMatchObject({ clicks: 4, revenue: '14.00', revenue_approved: '0.00', epc: '3.50' });
    }
  });

  it('the operator reads both, EPC as payout per click', async () => {
    expect((await report('operator', 'publisher')).data[0]).toMatchObject({
      revenue: '14.00',
      payout: '7.00',
      epc: '1.75',
    });
  });
});

describe('conversions, their events and adjustments', () => {
  const read = async (role: Role, id: string) =>
    json(await call('get', '/api/v1/conversions/{id}', { params: { id }, ...as(role) }));
  const list = async (role: Role) =>
    json(await call('get', '/api/v1/conversions', { query: { offer_id: f.offerId }, ...as(role) }));

  it('a publisher reads its payout, never revenue: list, read, event snapshots', async () => {
    const listed = await list('publisher');
    expect(keysAt(listed, REVENUE_FIELDS)).toEqual([]);
    expect(listed.data.map((c: { id: string; payout: string }) => [c.id, c.payout]).sort()).toEqual(
      [
        [saleId, '5.00'],
        [smallSaleId, '2.00'],
      ].sort(),
    );
    const one = await read('publisher', saleId);
    expect(keysAt(one, REVENUE_FIELDS)).toEqual([]);
    expect(one).toMatchObject({ amount: '100.00', payout: '5.00', payout_rule: 'goal' });
    expect(one.events[0].snapshot).toMatchObject({ amount: '100.00', payout: '5.00' });
  });

  it('an advertiser reads its revenue, never payout or the payout rule: list, read, event snapshots', async () => {
    const listed = await list('advertiser');
    expect(keysAt(listed, PAYOUT_FIELDS)).toEqual([]);
    expect(listed.data.map((c: { id: string; revenue: string }) => [c.id, c.revenue]).sort()).toEqual(
      [
        [saleId, '10.00'],
        [smallSaleId, '4.00'],
      ].sort(),
    );
    const one = await read('advertiser', saleId);
    expect(keysAt(one, PAYOUT_FIELDS)).toEqual([]);
    expect(one).toMatchObject({ amount: '100.00', revenue: '10.00' });
    expect(one.events[0].snapshot).toMatchObject({ amount: '100.00', revenue: '10.00' });
  });

  it("an advertiser's adjustment and decision answer without payout; the history keeps each side to its own", async () => {
    const adjusted = await call('post', '/api/v1/conversions/{id}/adjust', {
      params: { id: smallSaleId },
      body: { amount: '20.00', reason: 'Partial refund' },
      ...as('advertiser'),
    });
    expect(adjusted.status).toBe(200);
    expect(keysAt(adjusted.body, PAYOUT_FIELDS)).toEqual([]);
    expect(json(adjusted)).toMatchObject({ revenue: '2.00', previous: { revenue: '4.00' } });
    const decided = await call('post', '/api/v1/conversions/{id}/status', {
      params: { id: smallSaleId },
      body: { status: 'approved' },
      ...as('advertiser'),
    });
    expect(keysAt(decided.body, PAYOUT_FIELDS)).toEqual([]);
    expect(json(decided)).toMatchObject({ status: 'approved', revenue: '2.00' });

    const modified = (body: { events: { type: string; snapshot: object }[] }) =>
      body.events.find((e) => e.type === 'conversion.modified')?.snapshot;
    const publisherView = await read('publisher', smallSaleId);
    expect(keysAt(publisherView, REVENUE_FIELDS)).toEqual([]);
    expect(modified(publisherView)).toMatchObject({ payout: '1.00', previous: { amount: '40.00', payout: '2.00' } });
    const advertiserView = await read('advertiser', smallSaleId);
    expect(keysAt(advertiserView, PAYOUT_FIELDS)).toEqual([]);
    expect(modified(advertiserView)).toMatchObject({ revenue: '2.00', previous: { amount: '40.00', revenue: '4.00' } });
    expect(modified(await read('operator', smallSaleId))).toMatchObject({
      revenue: '2.00',
      payout: '1.00',
      previous: { revenue: '4.00', payout: '2.00' },
    });
  });
});

describe('the click dispute view', () => {
  const lookup = async (role: Role) =>
    json(await call('get', '/api/v1/clicks/{clickId}', { params: { clickId: clickIds[0] as string }, ...as(role) }));

  it("a publisher sees its click's conversions with payout, never the advertiser's postback log rows", async () => {
    const view = await lookup('publisher');
    const text = JSON.stringify(view);
    expect(view.conversions[0]).toMatchObject({ id: saleId, payout: '5.00' });
    expect(keysAt(view, [...REVENUE_FIELDS, 'postbacks', 'params'])).toEqual([]);
    expect(text).not.toContain('margin 5 percent');
    expect(text).not.toContain('203.0.113');
  });

  it('the advertiser sees its own postback rows (parameters, IP prefix) and no payout', async () => {
    const view = await lookup('advertiser');
    expect(keysAt(view, PAYOUT_FIELDS)).toEqual([]);
    expect(view.conversions[0]).toMatchObject({ id: saleId, revenue: '10.00' });
    expect(view.postbacks[0]).toMatchObject({ ip_prefix: '203.0.113.0/24', conversion_id: saleId });
    expect(view.postbacks[0].params.descrMerchant).toBe('margin 5 percent');
  });
});

describe("an advertiser's offers", () => {
  it('show what its goals charge it, not what they pay publishers', async () => {
    const offer = json(await call('get', '/api/v1/offers/{id}', { params: { id: f.offerId }, ...as('advertiser') }));
    expect(keysAt(offer, PAYOUT_FIELDS)).toEqual([]);
    expect(
      offer.goals.map((g: { key: string; revenue: string; revenue_percent: number }) => [
        g.key,
        g.revenue,
        g.revenue_percent,
      ]),
    ).toEqual([
      ['lead', '5.00', 0],
      ['sale', '0.00', 10],
    ]);
    const listed = json(await call('get', '/api/v1/offers', { ...as('advertiser') }));
    expect(keysAt(listed, PAYOUT_FIELDS)).toEqual([]);
    const operator = json(await call('get', '/api/v1/offers/{id}', { params: { id: f.offerId }, ...as('operator') }));
    expect(operator.goals[0]).toMatchObject({ revenue: '5.00', payout: '2.00' });
  });
});

describe('the OpenAPI document', () => {
  it("shows a partner's operations with examples that hold none of the other side's money", () => {
    const examples = (role: 'publisher' | 'advertiser') =>
      adminRouters
        .flatMap((router) => router.operations)
        .filter((op) => accessOf(op)?.[role] !== undefined)
        .map((op) => [op.operationId, JSON.stringify({ body: op.body?.example, query: op.queryExample })]);
    expect(examples('publisher').length).toBeGreaterThan(10);
    expect(examples('publisher').filter(([, text]) => /revenue|margin/.test(text ?? ''))).toEqual([]);
    expect(examples('advertiser').filter(([, text]) => /payout|margin|tier/.test(text ?? ''))).toEqual([]);
  });
});
