// Compatibility profiles: TradeTracker (lead/sale) and HasOffers parameter names map onto the
// canonical postback, so an advertiser's existing integration works by changing the host.
import { describe, expect, it } from 'vitest';
import { goalIdOf } from '../fixtures';
import { adminOk, createFixture, worker } from '../helpers';
import { conversion, conversionsOfOffer, getPostback, lastLogRow, mintClick, withPayout } from '../postback-helpers';

async function json(response: Response) {
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON answer field by field
  return { status: response.status, body: (await response.json()) as any };
}

describe('TradeTracker profile', () => {
  it("accepts TradeTracker's formatted S2S example as written and records a lead", async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    // The example callback from TradeTracker's S2S guide, parameters untouched (empty tgi
    // included); the postback key travels in the Authorization header.
    const path = `/postback/tradetracker/lead?s2s=1&cid=12345&pid=67890&tgi=&tid=123456&descrMerchant=new%20player&descrAffiliate=new%20player&data=${clickId}`;
    const res = await json(await worker(path, { headers: { authorization: `Bearer ${f.postbackKey}` } }));
    expect(res.status).toBe(200);
    expect(await withPayout(res)).toMatchObject({
      status: 'ok',
      duplicate: false,
      event: 'lead',
      order_id: '123456',
      click_id: clickId,
      revenue: '5.00',
      payout: '2.00',
    });
    expect(await conversion(res.body.conversion_id)).toMatchObject({
      order_id: '123456',
      description: 'new player',
      profile: 'tradetracker',
      source: 'server',
      status: 'pending',
    });
    const log = await lastLogRow();
    expect(log).toMatchObject({ profile: 'tradetracker', outcome: 'created', order_id: '123456' });
    expect(JSON.parse(String(log?.params))).toMatchObject({
      s2s: '1',
      cid: '12345',
      pid: '67890',
      descrMerchant: 'new player',
      Authorization: '[redacted]',
    });
  });

  it('accepts the same example with the key appended to the query', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const res = await json(
      await worker(
        `/postback/tradetracker/lead?s2s=1&cid=1&pid=1&tgi=&tid=777&descrMerchant=new%20player&descrAffiliate=new%20player&data=${clickId}&key=${f.postbackKey}`,
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body.event).toBe('lead');
  });

  it('accepts the example with no key at all from an address on the allow-list of an advertiser that chose keyless', async () => {
    const f = await createFixture();
    await adminOk('PATCH', `/advertisers/${f.advertiserId}`, {
      ip_allowlist: ['203.0.113.0/24', '2001:db8:1::/48'],
      keyless_ip_auth: true,
    });
    const example = (clickId: string, tid: string) =>
      `/postback/tradetracker/lead?s2s=1&cid=12345&pid=67890&tgi=&tid=${tid}&descrMerchant=new%20player&descrAffiliate=new%20player&data=${clickId}`;

    const fromServer = await json(
      await worker(example(await mintClick(f), '9001'), { headers: { 'cf-connecting-ip': '203.0.113.40' } }),
    );
    expect(fromServer.status).toBe(200);
    expect(await withPayout(fromServer)).toMatchObject({ event: 'lead', order_id: '9001', payout: '2.00' });
    const fromServerV6 = await json(
      await worker(example(await mintClick(f), '9002'), { headers: { 'cf-connecting-ip': '2001:db8:1:5::9' } }),
    );
    expect(fromServerV6.status).toBe(200);

    const elsewhere = await json(
      await worker(example(await mintClick(f), '9003'), { headers: { 'cf-connecting-ip': '198.51.100.1' } }),
    );
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.error.fields).toHaveProperty('key');

    const forged = `${(await mintClick(f)).slice(0, -1)}A`;
    const forgedAnswer = await json(
      await worker(example(forged, '9004'), { headers: { 'cf-connecting-ip': '203.0.113.40' } }),
    );
    expect(forgedAnswer.status).toBe(401);
    expect((await conversionsOfOffer(f.offerId)).map((c) => c.order_id).sort()).toEqual(['9001', '9002']);
  });

  it('refuses a keyless postback when the advertiser has no IP allow-list', async () => {
    const f = await createFixture();
    const res = await json(
      await worker(`/postback/tradetracker/lead?s2s=1&tid=1&data=${await mintClick(f)}`, {
        headers: { 'cf-connecting-ip': '203.0.113.40' },
      }),
    );
    expect(res.status).toBe(401);
    expect(await conversionsOfOffer(f.offerId)).toEqual([]);
  });

  it('records /postback/tradetracker/sale as a sale with tam, currency and vc', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback/tradetracker/sale', {
      s2s: '1',
      tid: 'ORD-9',
      tam: '120.50',
      currency: 'EUR',
      vc: 'WINTER10',
      event: 'sales',
      data: await mintClick(f),
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    // 10% of 120.50 = 12.05; 5% = 6.025 -> 6.03
    expect(await withPayout(res)).toMatchObject({ event: 'sale', amount: '120.50', revenue: '12.05', payout: '6.03' });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ voucher: 'WINTER10', order_id: 'ORD-9' });
  });

  it('names the TradeTracker parameter in a 400 (tam, not amount)', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback/tradetracker/sale', {
      tid: 'X',
      tam: '12,50',
      data: await mintClick(f),
      key: f.postbackKey,
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.fields)).toEqual(['tam']);
  });

  it('refuses data and click_id carrying different click IDs', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback/tradetracker/lead', {
      data: await mintClick(f),
      click_id: await mintClick(f),
      key: f.postbackKey,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('data');
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('answers a repeat of the same tid as a duplicate', async () => {
    const f = await createFixture();
    const params = { tid: 'DUP-1', data: await mintClick(f), key: f.postbackKey };
    const first = await getPostback('/postback/tradetracker/lead', params);
    const second = await getPostback('/postback/tradetracker/lead', params);
    expect(second.body).toMatchObject({ duplicate: true, conversion_id: first.body.conversion_id });
  });

  it('accepts a POST form body', async () => {
    const f = await createFixture();
    const response = await worker('/postback/tradetracker/lead', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ tid: 'F-1', data: await mintClick(f), key: f.postbackKey }).toString(),
    });
    expect(response.status).toBe(200);
  });
});

describe('HasOffers profile', () => {
  it('maps transaction_id, adv_sub, amount and goal_id (goal key)', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const res = await getPostback('/postback/hasoffers', {
      transaction_id: clickId,
      adv_sub: 'HO-1',
      amount: '80.00',
      goal_id: 'sale',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(await withPayout(res)).toMatchObject({
      event: 'sale',
      order_id: 'HO-1',
      click_id: clickId,
      revenue: '8.00',
      payout: '4.00',
    });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ profile: 'hasoffers', source: 'server' });
  });

  it('accepts a numeric HasOffers goal_id naming the goal by its id', async () => {
    const f = await createFixture();
    const goalId = await goalIdOf(f.offerId, 'sale');
    const res = await getPostback('/postback/hasoffers', {
      transaction_id: await mintClick(f),
      goal_id: String(goalId),
      amount: '10.00',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(res.body.event).toBe('sale');
  });

  it('accepts security_token as the postback key and never logs it', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback/hasoffers', {
      transaction_id: await mintClick(f),
      security_token: f.postbackKey,
    });
    expect(res.status).toBe(200);
    const log = await lastLogRow();
    expect(JSON.parse(String(log?.params)).security_token).toBe('[redacted]');
    expect(JSON.stringify(log)).not.toContain(f.postbackKey);
  });

  it('supports the affiliate-ID protocol with offer_id, aff_id and aff_sub', async () => {
    const f = await createFixture({ allow_publisher_postback: true });
    const res = await getPostback('/postback/hasoffers', {
      offer_id: String(f.offerId),
      aff_id: String(f.publisherId),
      aff_sub: 'campaign-7',
      aff_sub2: 'banner',
      adv_sub: 'HO-AFF-1',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(res.body.click_id).toBeNull();
    expect(await conversion(res.body.conversion_id)).toMatchObject({
      publisher_id: f.publisherId,
      sub1: 'campaign-7',
      sub2: 'banner',
      click_id: null,
      click_time: null,
    });
  });

  it('names the HasOffers parameter in a 404 for a forged transaction_id', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback/hasoffers', { transaction_id: 'x'.repeat(48), key: f.postbackKey });
    expect(res.status).toBe(404);
    expect(res.body.error.fields).toHaveProperty('transaction_id');
  });
});
