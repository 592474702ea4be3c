// Admin reads: GET /api/v1/conversions (filters, newest first, cursor), GET /conversions/:id
// with its events, and GET /api/v1/clicks/:clickId (the click and its conversions).
import { describe, expect, it } from 'vitest';
import { admin, click, clickRow, createFixture, eventually, worker } from '../helpers';
import { createPublisher, getPostback, mintClick } from '../postback-helpers';

interface Page {
  data: Record<string, unknown>[];
  next_cursor: string | null;
}

// Conversions are listed by created_at (ms); keep the seeded ones a few ms apart so the
// expected order is the creation order.
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

async function seed() {
  const f = await createFixture({ allow_publisher_postback: true });
  const other = await createPublisher();
  const a = await getPostback('/postback', {
    click_id: await mintClick(f),
    event: 'sale',
    order_id: 'ADM-1',
    amount: '10.00',
    key: f.postbackKey,
  });
  await tick();
  const b = await getPostback('/postback', { click_id: await mintClick(f), order_id: 'ADM-2', key: f.postbackKey });
  await tick();
  const c = await getPostback('/postback', {
    offer_id: String(f.offerId),
    publisher_id: String(other),
    order_id: 'ADM-3',
    status: 'approved',
    key: f.postbackKey,
  });
  return {
    f,
    other,
    ids: [a.body.conversion_id, b.body.conversion_id, c.body.conversion_id] as string[],
    clickA: a.body.click_id as string,
  };
}

describe('GET /api/v1/conversions', () => {
  it('lists conversions newest first with decimal amounts and each filter narrowing the list', async () => {
    const { f, other, ids, clickA } = await seed();
    const list = await admin<Page>('GET', `/conversions?offer_id=${f.offerId}`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((r) => r.id)).toEqual([...ids].reverse());
    expect(list.body.data[2]).toMatchObject({
      event: 'sale',
      order_id: 'ADM-1',
      amount: '10.00',
      revenue: '1.00',
      payout: '0.50',
      currency: 'EUR',
      status: 'pending',
      products: [],
    });
    const idsWhere = async (query: string) =>
      (await admin<Page>('GET', `/conversions?offer_id=${f.offerId}&${query}`)).body.data.map((r) => r.id);
    expect(await idsWhere('status=approved')).toEqual([ids[2]]);
    expect(await idsWhere(`publisher_id=${other}`)).toEqual([ids[2]]);
    expect(await idsWhere(`publisher_id=${f.publisherId}`)).toEqual([ids[1], ids[0]]);
    expect(await idsWhere(`advertiser_id=${f.advertiserId}`)).toHaveLength(3);
    expect(await idsWhere(`click_id=${clickA}`)).toEqual([ids[0]]);
    expect(await idsWhere('order_id=ADM-2')).toEqual([ids[1]]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await idsWhere(`from=${today}&to=${today}`)).toHaveLength(3);
    expect(await idsWhere(`to=${today}T00:00:00.000Z`)).toEqual([]);
  });

  it('pages through conversions with a cursor', async () => {
    const { f, ids } = await seed();
    const first = await admin<Page>('GET', `/conversions?offer_id=${f.offerId}&limit=2`);
    expect(first.body.data.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const second = await admin<Page>(
      'GET',
      `/conversions?offer_id=${f.offerId}&limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.data.map((r) => r.id)).toEqual([ids[0]]);
    expect(second.body.next_cursor).toBeNull();
  });

  it('refuses bad filters with 400', async () => {
    expect((await admin('GET', '/conversions?status=paid')).status).toBe(400);
    expect((await admin('GET', '/conversions?offer_id=abc')).status).toBe(400);
    expect((await admin('GET', '/conversions?cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
  });

  it('requires the admin token', async () => {
    expect((await worker('/api/v1/conversions')).status).toBe(401);
  });
});

describe('GET /api/v1/conversions/:id', () => {
  it('returns the conversion with its events and their snapshots', async () => {
    const { ids } = await seed();
    const res = await admin<Record<string, unknown> & { events: Record<string, unknown>[] }>(
      'GET',
      `/conversions/${ids[2]}`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ids[2], status: 'approved', order_id: 'ADM-3', click_id: null });
    expect(res.body.events.map((e) => [e.type, e.actor])).toEqual([
      ['conversion.created', 'postback'],
      ['conversion.approved', 'postback'],
    ]);
    expect(res.body.events[0]?.snapshot).toMatchObject({ conversion_id: ids[2], order_id: 'ADM-3' });
  });

  it('answers 404 for an unknown or malformed id', async () => {
    expect((await admin('GET', '/conversions/cv_nothing')).status).toBe(404);
    expect((await admin('GET', '/conversions/123')).status).toBe(404);
  });
});

describe('GET /api/v1/clicks/:clickId', () => {
  it('returns a landed click with its conversions', async () => {
    const f = await createFixture();
    const clickId = await click(f, '?sub2=x');
    await eventually(() => clickRow(clickId));
    const pb = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    const res = await admin<
      Record<string, unknown> & { click: Record<string, unknown>; conversions: { id: string }[] }
    >('GET', `/clicks/${clickId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      click_id: clickId,
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      landed: true,
    });
    expect(res.body.click).toMatchObject({ sub2: 'x' });
    expect(res.body.click).not.toHaveProperty('visitor_hash');
    expect(res.body.conversions.map((c) => c.id)).toEqual([pb.body.conversion_id]);
  });

  it('describes a genuine click that has not landed from its ID alone', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f, 120_000);
    const res = await admin<Record<string, unknown>>('GET', `/clicks/${clickId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ landed: false, click: null, conversions: [], offer_id: f.offerId });
    expect(Date.now() - Date.parse(String(res.body.clicked_at))).toBeGreaterThanOrEqual(120_000);
  });

  it('answers 404 for a forged click ID', async () => {
    const res = await admin('GET', `/clicks/${'Q'.repeat(48)}`);
    expect(res.status).toBe(404);
  });
});
