// Two answers a partner reads besides the conversion and report views (DESIGN.md "What each party
// may see"): the postback answer goes to the advertiser's server and never carries the
// publisher's payout, on every postback path and outcome; the click dispute view lists a
// conversion's notification deliveries (the publisher's endpoints, outcomes and errors) to the
// publisher and the operator, never to the advertiser.
import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/conversions/snapshot';
import { conversionRow, goalIdOf, seedCreatedConversion, seedEndpoint, setDelivery } from '../fixtures';
import { adminOk, createFixture, type Fixture, worker } from '../helpers';
import { getPostback, mintClick, postJson, withPayout } from '../postback-helpers';
import { call, json } from './openapi-call';

/** A GET on the Worker for `host`, as TradeTracker's root callbacks arrive. */
async function getOnHost(host: string, path: string) {
  const response = await worker(path, { headers: { host } });
  return { status: response.status, body: await response.json<Record<string, unknown>>() };
}

describe('the postback answer', () => {
  it('holds revenue in the offer currency and never payout, on every path; the payout is stored', async () => {
    // Default fixture: lead 5.00 revenue / 2.00 payout, sale 10 % / 5 % of the amount (EUR).
    const f = await createFixture();
    const answers = [
      await getPostback('/postback', { click_id: await mintClick(f), order_id: 'P-1', key: f.postbackKey }),
      await postJson(
        '/postback',
        { click_id: await mintClick(f), event: 'sale', order_id: 'P-2', amount: '100.00' },
        { authorization: `Bearer ${f.postbackKey}` },
      ),
      await getPostback('/postback/hasoffers', {
        transaction_id: await mintClick(f),
        adv_sub: 'P-3',
        amount: '40.00',
        goal_id: 'sale',
        security_token: f.postbackKey,
      }),
      await getPostback('/postback/tradetracker/sale', {
        data: await mintClick(f),
        tid: 'P-4',
        tam: '20.00',
        key: f.postbackKey,
      }),
      await getPostback('/aff_lsr', {
        transaction_id: await mintClick(f),
        adv_sub: 'P-5',
        security_token: f.postbackKey,
      }),
      await getOnHost('tl.tracking.shop.example', `/?s2s=1&tid=P-6&data=${await mintClick(f)}&key=${f.postbackKey}`),
    ];
    const expected = [
      ['P-1', 'lead', '0.00', '5.00', '2.00'],
      ['P-2', 'sale', '100.00', '10.00', '5.00'],
      ['P-3', 'sale', '40.00', '4.00', '2.00'],
      ['P-4', 'sale', '20.00', '2.00', '1.00'],
      ['P-5', 'lead', '0.00', '5.00', '2.00'],
      ['P-6', 'lead', '0.00', '5.00', '2.00'],
    ];
    const seen = [];
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(Object.keys(answer.body as object).sort()).toEqual(
        [
          'status',
          'conversion_id',
          'duplicate',
          'outcome',
          'event',
          'conversion_status',
          'click_id',
          'order_id',
          'amount',
          'currency',
          'revenue',
          'payout_currency',
          'source',
          'attribution',
          'created_at',
        ].sort(),
      );
      const { order_id, event, amount, revenue, payout } = await withPayout(answer);
      seen.push([order_id, event, amount, revenue, payout]);
    }
    expect(seen).toEqual(expected);
  });

  it('holds no payout in a replay or a status change either, and reads with the documented shape', async () => {
    const f = await createFixture();
    const sale = { click_id: await mintClick(f), event: 'sale', order_id: 'R-1', amount: '60.00' };
    const bearer = { authorization: `Bearer ${f.postbackKey}` };
    const created = await call('get', '/postback', { query: sale, headers: bearer });
    const replay = await call('get', '/postback', { query: sale, headers: bearer });
    const approved = await call('get', '/postback', { query: { ...sale, status: 'approved' }, headers: bearer });
    expect([created, replay, approved].map((a) => json(a).outcome)).toEqual(['created', 'duplicate', 'updated']);
    for (const answer of [created, replay, approved]) {
      expect(answer.body).not.toHaveProperty('payout');
      expect(answer.body).toMatchObject({ revenue: '6.00', payout_currency: 'EUR' });
    }
    expect(json(approved)).toMatchObject({ conversion_status: 'approved', previous_status: 'pending' });
    expect(await withPayout(approved)).toMatchObject({ payout: '3.00' });
  });
});

describe('the click dispute view', () => {
  async function disputed() {
    const f: Fixture = await createFixture({ name: 'Dispute' });
    const keys = {
      publisher: (
        await adminOk<{ key: string }>('POST', '/api-keys', { role: 'publisher', publisher_id: f.publisherId })
      ).key,
      advertiser: (
        await adminOk<{ key: string }>('POST', '/api-keys', { role: 'advertiser', advertiser_id: f.advertiserId })
      ).key,
    };
    const endpoint = await seedEndpoint({ publisher_id: f.publisherId, url: 'https://hooks.blog.example/earned' });
    const clickId = await mintClick(f);
    const conversion = conversionRow(f, await goalIdOf(f.offerId, 'lead'), {
      click_id: clickId,
      revenue: 500,
      payout: 200,
      profile: 'admin',
    });
    const snapshot = buildSnapshot({
      event: 'conversion.created',
      eventTime: conversion.created_at,
      conversion,
      goalKey: 'lead',
      offerName: 'Dispute',
      click: null,
    });
    const seeded = await seedCreatedConversion(conversion, { snapshot, event: { actor: 'admin' } });
    const delivery = seeded.deliveries[0];
    if (!delivery) throw new Error('no delivery was fanned out');
    await setDelivery(delivery.id, { status: 'retrying', last_status_code: 502, last_error: 'HTTP 502 from the blog' });
    const lookup = async (key?: string) =>
      json(
        await call('get', '/api/v1/clicks/{clickId}', {
          params: { clickId },
          ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}),
        }),
      );
    return { endpoint, delivery, keys, lookup, conversionId: seeded.conversion.id };
  }

  it("lists the publisher's deliveries to the publisher and the operator, none of them to the advertiser", async () => {
    const { endpoint, delivery, keys, lookup, conversionId } = await disputed();
    const shown = {
      id: delivery.id,
      endpoint_id: endpoint.id,
      status: 'retrying',
      last_status_code: 502,
      last_error: 'HTTP 502 from the blog',
    };
    for (const view of [await lookup(keys.publisher), await lookup()]) {
      expect(view.conversions[0].deliveries).toEqual([expect.objectContaining(shown)]);
      expect(view.conversions[0].truncated).toEqual({ events: false, deliveries: false });
      expect(view.limits.deliveries_per_conversion).toBe(20);
    }

    const advertiser = await lookup(keys.advertiser);
    expect(advertiser.conversions.map((c: { id: string }) => c.id)).toEqual([conversionId]);
    expect(advertiser.conversions[0]).toMatchObject({ revenue: '5.00', truncated: { events: false } });
    expect(advertiser.conversions[0].events).toHaveLength(1);
    expect(advertiser.conversions[0]).not.toHaveProperty('deliveries');
    expect(advertiser.conversions[0].truncated).not.toHaveProperty('deliveries');
    expect(advertiser.limits).not.toHaveProperty('deliveries_per_conversion');
    const text = JSON.stringify(advertiser);
    for (const trace of [delivery.id, 'HTTP 502', 'hooks.blog.example', '"endpoint_id"']) {
      expect(text).not.toContain(trace);
    }
  });
});
