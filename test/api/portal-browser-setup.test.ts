// The advertiser's integration page shows, per offer, whether browser conversions are on and the
// tag and pixel snippets filled in with that offer's own click parameter, window, goal and the
// tracking host; the snippets it shows work as written (the pixel records a conversion).
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminOk, createFixture, type Fixture, worker } from '../helpers';
import { elementById, type PortalPerson, signedIn, textOf } from '../portal-helpers';
import { mintLandedClick } from '../postback-helpers';

let f: Fixture;
let closed: Fixture;
let advertiser: PortalPerson;

const decodeEntities = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

function snippet(page: string, kind: 'tag' | 'pixel', offerId: number): string {
  const match = new RegExp(`<pre data-snippet="${kind}" data-offer-id="${offerId}">([\\s\\S]*?)</pre>`).exec(page);
  if (!match) throw new Error(`no ${kind} snippet for offer ${offerId}`);
  return decodeEntities(match[1] as string);
}

beforeAll(async () => {
  f = await createFixture({ name: 'Shop with a tag' });
  await adminOk('PATCH', `/offers/${f.offerId}`, {
    browser_tracking: true,
    click_param: 'ref',
    attribution_window_days: 14,
  });
  // Another offer of the same advertiser, without browser tracking.
  const other = await adminOk<{ id: number }>('POST', '/offers', {
    advertiser_id: f.advertiserId,
    name: 'Server-only offer',
    landing_url: 'https://shop.example/landing',
    currency: 'EUR',
    goals: [{ key: 'lead', revenue: '5.00', payout: '2.00' }],
  });
  closed = { ...f, offerId: other.id };
  advertiser = await signedIn('tags@shop.example', {
    role: 'advertiser',
    advertiser_id: f.advertiserId,
    publisher_id: null,
  });
});

describe('advertiser integration page: browser tracking', () => {
  it("shows the tag and pixel for an offer with browser tracking, filled in with the offer's own settings", async () => {
    const page = (await advertiser.page('/portal/integration')).text;
    const tag = snippet(page, 'tag', f.offerId);
    expect(tag).toContain('<script async src="https://clickhop.test/t.js" data-param="ref" data-days="14"></script>');
    // The goal is one of the offer's own (the fixture's lead and sale), the same in both snippets.
    const goal = new RegExp(`clickhop\\('conversion', \\{offer_id: ${f.offerId}, goal: '(lead|sale)', `).exec(tag)?.[1];
    expect(goal).toBeDefined();
    expect(snippet(page, 'pixel', f.offerId)).toBe(
      `<img src="https://clickhop.test/px?offer_id=${f.offerId}&goal=${goal}&order_id=ORDER-ID&amount=0.00&currency=EUR" width="1" height="1" alt="">`,
    );
  });

  it('names the offers whose browser conversions are off, with no snippet for them', async () => {
    const page = (await advertiser.page('/portal/integration')).text;
    expect(() => snippet(page, 'tag', closed.offerId)).toThrow();
    expect(textOf(elementById(page, 'browser-off'))).toContain(`Server-only offer (offer ${closed.offerId})`);
  });

  it('the pixel as shown records a browser conversion when given a click ID and an order', async () => {
    const page = (await advertiser.page('/portal/integration')).text;
    const src = /src="([^"]+)"/.exec(snippet(page, 'pixel', f.offerId))?.[1] as string;
    const clickId = await mintLandedClick(f);
    const url = new URL(src);
    url.searchParams.set('order_id', 'PX-SNIPPET-1');
    url.searchParams.set('amount', '25.00');
    url.searchParams.set('click_id', clickId);
    const res = await worker(`${url.pathname}${url.search}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    const row = await env.DB.prepare('SELECT source, profile, amount FROM conversions WHERE order_id = ?')
      .bind('PX-SNIPPET-1')
      .first();
    expect(row).toEqual({ source: 'browser', profile: 'pixel', amount: 2500 });
  });
});
