// Postbacks from an isolate's memory (src/postback/config-cache.ts): the second postback for a
// key, offer and publisher skips the read batch and writes on condition that the config epoch
// is unchanged. Every change an operator makes to what a postback is authenticated or priced by
// must still apply to the very next postback, and a replay or an update must still find its
// conversion, whichever way it reaches it.
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { forgetConversionKeys } from '../../src/postback/config-cache';
import { admin, adminOk, createFixture, scalar } from '../helpers';
import { getPostback, mintLandedClick, withPayout } from '../postback-helpers';

const post = (key: string, clickId: string, orderId: string, extra: Record<string, string> = {}) =>
  getPostback('/postback', { click_id: clickId, order_id: orderId, key, ...extra });

const epoch = async () =>
  (await env.DB.prepare('SELECT token FROM config_epoch WHERE id = 1').first<{ token: string }>())?.token;

beforeEach(() => {
  forgetConversionKeys();
});

describe('the config epoch', () => {
  it('changes with every write to advertisers, offers, goals, payout rules, publishers and exchange rates', async () => {
    const f = await createFixture();
    const seen = new Set([await epoch()]);
    const changed = async (what: string, change: () => Promise<unknown>) => {
      await change();
      const now = await epoch();
      expect(seen.has(now), what).toBe(false);
      seen.add(now);
    };
    await changed('advertiser', () => adminOk('PATCH', `/advertisers/${f.advertiserId}`, { name: 'Shop 2' }));
    await changed('offer', () => adminOk('PATCH', `/offers/${f.offerId}`, { name: 'Winter sale' }));
    await changed('payout rule', () =>
      adminOk('PUT', `/offers/${f.offerId}/goals/lead/payouts/${f.publisherId}`, { payout: '3.00' }),
    );
    await changed('publisher', () => adminOk('PATCH', `/publishers/${f.publisherId}`, { name: 'Blog 2' }));
    await changed('exchange rate', () =>
      adminOk('PUT', '/exchange-rates/USD/EUR', { rate: '0.9000', valid_from: '2026-01-01T00:00:00Z' }),
    );
    // Conversions are not config: the token stays.
    const before = await epoch();
    expect((await post(f.postbackKey, await mintLandedClick(f), 'E-1')).status).toBe(200);
    expect(await epoch()).toBe(before);
  });
});

describe('a postback from memory', () => {
  it('is priced with a payout changed after the postback that filled the memory', async () => {
    const f = await createFixture();
    const first = await post(f.postbackKey, await mintLandedClick(f), 'M-1');
    expect(await withPayout(first)).toMatchObject({ outcome: 'created', payout: '2.00' });
    await adminOk('PUT', `/offers/${f.offerId}/goals/lead/payouts/${f.publisherId}`, { payout: '3.25' });
    const second = await post(f.postbackKey, await mintLandedClick(f), 'M-2');
    expect(await withPayout(second)).toMatchObject({ outcome: 'created', payout: '3.25' });
    // And the memory refilled by that postback serves the next one at the new rate.
    const third = await post(f.postbackKey, await mintLandedClick(f), 'M-3');
    expect(await withPayout(third)).toMatchObject({ outcome: 'created', payout: '3.25' });
    expect(await scalar('SELECT COUNT(*) AS n FROM conversions WHERE offer_id = ?', f.offerId)).toBe(3);
  });

  it('refuses a rotated key at once and accepts the new one', async () => {
    const f = await createFixture();
    expect((await post(f.postbackKey, await mintLandedClick(f), 'K-1')).status).toBe(200);
    const rotated = await adminOk<{ postback_key: string }>('POST', `/advertisers/${f.advertiserId}/postback-key`);
    const old = await post(f.postbackKey, await mintLandedClick(f), 'K-2');
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ error: { code: 'unauthorized' } });
    const fresh = await post(rotated.postback_key, await mintLandedClick(f), 'K-3');
    expect(fresh.body).toMatchObject({ outcome: 'created' });
    expect(await scalar("SELECT COUNT(*) AS n FROM conversions WHERE order_id = 'K-2'")).toBe(0);
  });

  it('applies an IP allow-list set after the memory was filled', async () => {
    const f = await createFixture();
    const from = { 'cf-connecting-ip': '198.51.100.7' };
    expect(
      (
        await getPostback(
          '/postback',
          { click_id: await mintLandedClick(f), order_id: 'IP-1', key: f.postbackKey },
          from,
        )
      ).status,
    ).toBe(200);
    await adminOk('PATCH', `/advertisers/${f.advertiserId}`, { ip_allowlist: ['203.0.113.0/24'] });
    const refused = await getPostback(
      '/postback',
      { click_id: await mintLandedClick(f), order_id: 'IP-2', key: f.postbackKey },
      from,
    );
    expect(refused.status).toBe(403);
  });

  it('converts at a rate that took over after the memory was filled', async () => {
    const f = await createFixture();
    await adminOk('PUT', '/exchange-rates/USD/EUR', { rate: '0.5000', valid_from: '2026-01-01T00:00:00Z' });
    // A rate dated 1.5 s ahead is known before the first postback reads (and remembers) the old one.
    const takesOver = new Date(Date.now() + 1_500).toISOString();
    await adminOk('PUT', '/exchange-rates/USD/EUR', { rate: '2.0000', valid_from: takesOver });
    const usd = { event: 'sale', amount: '100.00', currency: 'USD' };
    const before = await post(f.postbackKey, await mintLandedClick(f), 'X-1', usd);
    expect(before.body).toMatchObject({ outcome: 'created', revenue: '5.00' });
    await new Promise((resolve) => setTimeout(resolve, Date.parse(takesOver) - Date.now() + 50));
    const after = await post(f.postbackKey, await mintLandedClick(f), 'X-2', usd);
    expect(after.body).toMatchObject({ outcome: 'created', revenue: '20.00' });
  });

  it('answers a replay as a duplicate and writes one conversion, with or without the key in memory', async () => {
    const f = await createFixture();
    const clickId = await mintLandedClick(f);
    expect((await post(f.postbackKey, clickId, 'R-1')).body).toMatchObject({ outcome: 'created' });
    // This isolate saw the key: it reads before deciding.
    expect((await post(f.postbackKey, clickId, 'R-1')).body).toMatchObject({ outcome: 'duplicate' });
    // An isolate that did not: the conditional write finds the conversion and answers from it.
    forgetConversionKeys();
    const replay = await post(f.postbackKey, clickId, 'R-1');
    expect(replay.body).toMatchObject({ outcome: 'duplicate', duplicate: true, order_id: 'R-1' });
    expect(await scalar("SELECT COUNT(*) AS n FROM conversions WHERE order_id = 'R-1'")).toBe(1);
    expect(
      await scalar(
        "SELECT COUNT(*) AS n FROM conversion_events e JOIN conversions c ON c.id = e.conversion_id WHERE c.order_id = 'R-1'",
      ),
    ).toBe(1);
  });

  it('updates an order converted under another goal when the update names no goal', async () => {
    const f = await createFixture();
    const clickId = await mintLandedClick(f);
    const sale = await post(f.postbackKey, clickId, 'G-1', { event: 'sale', amount: '80.00', status: 'pending' });
    expect(sale.body).toMatchObject({ outcome: 'created', event: 'sale', conversion_status: 'pending' });
    // Fill the memory for this key, offer and publisher, then forget the order: the update takes
    // the conditional write, which must not create a lead conversion for the order.
    forgetConversionKeys();
    const update = await post(f.postbackKey, clickId, 'G-1', { status: 'approved' });
    expect(update.body).toMatchObject({
      outcome: 'updated',
      event: 'sale',
      conversion_id: sale.body.conversion_id,
      conversion_status: 'approved',
    });
    expect(await scalar("SELECT COUNT(*) AS n FROM conversions WHERE order_id = 'G-1'")).toBe(1);
  });

  it('still refuses what the reading path refuses, with the same answer', async () => {
    const f = await createFixture();
    expect((await post(f.postbackKey, await mintLandedClick(f), 'F-1')).status).toBe(200);
    const unknownGoal = await post(f.postbackKey, await mintLandedClick(f), 'F-2', { event: 'nope' });
    expect(unknownGoal.status).toBe(400);
    expect(unknownGoal.body).toMatchObject({ error: { fields: { event: expect.stringContaining('lead') } } });
    const badAmount = await post(f.postbackKey, await mintLandedClick(f), 'F-3', { event: 'sale', amount: 'lots' });
    expect(badAmount.status).toBe(400);
    expect(await scalar("SELECT COUNT(*) AS n FROM conversions WHERE order_id IN ('F-2', 'F-3')")).toBe(0);
    const refused = await admin('GET', `/postbacks?advertiser_id=${f.advertiserId}&outcome=refused`);
    expect(refused.status).toBe(200);
  });
});
