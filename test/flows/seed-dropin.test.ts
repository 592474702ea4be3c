// Drop-in paths: an advertiser moving from TUNE or TradeTracker changes only the host name.
// TUNE's /aff_lsr and /aff_goal, TradeTracker's callbacks on the root (`/?s2s=1&...`, goal from
// the tl./ts. host or from `tam`), pid choosing the commission group of that code, and
// descrAffiliate reaching the publisher as {publisher_description}.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createFixture, type Fixture } from '../helpers';
import { conversion, lastLogRow, mintClick, withPayout } from '../postback-helpers';

async function json(response: Response) {
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON answer field by field
  return { status: response.status, body: (await response.json()) as any };
}

/** A GET as the advertiser's server sends it, to `host` (the Worker answers on any host). */
async function get(host: string, pathAndQuery: string) {
  return json(await exports.default.fetch(new Request(`https://${host}${pathAndQuery}`, { redirect: 'manual' })));
}

async function saleFixture(): Promise<Fixture> {
  return createFixture({
    goals: [
      { key: 'lead', revenue: '5.00', payout: '2.00' },
      {
        key: 'sale',
        revenue_percent: 10,
        payout_percent: 5,
        commission_groups: [{ key: 'SHOES', revenue_percent: 20, payout_percent: 12 }],
      },
    ],
  });
}

describe('TUNE drop-in paths', () => {
  it.each(['/aff_lsr', '/aff_goal'])(
    '%s takes transaction_id, amount, adv_sub, goal_id and security_token',
    async (path) => {
      const f = await createFixture();
      const clickId = await mintClick(f);
      const res = await get(
        'clickhop.test',
        `${path}?transaction_id=${clickId}&amount=40.00&adv_sub=ORD-${path.slice(1)}&adv_sub2=ref2&adv_sub5=ref5&goal_id=sale&security_token=${f.postbackKey}`,
      );
      expect(res.status).toBe(200);
      expect(await withPayout(res)).toMatchObject({
        status: 'ok',
        event: 'sale',
        amount: '40.00',
        revenue: '4.00',
        payout: '2.00',
      });
      expect(await conversion(res.body.conversion_id)).toMatchObject({
        profile: 'hasoffers',
        source: 'server',
        order_id: `ORD-${path.slice(1)}`,
      });
      const log = await lastLogRow();
      expect(log).toMatchObject({ profile: 'hasoffers', outcome: 'created' });
      expect(JSON.parse(String(log?.params))).toMatchObject({ security_token: '[redacted]', adv_sub2: 'ref2' });
    },
  );

  it('refuses /aff_lsr without a token, naming nothing it was not sent', async () => {
    const f = await createFixture();
    const res = await get('clickhop.test', `/aff_lsr?transaction_id=${await mintClick(f)}&amount=1.00`);
    expect(res.status).toBe(401);
  });
});

describe('TradeTracker callbacks on the root', () => {
  it('records a lead on a tl. host', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const res = await get(
      'tl.tracking.shop.example',
      `/?s2s=1&cid=12345&pid=67890&tgi=&tid=TL-1&descrMerchant=new%20player&descrAffiliate=new%20player&data=${clickId}&key=${f.postbackKey}`,
    );
    expect(res.status).toBe(200);
    expect(await withPayout(res)).toMatchObject({ event: 'lead', order_id: 'TL-1', payout: '2.00' });
    expect(await lastLogRow()).toMatchObject({ profile: 'tradetracker', outcome: 'created' });
  });

  it('records a sale on a ts. host, and on any host when tam is present', async () => {
    const f = await createFixture();
    const ts = await get(
      'ts.tracking.shop.example',
      `/?s2s=1&tid=TS-1&tam=100.00&currency=EUR&data=${await mintClick(f)}&key=${f.postbackKey}`,
    );
    expect(await withPayout(ts)).toMatchObject({ event: 'sale', amount: '100.00', payout: '5.00' });
    const other = await get(
      'track.clickhop.test',
      `/?s2s=1&tid=TS-2&tam=50.00&data=${await mintClick(f)}&key=${f.postbackKey}`,
    );
    expect(await withPayout(other)).toMatchObject({ event: 'sale', amount: '50.00', payout: '2.50' });
    const lead = await get('track.clickhop.test', `/?s2s=1&tid=TL-2&data=${await mintClick(f)}&key=${f.postbackKey}`);
    expect(lead.body).toMatchObject({ event: 'lead' });
  });

  it('prices the sale in the commission group that pid names, and ignores a pid that names none', async () => {
    const f = await saleFixture();
    const grouped = await get(
      'ts.tracking.shop.example',
      `/?s2s=1&tid=G-1&tam=100.00&pid=SHOES&data=${await mintClick(f)}&key=${f.postbackKey}`,
    );
    expect(await withPayout(grouped)).toMatchObject({
      event: 'sale',
      amount: '100.00',
      revenue: '20.00',
      payout: '12.00',
    });
    const stored = await conversion(grouped.body.conversion_id);
    expect(JSON.parse(String(stored?.products))).toEqual([
      { sku: null, name: null, unit_price: '100.00', quantity: 1, category: null, commission_group: 'SHOES' },
    ]);
    const plain = await get(
      'ts.tracking.shop.example',
      `/?s2s=1&tid=G-2&tam=100.00&pid=67890&data=${await mintClick(f)}&key=${f.postbackKey}`,
    );
    expect(await withPayout(plain)).toMatchObject({ revenue: '10.00', payout: '5.00' });
    expect((await conversion(plain.body.conversion_id))?.products).toBeNull();
  });

  it('keeps descrAffiliate for the publisher and descrMerchant out of the conversion', async () => {
    const f = await createFixture();
    const res = await get(
      'tl.tracking.shop.example',
      `/?s2s=1&tid=D-1&descrMerchant=internal%20note&descrAffiliate=welcome%20bonus&data=${await mintClick(f)}&key=${f.postbackKey}`,
    );
    const stored = await conversion(res.body.conversion_id);
    expect(stored?.description).toBe('welcome bonus');
    expect(JSON.stringify(stored)).not.toContain('internal note');
  });

  it('leaves / without s2s to the service answer', async () => {
    const res = await get('clickhop.test', '/');
    expect(res).toEqual({ status: 200, body: { service: 'clickhop', docs: '/api/docs' } });
  });
});
