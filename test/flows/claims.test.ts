// Claims of missed sales through the real Worker: a publisher files one, both parties write in
// its thread, the advertiser accepts (a conversion with source "claim", priced by the offer's
// rules as of the transaction date, delivered as usual) or rejects it; an order that already
// converted is refused naming its conversion; each party sees only its own claims and no one
// sees the other side's money.
import { describe, expect, it } from 'vitest';
import { ADMIN, adminOk, createFixture, eventually, type Fixture, worker } from '../helpers';
import {
  conversion,
  deliveriesOf,
  eventsOf,
  getPostback,
  insertEndpoint,
  mintClick,
  statsOf,
} from '../postback-helpers';

type Answer = {
  status: number;
  text: string;
  body: Record<string, unknown> & { error?: { code: string; message: string; fields?: Record<string, string> } };
};

async function as(key: string | null, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await worker(`/api/v1${path}`, {
    method,
    headers: {
      authorization: key ? `Bearer ${key}` : ADMIN.authorization,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

async function keys(f: Fixture) {
  const publisher = await adminOk<{ key: string }>('POST', '/api-keys', {
    role: 'publisher',
    publisher_id: f.publisherId,
  });
  const advertiser = await adminOk<{ key: string }>('POST', '/api-keys', {
    role: 'advertiser',
    advertiser_id: f.advertiserId,
  });
  return { publisher: publisher.key, advertiser: advertiser.key };
}

const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

describe('claims', () => {
  it('a publisher claims, both write in the thread, the advertiser accepts: a conversion priced as of the sale', async () => {
    const f = await createFixture();
    const k = await keys(f);
    const endpoint = await insertEndpoint(f.publisherId, ['conversion.created', 'conversion.approved']);
    // The publisher earned 8% while the sale happened; 5% (the goal's) today.
    await adminOk('PUT', `/offers/${f.offerId}/goals/sale/payouts/${f.publisherId}`, {
      payout_percent: 8,
      starts_at: `${day(20)}T00:00:00Z`,
      ends_at: `${day(5)}T00:00:00Z`,
    });
    const filed = await as(k.publisher, 'POST', '/claims', {
      offer_id: f.offerId,
      order_id: 'MISSED-1',
      amount: '120.00',
      currency: 'EUR',
      transaction_date: day(10),
      click_id: await mintClick(f, 11 * 86_400_000),
      note: 'Paid by card, confirmation #443',
    });
    expect(filed.status, filed.text).toBe(201);
    expect(filed.body).toMatchObject({
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      order_id: 'MISSED-1',
      amount: '120.00',
      currency: 'EUR',
      transaction_date: `${day(10)}T00:00:00.000Z`,
      status: 'open',
      conversion_id: null,
      note: 'Paid by card, confirmation #443',
    });
    const id = filed.body.id as number;
    expect((await as(k.advertiser, 'POST', `/claims/${id}/messages`, { message: 'Which store?' })).status).toBe(201);
    expect((await as(k.publisher, 'POST', `/claims/${id}/messages`, { message: 'The Berlin web shop' })).status).toBe(
      201,
    );
    // Each party lists it; another publisher or advertiser does not see it.
    const other = await keys(await createFixture());
    for (const key of [k.publisher, k.advertiser]) {
      const list = await as(key, 'GET', '/claims');
      expect((list.body.data as { id: number }[]).map((c) => c.id)).toEqual([id]);
    }
    expect((await as(other.publisher, 'GET', '/claims')).body.data).toEqual([]);
    expect((await as(other.advertiser, 'GET', `/claims/${id}`)).status).toBe(404);
    expect((await as(other.advertiser, 'POST', `/claims/${id}/accept`, {})).status).toBe(404);
    expect((await as(k.publisher, 'POST', `/claims/${id}/accept`, {})).status).toBe(403);

    const accepted = await as(k.advertiser, 'POST', `/claims/${id}/accept`, { goal: 'sale' });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', conversion_id: expect.stringMatching(/^cv_/) });
    const cvId = accepted.body.conversion_id as string;
    // Revenue 10%, payout 8% (the rule in force on the transaction date), to the cent.
    expect(await conversion(cvId)).toMatchObject({
      source: 'claim',
      status: 'approved',
      order_id: 'MISSED-1',
      amount: 12000,
      revenue: 1200,
      payout: 960,
      publisher_id: f.publisherId,
    });
    expect(JSON.parse(String((await conversion(cvId))?.pricing)).rule).toMatch(/^publisher:/);
    expect((await eventsOf(cvId)).map((e) => [e.type, e.actor])).toEqual([
      ['conversion.created', 'advertiser'],
      ['conversion.approved', 'advertiser'],
    ]);
    expect(await statsOf(f.offerId)).toEqual([
      expect.objectContaining({ approved: 1, payout_approved: 960, revenue_approved: 1200 }),
    ]);
    const deliveries = async () => (await deliveriesOf(cvId)).filter((d) => d.endpoint_id === endpoint);
    expect((await deliveries()).map((d) => d.event_type).sort()).toEqual(['conversion.approved', 'conversion.created']);
    await eventually(async () => ((await deliveries()).every((d) => d.status === 'delivered') ? true : null));
    // The conversion answer says where it came from.
    expect((await as(null, 'GET', `/conversions/${cvId}`)).body).toMatchObject({ source: 'claim' });

    // The thread, for both; no revenue or payout in any claim answer.
    const detail = await as(k.publisher, 'GET', `/claims/${id}`);
    expect(
      (detail.body.messages as { author_role: string; message: string }[]).map((m) => [m.author_role, m.message]),
    ).toEqual([
      ['advertiser', 'Which store?'],
      ['publisher', 'The Berlin web shop'],
    ]);
    for (const answer of [filed, accepted, detail, await as(k.advertiser, 'GET', `/claims/${id}`)]) {
      expect(answer.text).not.toMatch(/revenue|payout/);
    }
    // Decided once: a second decision is a 409; the audit log has both.
    expect((await as(k.advertiser, 'POST', `/claims/${id}/reject`, { reason: 'late' })).body.error?.code).toBe(
      'claim_decided',
    );
    const audit = await as(null, 'GET', `/audit?resource=claim&resource_id=${id}`);
    expect((audit.body.data as { action: string }[]).map((e) => e.action)).toEqual(['acceptClaim', 'createClaim']);
  });

  it('refuses a claim for an order that already converted, naming the conversion', async () => {
    const f = await createFixture();
    const k = await keys(f);
    const posted = await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      order_id: 'DONE-1',
      amount: '50.00',
      key: f.postbackKey,
    });
    const claim = {
      offer_id: f.offerId,
      order_id: 'DONE-1',
      amount: '50.00',
      currency: 'EUR',
      transaction_date: day(1),
    };
    const refused = await as(k.publisher, 'POST', '/claims', claim);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'already_converted',
      message: `Order DONE-1 already converted: conversion ${posted.body.conversion_id}`,
    });
    // Filed first, converted by postback later: the acceptance is refused the same way.
    const late = await as(k.publisher, 'POST', '/claims', { ...claim, order_id: 'LATE-1' });
    expect(late.status).toBe(201);
    expect((await as(k.publisher, 'POST', '/claims', { ...claim, order_id: 'LATE-1' })).body.error?.code).toBe(
      'claim_exists',
    );
    const postback = await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      order_id: 'LATE-1',
      amount: '50.00',
      key: f.postbackKey,
    });
    const accept = await as(k.advertiser, 'POST', `/claims/${late.body.id}/accept`, {});
    expect(accept.status).toBe(409);
    expect(accept.body.error?.message).toBe(
      `Order LATE-1 already converted: conversion ${postback.body.conversion_id}`,
    );
    expect((await as(k.publisher, 'GET', `/claims/${late.body.id}`)).body).toMatchObject({
      status: 'open',
      conversion_id: null,
    });
  });

  it('rejects with a reason the publisher reads; bad claims are 400s naming the field', async () => {
    const f = await createFixture();
    const k = await keys(f);
    const base = { offer_id: f.offerId, order_id: 'R-1', amount: '10.00', currency: 'EUR', transaction_date: day(3) };
    const filed = await as(k.publisher, 'POST', '/claims', base);
    const rejected = await as(k.advertiser, 'POST', `/claims/${filed.body.id}/reject`, {
      reason: 'Order was cancelled',
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', reason: 'Order was cancelled', conversion_id: null });
    expect((await as(k.publisher, 'GET', `/claims/${filed.body.id}`)).body).toMatchObject({
      reason: 'Order was cancelled',
    });
    expect((await as(k.advertiser, 'POST', `/claims/${filed.body.id}/accept`, {})).status).toBe(409);
    const bad = async (change: Record<string, unknown>) =>
      (await as(k.publisher, 'POST', '/claims', { ...base, ...change })).body.error;
    expect(await bad({ currency: 'XXZ' })).toMatchObject({
      code: 'invalid_request',
      fields: { currency: expect.any(String) },
    });
    expect(await bad({ amount: '-5' })).toMatchObject({ fields: { amount: expect.any(String) } });
    expect(await bad({ amount: '1.999' })).toMatchObject({ fields: { amount: 'EUR has 2 decimal places' } });
    expect(await bad({ transaction_date: day(-2) })).toMatchObject({
      fields: { transaction_date: 'is in the future' },
    });
    const foreign = await mintClick({ offerId: f.offerId, publisherId: f.publisherId + 1000 });
    expect(await bad({ click_id: foreign })).toMatchObject({
      fields: { click_id: 'is of another offer or publisher' },
    });
    expect(await bad({ extra: 1 })).toMatchObject({ fields: { extra: expect.any(String) } });
    // A private offer the publisher is not approved for is not there for it.
    const hidden = await createFixture({ visibility: 'private' });
    expect((await as(k.publisher, 'POST', '/claims', { ...base, offer_id: hidden.offerId })).status).toBe(404);
    // An advertiser does not file claims; the operator names the publisher.
    expect((await as(k.advertiser, 'POST', '/claims', base)).status).toBe(403);
    expect((await as(null, 'POST', '/claims', { ...base, order_id: 'R-2' })).body.error?.fields).toEqual({
      publisher_id: 'is required',
    });
    expect((await as(null, 'POST', '/claims', { ...base, order_id: 'R-2', publisher_id: f.publisherId })).status).toBe(
      201,
    );
  });
});
