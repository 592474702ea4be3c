// The response shapes of the OpenAPI document read the answers the handlers really give: each
// call goes through the document (openapi-call.ts), so an undocumented status or field fails.
import { describe, expect, it } from 'vitest';
import { declaredOperations } from '../../src/openapi/document';
import { click, clickRow, createFixture, eventually, expectError, RECEIVER, uniqueKey } from '../helpers';
import { withPayout } from '../postback-helpers';
import { call, json, operationOf } from './openapi-call';

/** The request body example an operation's declaration documents. */
const example = (operationId: string) =>
  declaredOperations().find((op) => op.operationId === operationId)?.body?.example;

describe('response shapes match what the handlers answer', () => {
  it('advertisers: create (with the documented example), list, read, change, rotate key, errors', async () => {
    const example = declaredOperations().find((op) => op.operationId === 'createAdvertiser')?.body?.example;
    const created = await call('post', '/api/v1/advertisers', { body: example });
    expect(created.status).toBe(201);
    expect(json(created).name).toBe('Acme Shop');
    const id = json(created).id as number;
    expect((await call('get', '/api/v1/advertisers', { query: { limit: 1 } })).status).toBe(200);
    expect((await call('get', '/api/v1/advertisers/{id}', { params: { id } })).status).toBe(200);
    const changed = await call('patch', '/api/v1/advertisers/{id}', {
      params: { id },
      body: { ip_allowlist: ['198.51.100.0/24'] },
    });
    expect(json(changed).ip_allowlist).toEqual(['198.51.100.0/24']);
    const rotated = await call('post', '/api/v1/advertisers/{id}/postback-key', { params: { id } });
    expect(rotated.status).toBe(200);
    expect(json(rotated).postback_key).not.toBe(json(created).postback_key);
    expectError(await call('get', '/api/v1/advertisers/{id}', { params: { id: 4_000_000_000 } }), 404, 'not_found');
    expectError(
      await call('get', '/api/v1/advertisers', { headers: { authorization: 'Bearer wrong' } }),
      401,
      'unauthorized',
    );
  });

  it('publishers and offers: create, list, read, change', async () => {
    const publisher = await call('post', '/api/v1/publishers', { body: { name: 'Deal Blog' } });
    expect(publisher.status).toBe(201);
    expect((await call('get', '/api/v1/publishers')).status).toBe(200);
    const id = json(publisher).id as number;
    expect((await call('get', '/api/v1/publishers/{id}', { params: { id } })).status).toBe(200);
    expect(json(await call('patch', '/api/v1/publishers/{id}', { params: { id }, body: { name: 'Deals' } })).name).toBe(
      'Deals',
    );

    const advertiser = json(await call('post', '/api/v1/advertisers', { body: { name: 'Books Ltd' } }));
    const offer = await call('post', '/api/v1/offers', {
      body: {
        advertiser_id: advertiser.id,
        name: 'Books',
        landing_url: 'https://books.example/?cid={click_id}',
        currency: 'GBP',
        deep_link_hosts: ['books.example'],
        fallback_url: 'https://books.example/sold-out',
        goals: [
          { key: 'lead', revenue: '1.50', payout: '1.00', default: true },
          {
            key: 'sale',
            revenue_percent: 8,
            payout_percent: 4.5,
            commission_groups: [{ key: 'ebooks', revenue_percent: 12, payout_percent: 6 }],
          },
        ],
      },
    });
    expect(offer.status).toBe(201);
    expect(json(offer).goals[1].commission_groups[0]).toEqual({
      id: expect.any(Number),
      key: 'ebooks',
      name: 'ebooks',
      description: null,
      revenue: '0.00',
      payout: '0.00',
      revenue_percent: 12,
      payout_percent: 6,
    });
    const list = await call('get', '/api/v1/offers', { query: { advertiser_id: advertiser.id } });
    expect(json(list).data).toHaveLength(1);
    const offerId = json(offer).id as number;
    expect((await call('get', '/api/v1/offers/{id}', { params: { id: offerId } })).status).toBe(200);
    const paused = await call('patch', '/api/v1/offers/{id}', { params: { id: offerId }, body: { status: 'paused' } });
    expect(json(paused).status).toBe('paused');
  });

  it('endpoints: create, list, read, change, rotate with no body, test send', async () => {
    const publisher = json(await call('post', '/api/v1/publishers', { body: { name: 'Hooks' } }));
    const key = uniqueKey('openapi-endpoint');
    const created = await call('post', '/api/v1/endpoints', {
      body: {
        publisher_id: publisher.id,
        url: `${RECEIVER}/${key}?cid={click_id}`,
        format: 'form',
        form_field: 'AwinTransactionPush',
        include_products: true,
      },
    });
    expect(created.status).toBe(201);
    const id = json(created).id as number;
    expect(json(await call('get', '/api/v1/endpoints', { query: { publisher_id: publisher.id } })).data).toHaveLength(
      1,
    );
    expect((await call('get', '/api/v1/endpoints/{id}', { params: { id } })).status).toBe(200);
    const changed = await call('patch', '/api/v1/endpoints/{id}', {
      params: { id },
      body: { include_click_data: true },
    });
    expect(json(changed).include_click_data).toBe(true);
    // The document says the body may be omitted.
    expect(operationOf('post', '/api/v1/endpoints/{id}/rotate-secret').requestBody?.required).toBe(false);
    const rotated = await call('post', '/api/v1/endpoints/{id}/rotate-secret', { params: { id } });
    expect(rotated.status).toBe(200);
    expect(json(rotated).previous_secret_expires_at).not.toBeNull();
    const tested = await call('post', '/api/v1/endpoints/{id}/test', {
      params: { id },
      body: { event: 'conversion.approved' },
    });
    expect(tested.status).toBe(200);
    expect(json(tested).ok).toBe(true);
    expect(json(tested).response.status).toBe(200);
    const disabled = await call('patch', '/api/v1/endpoints/{id}', { params: { id }, body: { status: 'disabled' } });
    expect(json(disabled)).toMatchObject({ status: 'disabled', disabled_reason: 'disabled by operator' });

    // The eleventh active endpoint of a publisher is the documented 409, on create and on re-enabling.
    const body = { publisher_id: publisher.id, url: `${RECEIVER}/${key}`, format: 'json' };
    for (let i = 0; i < 10; i++) expect((await call('post', '/api/v1/endpoints', { body })).status).toBe(201);
    expectError(await call('post', '/api/v1/endpoints', { body }), 409, 'endpoint_limit_reached', ['publisher_id']);
    expectError(
      await call('patch', '/api/v1/endpoints/{id}', { params: { id }, body: { status: 'active' } }),
      409,
      'endpoint_limit_reached',
    );
  });

  it('a click, its postback and what follows: clicks, conversions, deliveries, postback log, report', async () => {
    const fixture = await createFixture();
    const key = uniqueKey('openapi-flow');
    await call('post', '/api/v1/endpoints', {
      body: { publisher_id: fixture.publisherId, url: `${RECEIVER}/${key}`, format: 'json', include_click_data: true },
    });
    const clickId = await click(fixture, '?sub1=spring');
    await eventually(() => clickRow(clickId));
    const clicks = await call('get', '/api/v1/clicks', { query: { offer_id: fixture.offerId } });
    expect(json(clicks).data.map((c: { click_id: string }) => c.click_id)).toEqual([clickId]);

    const bearer = { authorization: `Bearer ${fixture.postbackKey}` };
    const sale = { click_id: clickId, event: 'sale', order_id: 'SO-1', amount: '40.00' };
    const recorded = await call('get', '/postback', { query: sale, headers: bearer });
    expect(recorded.status).toBe(200);
    expect(await withPayout(recorded)).toMatchObject({
      duplicate: false,
      amount: '40.00',
      revenue: '4.00',
      payout: '2.00',
    });
    const conversionId = json(recorded).conversion_id as string;
    const replay = await call('post', '/postback', { body: sale, headers: bearer });
    expect(json(replay)).toMatchObject({ conversion_id: conversionId, duplicate: true });
    expectError(await call('get', '/postback', { query: sale }), 401, 'unauthorized', ['key']);

    const list = await call('get', '/api/v1/conversions', { query: { offer_id: fixture.offerId } });
    expect(json(list).data).toHaveLength(1);
    const detail = await call('get', '/api/v1/conversions/{id}', { params: { id: conversionId } });
    expect(json(detail).events).toHaveLength(1);
    const approved = await call('post', '/api/v1/conversions/{id}/status', {
      params: { id: conversionId },
      body: { status: 'approved', reason: 'shipped' },
    });
    expect(json(approved)).toMatchObject({ status: 'approved', changed: true, previous_status: 'pending' });
    expectError(
      await call('post', '/api/v1/conversions/{id}/status', {
        params: { id: conversionId },
        body: { status: 'pending' },
      }),
      409,
      'illegal_status_change',
    );

    const delivered = await eventually(async () => {
      const page = json(await call('get', '/api/v1/deliveries', { query: { conversion_id: conversionId } }));
      return page.data.length === 2 && page.data.every((d: { status: string }) => d.status === 'delivered')
        ? page.data
        : null;
    });
    const deliveryId = delivered[0].id as string;
    const deliveryDetail = await call('get', '/api/v1/deliveries/{id}', { params: { id: deliveryId } });
    expect(json(deliveryDetail).attempts).toHaveLength(1);
    const resent = await call('post', '/api/v1/deliveries/{id}/resend', { params: { id: deliveryId } });
    expect(resent.status).toBe(202);

    const lookup = await call('get', '/api/v1/clicks/{clickId}', { params: { clickId } });
    expect(json(lookup)).toMatchObject({ landed: true, click: { sub1: 'spring' } });
    expect(json(lookup).conversions.map((c: { id: string }) => c.id)).toEqual([conversionId]);
    expectError(
      await call('get', '/api/v1/clicks/{clickId}', { params: { clickId: 'forged' } }),
      404,
      'click_not_found',
    );

    const log = await call('get', '/api/v1/postbacks', { query: { click_id: clickId } });
    expect(json(log).data.map((row: { outcome: string }) => row.outcome)).toEqual(['refused', 'duplicate', 'created']);

    const report = await call('get', '/api/v1/reports', {
      query: { group_by: 'day,offer,publisher', offer_id: fixture.offerId },
    });
    expect(json(report).data).toHaveLength(1);
    expect(json(report).data[0]).toMatchObject({ clicks: 1, currency: 'EUR', payout: '2.00', epc: '2.00' });
  });

  it("the drop-in paths answer as documented: TUNE's /aff_lsr and /aff_goal, TradeTracker's root callbacks", async () => {
    const fixture = await createFixture();
    const bearer = { authorization: `Bearer ${fixture.postbackKey}` };
    const clickIds = await Promise.all([1, 2, 3, 4].map(() => click(fixture)));
    await eventually(async () => ((await Promise.all(clickIds.map(clickRow))).every(Boolean) ? true : null));
    const [lsrClick, goalClick, rootGetClick, rootPostClick] = clickIds as [string, string, string, string];

    const lsr = await call('get', '/aff_lsr', {
      query: { transaction_id: lsrClick, adv_sub: 'TUNE-1', amount: '40.00', goal_id: 'sale' },
      headers: bearer,
    });
    expect(await withPayout(lsr)).toMatchObject({
      outcome: 'created',
      event: 'sale',
      order_id: 'TUNE-1',
      payout: '2.00',
    });
    const goal = await call('post', '/aff_goal', {
      query: { a: 'lsr' },
      body: { transaction_id: goalClick, goal_id: 'lead', adv_sub: 'TUNE-2' },
      headers: bearer,
    });
    expect(await withPayout(goal)).toMatchObject({ outcome: 'created', event: 'lead', payout: '2.00' });

    // On a host that is neither tl. nor ts., an amount makes the callback a sale.
    const sale = await call('get', '/', {
      query: { s2s: '1', data: rootGetClick, tid: 'TT-1', tam: '40.00', currency: 'EUR' },
      headers: bearer,
    });
    expect(json(sale)).toMatchObject({ outcome: 'created', event: 'sale', order_id: 'TT-1' });
    const lead = await call('post', '/', {
      query: { s2s: '1' },
      body: { data: rootPostClick, tid: 'TT-2' },
      headers: bearer,
    });
    expect(json(lead)).toMatchObject({ outcome: 'created', event: 'lead', order_id: 'TT-2' });
    expectError(await call('post', '/', { body: { data: rootPostClick }, headers: bearer }), 404, 'not_found');
  });

  it('conversion rules: publisher payouts, exchange rates, adjustments (with the documented examples)', async () => {
    const fixture = await createFixture();
    const payoutPath = '/api/v1/offers/{id}/goals/{goalKey}/payouts/{publisherId}';
    const params = { id: fixture.offerId, goalKey: 'sale', publisherId: fixture.publisherId };
    const payout = await call('put', payoutPath, { params, body: example('putPublisherPayout') });
    expect(json(payout)).toMatchObject({ goal: 'sale', payout: '3.50', publisher_id: fixture.publisherId });
    expect(json(await call('delete', payoutPath, { params }))).toEqual({ deleted: true });

    const pair = { base: 'USD', quote: 'EUR' };
    const rate = await call('put', '/api/v1/exchange-rates/{base}/{quote}', {
      params: pair,
      body: example('putExchangeRate'),
    });
    expect(json(rate).current).toMatchObject({ rate: '0.9217' });
    expect(json(await call('get', '/api/v1/exchange-rates/{base}/{quote}', { params: pair })).history).toHaveLength(1);

    const clickId = await click(fixture);
    await eventually(() => clickRow(clickId));
    const sale = { click_id: clickId, event: 'sale', order_id: 'ADJ-1', amount: '100.00' };
    const recorded = await call('get', '/postback', {
      query: sale,
      headers: { authorization: `Bearer ${fixture.postbackKey}` },
    });
    const adjusted = await call('post', '/api/v1/conversions/{id}/adjust', {
      params: { id: json(recorded).conversion_id },
      body: example('adjustConversion'),
    });
    expect(json(adjusted)).toMatchObject({ amount: '80.00', payout: '4.00', previous: { amount: '100.00' } });
  });

  it('program terms: caps, applications, smart links (with the documented examples)', async () => {
    const fixture = await createFixture();
    const offer = { id: fixture.offerId };
    const cap = await call('post', '/api/v1/offers/{id}/caps', { params: offer, body: example('createCap') });
    expect(cap.status).toBe(201);
    expect(json(await call('get', '/api/v1/offers/{id}/caps', { params: offer })).data).toHaveLength(1);
    expect((await call('delete', '/api/v1/caps/{id}', { params: { id: json(cap).id } })).status).toBe(200);

    const applied = await call('post', '/api/v1/offers/{id}/applications', {
      params: offer,
      body: { ...example('applyToOffer'), publisher_id: fixture.publisherId },
    });
    expect(json(applied).status).toBe('pending');
    const applications = await call('get', '/api/v1/applications', { query: { offer_id: fixture.offerId } });
    expect(json(applications).data).toHaveLength(1);
    const approved = await call('post', '/api/v1/applications/{id}/approve', { params: { id: json(applied).id } });
    expect(json(approved).status).toBe('approved');
    const rejected = await call('post', '/api/v1/applications/{id}/reject', { params: { id: json(applied).id } });
    expect(json(rejected).status).toBe('rejected');

    const rules = [{ offer_id: fixture.offerId, weight: 1 }];
    const link = await call('post', '/api/v1/smart-links', { body: { ...example('createSmartLink'), rules } });
    expect(link.status).toBe(201);
    const id = json(link).id as number;
    expect((await call('get', '/api/v1/smart-links')).status).toBe(200);
    expect((await call('get', '/api/v1/smart-links/{id}', { params: { id } })).status).toBe(200);
    const changed = await call('patch', '/api/v1/smart-links/{id}', { params: { id }, body: { rules } });
    expect(changed.status).toBe(200);
    const followed = await call('get', '/s/{smartLinkId}/{publisherId}', {
      params: { smartLinkId: id, publisherId: fixture.publisherId },
    });
    expect(followed.status).toBe(302);
    expect((await call('delete', '/api/v1/smart-links/{id}', { params: { id } })).status).toBe(200);
    expectError(
      await call('get', '/s/{smartLinkId}/{publisherId}', {
        params: { smartLinkId: id, publisherId: fixture.publisherId },
      }),
      404,
      'smart_link_not_found',
    );
  });

  it('partner access: API keys, users, the audit log (with the documented examples)', async () => {
    const fixture = await createFixture();
    const key = await call('post', '/api/v1/api-keys', {
      body: { ...example('createApiKey'), publisher_id: fixture.publisherId },
    });
    expect(key.status).toBe(201);
    expect(json(await call('get', '/api/v1/api-keys')).data.length).toBeGreaterThan(0);
    // A publisher's key: the document lists the 403 of an operation its role cannot call.
    const asPublisher = { authorization: `Bearer ${json(key).key}` };
    expectError(await call('post', '/api/v1/advertisers', { body: {}, headers: asPublisher }), 403, 'forbidden');
    expect(operationOf('get', '/api/v1/advertisers').security).toEqual([{ adminToken: [] }, { portalSession: [] }]);
    // The offers list answers a publisher with PublisherOffer rows (ApplicableOffer rows with
    // available=apply): branches of its documented union.
    const promotable = await call('get', '/api/v1/offers', { headers: asPublisher });
    expect(
      operationOf('get', '/api/v1/offers').responses['200']?.content?.['application/json']?.schema.anyOf,
    ).toHaveLength(3);
    expect(json(promotable).data.map((o: { id: number }) => o.id)).toContain(fixture.offerId);
    expect(json(promotable).data[0]).not.toHaveProperty('revenue');
    expect((await call('delete', '/api/v1/api-keys/{id}', { params: { id: json(key).id } })).status).toBe(200);

    const email = `${uniqueKey('pat')}@blog.example`;
    const invited = await call('post', '/api/v1/users', {
      body: { ...example('createUser'), email, publisher_id: fixture.publisherId },
    });
    expect(invited.status).toBe(201);
    expect((await call('get', '/api/v1/users')).status).toBe(200);
    expectError(
      await call('post', '/api/v1/users', {
        body: { ...example('createUser'), email, publisher_id: fixture.publisherId },
      }),
      409,
      'email_taken',
    );
    expect(json(await call('get', '/api/v1/audit', { query: { limit: 5 } })).data.length).toBeGreaterThan(0);
  });

  it('the service index names the docs page', async () => {
    const index = await call('get', '/');
    expect(json(index)).toEqual({ service: 'clickhop', docs: '/api/docs' });
  });
});
