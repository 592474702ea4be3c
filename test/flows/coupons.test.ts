// Coupons through the real Worker: the API (operator writes, each party's view), click-less
// coupon attribution on /postback with each alias, the validity window, and both coupon
// policies when a click of one publisher meets another publisher's code.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, adminOk, createFixture, type Fixture, worker } from '../helpers';
import { conversion, createPublisher, getPostback, mintLandedClick } from '../postback-helpers';

interface Coupon {
  id: number;
  code: string;
  offer_id: number;
  publisher_id: number;
  starts_at: string | null;
  ends_at: string | null;
  active: boolean;
}

async function keyFor(body: Record<string, unknown>): Promise<string> {
  return (await adminOk<{ key: string }>('POST', '/api-keys', body)).key;
}

async function asKey(key: string, method: string, path: string, body?: unknown) {
  const res = await worker(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { data?: Coupon[] } };
}

const HOUR = 3_600_000;

describe('coupons API', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  });

  it('creates a code and answers it with its window, stored in UTC', async () => {
    const created = await admin<Coupon>('POST', '/coupons', {
      code: 'Summer25',
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      starts_at: '2026-01-01T01:00:00+01:00',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      code: 'Summer25',
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      starts_at: '2026-01-01T00:00:00.000Z',
      ends_at: null,
      active: true,
    });
  });

  it('refuses the same code on the same offer in another case with a 409 naming code', async () => {
    const again = await admin('POST', '/coupons', {
      code: 'SUMMER25',
      offer_id: f.offerId,
      publisher_id: f.publisherId,
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'duplicate_coupon', fields: { code: expect.any(String) } } });
  });

  it('allows the same code on another offer', async () => {
    const other = await createFixture();
    const res = await admin('POST', '/coupons', {
      code: 'summer25',
      offer_id: other.offerId,
      publisher_id: f.publisherId,
    });
    expect(res.status).toBe(201);
  });

  it.each([
    [{ code: '', offer_id: 1, publisher_id: 1 }, 'code'],
    [{ code: 'TWO WORDS', offer_id: 1, publisher_id: 1 }, 'code'],
    [
      { code: 'X', offer_id: 1, publisher_id: 1, starts_at: '2027-01-02T00:00:00Z', ends_at: '2027-01-01T00:00:00Z' },
      'ends_at',
    ],
    [{ code: 'X', offer_id: 1, publisher_id: 1, ends_at: 'tomorrow' }, 'ends_at'],
    [{ code: 'X', offer_id: 999999, publisher_id: 1 }, 'offer_id'],
  ])('refuses %j with a 400 naming %s', async (body, field) => {
    const res = await admin<{ error: { fields: Record<string, string> } }>('POST', '/coupons', body);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.fields)).toContain(field);
  });

  it('lists by offer and publisher with cursor pagination, and deletes', async () => {
    const p2 = await createPublisher('Podcast');
    for (const code of ['A1', 'A2', 'A3']) {
      await adminOk('POST', '/coupons', { code, offer_id: f.offerId, publisher_id: p2 });
    }
    const first = await admin<{ data: Coupon[]; next_cursor: string | null }>(
      'GET',
      `/coupons?publisher_id=${p2}&limit=2`,
    );
    expect(first.body.data.map((c) => c.code)).toEqual(['A1', 'A2']);
    const rest = await admin<{ data: Coupon[]; next_cursor: string | null }>(
      'GET',
      `/coupons?publisher_id=${p2}&limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(rest.body).toMatchObject({ data: [{ code: 'A3' }], next_cursor: null });
    const removed = await admin<Coupon>('DELETE', `/coupons/${rest.body.data[0]?.id}`);
    expect(removed).toMatchObject({ status: 200, body: { code: 'A3' } });
    expect((await admin('DELETE', `/coupons/${rest.body.data[0]?.id}`)).status).toBe(404);
    const byOffer = await admin<{ data: Coupon[] }>('GET', `/coupons?offer_id=${f.offerId}`);
    expect(byOffer.body.data.map((c) => c.code)).toEqual(['Summer25', 'A1', 'A2']);
  });

  it('shows a publisher its own codes and an advertiser the codes of its offers, nothing else', async () => {
    const mine = await createFixture();
    const theirs = await createFixture();
    await adminOk('POST', '/coupons', { code: 'MINE', offer_id: mine.offerId, publisher_id: mine.publisherId });
    await adminOk('POST', '/coupons', { code: 'THEIRS', offer_id: theirs.offerId, publisher_id: theirs.publisherId });
    const publisher = await keyFor({ role: 'publisher', publisher_id: mine.publisherId });
    const advertiser = await keyFor({ role: 'advertiser', advertiser_id: mine.advertiserId });
    expect((await asKey(publisher, 'GET', '/coupons')).body.data?.map((c) => c.code)).toEqual(['MINE']);
    expect((await asKey(advertiser, 'GET', '/coupons')).body.data?.map((c) => c.code)).toEqual(['MINE']);
    expect((await asKey(publisher, 'GET', `/coupons?publisher_id=${theirs.publisherId}`)).status).toBe(404);
    expect((await asKey(advertiser, 'GET', `/coupons?offer_id=${theirs.offerId}`)).status).toBe(404);
    const write = { code: 'SELF', offer_id: mine.offerId, publisher_id: mine.publisherId };
    expect((await asKey(publisher, 'POST', '/coupons', write)).status).toBe(403);
    expect((await asKey(advertiser, 'POST', '/coupons', write)).status).toBe(403);
  });
});

describe('click-less coupon attribution on /postback', () => {
  let f: Fixture;
  let influencer: number;
  beforeAll(async () => {
    f = await createFixture();
    influencer = await createPublisher('Influencer');
    await adminOk('POST', '/coupons', { code: 'Podcast10', offer_id: f.offerId, publisher_id: influencer });
    const now = Date.now();
    await adminOk('POST', '/coupons', {
      code: 'EXPIRED',
      offer_id: f.offerId,
      publisher_id: influencer,
      ends_at: new Date(now - HOUR).toISOString(),
    });
    await adminOk('POST', '/coupons', {
      code: 'LATER',
      offer_id: f.offerId,
      publisher_id: influencer,
      starts_at: new Date(now + HOUR).toISOString(),
    });
  });

  it.each(['voucher', 'coupon', 'coupon_code'])(
    'credits the code’s publisher from %s (any case), with empty sub IDs',
    async (name) => {
      const res = await getPostback('/postback', {
        key: f.postbackKey,
        [name]: 'podcast10',
        event: 'sale',
        order_id: `CP-${name}`,
        amount: '80.00',
        sub1: 'ignored',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', attribution: 'coupon', source: 'server', click_id: null });
      expect(res.body.attribution_note).toBeUndefined();
      expect(await conversion(res.body.conversion_id)).toMatchObject({
        publisher_id: influencer,
        offer_id: f.offerId,
        voucher: 'podcast10',
        attribution: 'coupon',
        sub1: null,
        payout: 400,
        revenue: 800,
      });
    },
  );

  it('a replay of the coupon sale is the same conversion', async () => {
    const params = { key: f.postbackKey, voucher: 'PODCAST10', order_id: 'CP-replay', amount: '10.00' };
    const first = await getPostback('/postback', params);
    const again = await getPostback('/postback', params);
    expect(again.body).toMatchObject({ conversion_id: first.body.conversion_id, duplicate: true });
  });

  it.each([
    ['EXPIRED', 422, 'coupon_not_valid'],
    ['LATER', 422, 'coupon_not_valid'],
    ['NOSUCH', 404, 'coupon_not_found'],
  ])('refuses %s (%i %s), naming the parameter as sent, and stores nothing', async (code, status, errorCode) => {
    const res = await getPostback('/postback', { key: f.postbackKey, coupon: code, order_id: `CP-${code}` });
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code: errorCode, fields: { coupon: expect.any(String) } });
    const rows = await env.DB.prepare('SELECT COUNT(*) AS n FROM conversions WHERE order_id = ?')
      .bind(`CP-${code}`)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it('never matches another advertiser’s code', async () => {
    const other = await createFixture();
    const res = await getPostback('/postback', { key: other.postbackKey, voucher: 'Podcast10', order_id: 'CP-x' });
    expect(res.status).toBe(404);
  });

  it('asks for offer_id when the code is a coupon of two of the advertiser’s offers', async () => {
    const second = await adminOk<{ id: number }>('POST', '/offers', {
      advertiser_id: f.advertiserId,
      name: 'Winter',
      landing_url: 'https://shop.example/w',
      currency: 'EUR',
      goals: [{ key: 'sale', revenue_percent: 10, payout_percent: 5 }],
    });
    await adminOk('POST', '/coupons', { code: 'BOTH', offer_id: f.offerId, publisher_id: influencer });
    await adminOk('POST', '/coupons', { code: 'BOTH', offer_id: second.id, publisher_id: f.publisherId });
    const ambiguous = await getPostback('/postback', { key: f.postbackKey, voucher: 'BOTH', order_id: 'CP-both' });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error.fields).toHaveProperty('offer_id');
    const chosen = await getPostback('/postback', {
      key: f.postbackKey,
      voucher: 'both',
      offer_id: String(second.id),
      order_id: 'CP-both',
      amount: '20.00',
    });
    expect(chosen.status).toBe(200);
    expect(await conversion(chosen.body.conversion_id)).toMatchObject({
      offer_id: second.id,
      publisher_id: f.publisherId,
    });
  });
});

describe('click and another publisher’s coupon: the offer’s coupon_policy decides', () => {
  it.each([
    ['click_wins', 'click', 'coupon SAVE5 of publisher {coupon} lost to the click (click_wins)'],
    ['coupon_wins', 'coupon', 'the click of publisher {click} lost to coupon SAVE5 (coupon_wins)'],
  ] as const)('%s', async (policy, winner, note) => {
    const f = await createFixture(policy === 'click_wins' ? {} : { coupon_policy: policy });
    const offer = await adminOk<{ coupon_policy: string }>('GET', `/offers/${f.offerId}`);
    expect(offer.coupon_policy).toBe(policy);
    const couponPublisher = await createPublisher('Cashback');
    await adminOk('POST', '/coupons', { code: 'SAVE5', offer_id: f.offerId, publisher_id: couponPublisher });
    const clickId = await mintLandedClick(f);
    const res = await getPostback('/postback', {
      key: f.postbackKey,
      click_id: clickId,
      voucher: 'save5',
      order_id: `POL-${policy}`,
      amount: '50.00',
    });
    expect(res.status).toBe(200);
    const expectedNote = note.replace('{coupon}', String(couponPublisher)).replace('{click}', String(f.publisherId));
    expect(res.body).toMatchObject({ attribution: winner, attribution_note: expectedNote });
    const row = await conversion(res.body.conversion_id);
    expect(row).toMatchObject({
      publisher_id: winner === 'click' ? f.publisherId : couponPublisher,
      click_id: winner === 'click' ? clickId : null,
      attribution: winner,
      attribution_note: expectedNote,
    });
    const shown = await adminOk<Record<string, unknown>>('GET', `/conversions/${res.body.conversion_id}`);
    expect(shown).toMatchObject({ attribution: winner, attribution_note: expectedNote, source: 'server' });
  });

  it('the clicking publisher’s own code is no conflict: the click, without a note', async () => {
    const f = await createFixture({ coupon_policy: 'coupon_wins' });
    await adminOk('POST', '/coupons', { code: 'OWN', offer_id: f.offerId, publisher_id: f.publisherId });
    const res = await getPostback('/postback', {
      key: f.postbackKey,
      click_id: await mintLandedClick(f),
      voucher: 'OWN',
      order_id: 'POL-own',
      amount: '5.00',
    });
    expect(res.body).toMatchObject({ attribution: 'click' });
    expect(res.body.attribution_note).toBeUndefined();
  });

  it('an expired rival code loses to nothing: the click stands without a note', async () => {
    const f = await createFixture({ coupon_policy: 'coupon_wins' });
    const other = await createPublisher('Old influencer');
    await adminOk('POST', '/coupons', {
      code: 'OLD',
      offer_id: f.offerId,
      publisher_id: other,
      ends_at: new Date(Date.now() - HOUR).toISOString(),
    });
    const res = await getPostback('/postback', {
      key: f.postbackKey,
      click_id: await mintLandedClick(f),
      voucher: 'OLD',
      order_id: 'POL-old',
      amount: '5.00',
    });
    expect(await conversion(res.body.conversion_id)).toMatchObject({
      publisher_id: f.publisherId,
      attribution: 'click',
    });
  });

  it('refuses an unknown coupon_policy with a 400 naming it', async () => {
    const f = await createFixture();
    const res = await admin<{ error: { fields: Record<string, string> } }>('PATCH', `/offers/${f.offerId}`, {
      coupon_policy: 'publisher_wins',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('coupon_policy');
  });
});
