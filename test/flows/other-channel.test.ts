// Awin's `channel` on a postback: a sale another channel won is stored rejected with reason
// other_channel, pays and bills nothing, counts against no cap, is shown to the advertiser and
// notifies no publisher; affiliate channels (the default names or the offer's own) convert as usual.
import { describe, expect, it } from 'vitest';
import { adminOk, createFixture, worker } from '../helpers';
import {
  conversion,
  deliveriesOf,
  getPostback,
  insertEndpoint,
  mintLandedClick,
  statsOf,
  withPayout,
} from '../postback-helpers';

describe('channel on a postback', () => {
  it('stores a sale another channel won as rejected other_channel: unpaid, unbilled, no delivery', async () => {
    const f = await createFixture();
    await insertEndpoint(f.publisherId, ['conversion.created', 'conversion.rejected']);
    const res = await getPostback('/postback', {
      key: f.postbackKey,
      click_id: await mintLandedClick(f),
      event: 'sale',
      order_id: 'CH-1',
      amount: '80.00',
      channel: 'ppc',
    });
    expect(res.status).toBe(200);
    // The advertiser's answer carries no payout (src/auth/money-view.ts): the stored one is read.
    expect(await withPayout(res)).toMatchObject({
      conversion_status: 'rejected',
      reason: 'other_channel',
      amount: '80.00',
      revenue: '0.00',
      payout: '0.00',
    });
    expect(await conversion(res.body.conversion_id)).toMatchObject({
      status: 'rejected',
      reason: 'other_channel',
      amount: 8000,
      revenue: 0,
      payout: 0,
    });
    expect(await deliveriesOf(res.body.conversion_id)).toEqual([]);
    const [stats] = await statsOf(f.offerId);
    expect(stats).toMatchObject({ rejected: 1, pending: 0, revenue_pending: 0, payout_pending: 0 });

    // The advertiser sees it with its reason.
    const { key } = await adminOk<{ key: string }>('POST', '/api-keys', {
      role: 'advertiser',
      advertiser_id: f.advertiserId,
    });
    const listed = await worker('/api/v1/conversions', { headers: { authorization: `Bearer ${key}` } });
    const body = (await listed.json()) as { data: Record<string, unknown>[] };
    expect(body.data).toEqual([
      expect.objectContaining({ id: res.body.conversion_id, status: 'rejected', reason: 'other_channel' }),
    ]);
  });

  it.each(['affiliate', 'Aff', 'AFFILIATE'])('converts as usual for channel %s', async (channel) => {
    const f = await createFixture();
    await insertEndpoint(f.publisherId, ['conversion.created']);
    const res = await getPostback('/postback', {
      key: f.postbackKey,
      click_id: await mintLandedClick(f),
      event: 'sale',
      order_id: `CH-${channel}`,
      amount: '80.00',
      channel,
    });
    expect(await withPayout(res)).toMatchObject({ conversion_status: 'pending', payout: '4.00', revenue: '8.00' });
    expect(res.body.reason).toBeUndefined();
    expect(await deliveriesOf(res.body.conversion_id)).toHaveLength(1);
  });

  it("uses the offer's affiliate_channels (affiliate always counts)", async () => {
    const f = await createFixture({ affiliate_channels: ['Partners', 'cashback'] });
    expect(await adminOk('GET', `/offers/${f.offerId}`)).toMatchObject({
      affiliate_channels: ['partners', 'cashback'],
    });
    const results: Record<string, string> = {};
    for (const channel of ['partners', 'affiliate', 'aff']) {
      const res = await getPostback('/postback', {
        key: f.postbackKey,
        click_id: await mintLandedClick(f),
        event: 'sale',
        order_id: `CH-${channel}`,
        amount: '10.00',
        channel,
      });
      results[channel] = res.body.conversion_status;
    }
    expect(results).toEqual({ partners: 'pending', affiliate: 'pending', aff: 'rejected' });
  });

  it('counts against no cap: the next affiliate sale still fits a cap of one', async () => {
    const f = await createFixture();
    await adminOk('POST', `/offers/${f.offerId}/caps`, { metric: 'conversions', period: 'day', limit: 1 });
    const post = async (order: string, channel?: string) =>
      (
        await getPostback('/postback', {
          key: f.postbackKey,
          click_id: await mintLandedClick(f),
          event: 'sale',
          order_id: order,
          amount: '10.00',
          ...(channel ? { channel } : {}),
        })
      ).body;
    expect(await post('CAP-other', 'direct')).toMatchObject({ conversion_status: 'rejected', reason: 'other_channel' });
    expect(await post('CAP-aff')).toMatchObject({ conversion_status: 'pending' });
    expect(await post('CAP-over')).toMatchObject({ conversion_status: 'rejected', reason: 'cap_reached' });
  });

  it('refuses an affiliate_channels entry that is no name, naming the field', async () => {
    const f = await createFixture();
    const res = await worker(`/api/v1/offers/${f.offerId}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ affiliate_channels: ['ok', 'not ok'] }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('affiliate_channels.1');
  });
});
