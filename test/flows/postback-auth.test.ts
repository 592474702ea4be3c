// Who may send a postback and for which clicks: postback key (parameter or Bearer), IP
// allow-lists (IPv4 and IPv6), ownership of the offer, genuine click IDs, the attribution
// window, and the affiliate-ID protocol switch.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import { DAY_MS } from '../../src/lib/time';
import { adminOk, createFixture, worker } from '../helpers';
import { conversionsOfOffer, createPublisher, getPostback, lastLogRow, mintClick } from '../postback-helpers';

describe('postback key', () => {
  it('refuses a postback without a key with 401 and a Bearer challenge', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', { click_id: await mintClick(f) });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('refuses a wrong key with 401', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', { click_id: await mintClick(f), key: `${f.postbackKey}x` });
    expect(res.status).toBe(401);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('accepts the key as Authorization: Bearer', async () => {
    const f = await createFixture();
    const res = await getPostback(
      '/postback',
      { click_id: await mintClick(f) },
      { authorization: `Bearer ${f.postbackKey}` },
    );
    expect(res.status).toBe(200);
  });

  it('refuses a key parameter that differs from the Bearer key', async () => {
    const f = await createFixture();
    const other = await createFixture();
    const res = await getPostback(
      '/postback',
      { click_id: await mintClick(f), key: other.postbackKey },
      { authorization: `Bearer ${f.postbackKey}` },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('key');
  });

  it('stops accepting the old key once the key is rotated', async () => {
    const f = await createFixture();
    const rotated = await adminOk<{ postback_key: string }>('POST', `/advertisers/${f.advertiserId}/postback-key`);
    const clickId = await mintClick(f);
    expect((await getPostback('/postback', { click_id: clickId, key: f.postbackKey })).status).toBe(401);
    expect((await getPostback('/postback', { click_id: clickId, key: rotated.postback_key })).status).toBe(200);
  });

  it("refuses with 403 a click ID of another advertiser's offer", async () => {
    const mine = await createFixture();
    const theirs = await createFixture();
    const res = await getPostback('/postback', { click_id: await mintClick(theirs), key: mine.postbackKey });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('offer_not_owned');
    expect(await conversionsOfOffer(theirs.offerId)).toHaveLength(0);
    expect(await lastLogRow()).toMatchObject({
      outcome: 'refused',
      http_status: 403,
      advertiser_id: mine.advertiserId,
      offer_id: theirs.offerId,
    });
  });
});

describe('IP allow-list', () => {
  async function allowListed(cidrs: string[]) {
    const f = await createFixture();
    await adminOk('PATCH', `/advertisers/${f.advertiserId}`, { ip_allowlist: cidrs });
    return f;
  }

  it('accepts an IPv4 address inside an allowed CIDR', async () => {
    const f = await allowListed(['198.51.100.0/24', '2001:db8:abcd::/48']);
    const res = await getPostback(
      '/postback',
      { click_id: await mintClick(f), key: f.postbackKey },
      { 'cf-connecting-ip': '198.51.100.77' },
    );
    expect(res.status).toBe(200);
  });

  it('refuses an IPv4 address outside every allowed CIDR with 403', async () => {
    const f = await allowListed(['198.51.100.0/24']);
    const res = await getPostback(
      '/postback',
      { click_id: await mintClick(f), key: f.postbackKey },
      { 'cf-connecting-ip': '198.51.101.1' },
    );
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ip_not_allowed');
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('accepts an IPv6 address inside an allowed IPv6 CIDR', async () => {
    const f = await allowListed(['2001:db8:abcd::/48']);
    const res = await getPostback(
      '/postback',
      { click_id: await mintClick(f), key: f.postbackKey },
      { 'cf-connecting-ip': '2001:db8:abcd:12::5' },
    );
    expect(res.status).toBe(200);
  });

  it('refuses an IPv6 address outside the allowed IPv6 CIDR', async () => {
    const f = await allowListed(['2001:db8:abcd::/48']);
    const res = await getPostback(
      '/postback',
      { click_id: await mintClick(f), key: f.postbackKey },
      { 'cf-connecting-ip': '2001:db8:abce::5' },
    );
    expect(res.status).toBe(403);
  });

  it('accepts an exact single address (no prefix length)', async () => {
    const f = await allowListed(['203.0.113.9']);
    const clickId = await mintClick(f);
    const ok = await getPostback(
      '/postback',
      { click_id: clickId, key: f.postbackKey },
      { 'cf-connecting-ip': '203.0.113.9' },
    );
    const near = await getPostback(
      '/postback',
      { click_id: clickId, key: f.postbackKey },
      { 'cf-connecting-ip': '203.0.113.10' },
    );
    expect([ok.status, near.status]).toEqual([200, 403]);
  });

  it('refuses a request with no client address when a list is set', async () => {
    const f = await allowListed(['198.51.100.0/24']);
    const res = await getPostback('/postback', { click_id: await mintClick(f), key: f.postbackKey });
    expect(res.status).toBe(403);
  });

  it('checks the key before the address (a wrong key from a listed address is still 401)', async () => {
    const f = await allowListed(['198.51.100.0/24']);
    const res = await getPostback(
      '/postback',
      { click_id: await mintClick(f), key: 'pbk_wrong' },
      { 'cf-connecting-ip': '198.51.100.1' },
    );
    expect(res.status).toBe(401);
  });
});

describe('click IDs', () => {
  it('refuses a made-up click ID with 404', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', { click_id: 'A'.repeat(48), key: f.postbackKey });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('click_not_found');
  });

  it('refuses a click ID with one character altered', async () => {
    const f = await createFixture();
    const genuine = await mintClick(f);
    for (const position of [5, 20, 40]) {
      const ch = genuine[position] === 'A' ? 'B' : 'A';
      const tampered = genuine.slice(0, position) + ch + genuine.slice(position + 1);
      const res = await getPostback('/postback', { click_id: tampered, key: f.postbackKey });
      expect(res.status).toBe(404);
    }
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('refuses a click ID signed with another secret', async () => {
    const f = await createFixture();
    const foreign = await mintClickId(
      await clickIdKeys({ CLICK_ID_SECRET: 'some-other-secret-0123456789', CLICK_ID_KEY_ID: '1' }),
      {
        clickedAt: Date.now(),
        offerId: f.offerId,
        publisherId: f.publisherId,
      },
    );
    // Restore the cached keys of the real secret for the rest of this isolate.
    await clickIdKeys(env);
    const res = await getPostback('/postback', { click_id: foreign, key: f.postbackKey });
    expect(res.status).toBe(404);
  });

  it('refuses a malformed click ID with 404 and logs what was sent', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', { click_id: 'not-a-click', key: f.postbackKey });
    expect(res.status).toBe(404);
    expect(await lastLogRow()).toMatchObject({
      click_id: 'not-a-click',
      outcome: 'refused',
      error_code: 'click_not_found',
    });
  });

  it('refuses offer_id or publisher_id that contradict the click ID', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      publisher_id: String(f.publisherId + 1000),
      key: f.postbackKey,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('publisher_id');
  });
});

describe('attribution window', () => {
  async function windowFixture() {
    return createFixture({ attribution_window_days: 2 });
  }

  it('accepts a click one minute inside the window', async () => {
    const f = await windowFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f, 2 * DAY_MS - 60_000),
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
  });

  it('refuses a click one minute outside the window with 422', async () => {
    const f = await windowFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f, 2 * DAY_MS + 60_000),
      key: f.postbackKey,
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('outside_attribution_window');
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('uses the offer default of 30 days', async () => {
    const f = await createFixture();
    const inside = await getPostback('/postback', {
      click_id: await mintClick(f, 30 * DAY_MS - 60_000),
      key: f.postbackKey,
    });
    const outside = await getPostback('/postback', {
      click_id: await mintClick(f, 30 * DAY_MS + 60_000),
      key: f.postbackKey,
    });
    expect([inside.status, outside.status]).toEqual([200, 422]);
  });

  it('refuses a click time far in the future with 422', async () => {
    const f = await windowFixture();
    const res = await getPostback('/postback', { click_id: await mintClick(f, -3_600_000), key: f.postbackKey });
    expect(res.status).toBe(422);
  });
});

describe('affiliate-ID protocol (offer_id + publisher_id)', () => {
  it('is refused with 403 for an offer that does not allow it', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      offer_id: String(f.offerId),
      publisher_id: String(f.publisherId),
      order_id: 'AFF-0',
      key: f.postbackKey,
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('affiliate_id_protocol_disabled');
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('records a conversion with the sub IDs sent when the offer allows it', async () => {
    const f = await createFixture({ allow_publisher_postback: true });
    const res = await getPostback('/postback', {
      offer_id: String(f.offerId),
      publisher_id: String(f.publisherId),
      order_id: 'AFF-1',
      sub1: 's1',
      sub5: 's5',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    const [row] = await conversionsOfOffer(f.offerId);
    expect(row).toMatchObject({ click_id: null, sub1: 's1', sub5: 's5', dedupe_key: 'o:AFF-1', order_id: 'AFF-1' });
  });

  it('requires an order ID for a goal that converts once', async () => {
    const f = await createFixture({ allow_publisher_postback: true });
    const res = await getPostback('/postback', {
      offer_id: String(f.offerId),
      publisher_id: String(f.publisherId),
      key: f.postbackKey,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty('order_id');
  });

  it('records each postback of a goal that allows repeats, without an order ID', async () => {
    const f = await createFixture({
      allow_publisher_postback: true,
      goals: [{ key: 'install', payout: '0.10', allow_repeats: true }],
    });
    const params = { offer_id: String(f.offerId), publisher_id: String(f.publisherId), key: f.postbackKey };
    const a = await getPostback('/postback', params);
    const b = await getPostback('/postback', params);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.conversion_id).not.toBe(b.body.conversion_id);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(2);
  });

  it('answers 404 for an unknown offer and an unknown publisher', async () => {
    const f = await createFixture({ allow_publisher_postback: true });
    const offer = await getPostback('/postback', {
      offer_id: '999999',
      publisher_id: String(f.publisherId),
      order_id: 'X',
      key: f.postbackKey,
    });
    const publisher = await getPostback('/postback', {
      offer_id: String(f.offerId),
      publisher_id: '999999',
      order_id: 'X',
      key: f.postbackKey,
    });
    expect([offer.status, offer.body.error.code]).toEqual([404, 'offer_not_found']);
    expect([publisher.status, publisher.body.error.code]).toEqual([404, 'publisher_not_found']);
  });

  it("refuses another advertiser's offer with 403", async () => {
    const mine = await createFixture({ allow_publisher_postback: true });
    const theirs = await createFixture({ allow_publisher_postback: true });
    const res = await getPostback('/postback', {
      offer_id: String(theirs.offerId),
      publisher_id: String(await createPublisher()),
      order_id: 'X',
      key: mine.postbackKey,
    });
    expect(res.status).toBe(403);
  });

  it('never leaks a 500 for odd identifiers', async () => {
    const f = await createFixture({ allow_publisher_postback: true });
    for (const offerId of ['0', '-1', 'abc', '99999999999', '1.5']) {
      const res = await worker(`/postback?offer_id=${offerId}&publisher_id=${f.publisherId}&key=${f.postbackKey}`);
      expect(res.status).toBe(400);
    }
  });
});
