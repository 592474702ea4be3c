// The tag end to end in headless Chromium: a shop on another origin (a Node HTTP server) loads
// /t.js, a visitor follows a tracking link and lands there with a click ID, converts on a second
// page that has no click ID in its URL, and the conversion exists with the click's sub IDs and
// source "browser".
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, skipReason, startWorld, type World } from './world';

const skip = skipReason('tag');

async function until<T>(what: string, probe: () => Promise<T | null | undefined>, ms = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The advertiser's shop: two pages that load the tag from the tracking domain. */
function shopPages(tracking: string, offerId: number): Record<string, string> {
  const tag = `<script>window.clickhop=window.clickhop||function(){(clickhop.q=clickhop.q||[]).push(arguments)}</script>
<script async src="${tracking}/t.js" data-param="cid" data-days="7"></script>`;
  return {
    '/landing.html': `<!doctype html><meta charset="utf-8"><title>Trail shoes</title>${tag}<h1>Trail shoes</h1><a id="buy" href="/thanks.html">Buy</a>`,
    '/thanks.html': `<!doctype html><meta charset="utf-8"><title>Thank you</title>${tag}
<script>clickhop('conversion', {offer_id: ${offerId}, goal: 'sale', order_id: 'CHR-1', amount: '42.50', currency: 'EUR'})</script>
<h1>Thank you for your order</h1>`,
  };
}

describe.skipIf(skip !== null)('the tag in headless Chromium', () => {
  let world: World | undefined;
  let browser: Browser | undefined;
  let shop: Server | undefined;
  let shopOrigin = '';
  let offerId = 0;
  let publisherId = 0;
  let pages: Record<string, string> = {};

  beforeAll(async () => {
    world = await startWorld();
    shop = createServer((req, res) => {
      const page = pages[new URL(req.url ?? '/', 'http://x').pathname];
      res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page ?? 'not found');
    });
    await new Promise<void>((r) => shop?.listen(0, '127.0.0.1', r));
    const address = shop.address();
    if (!address || typeof address === 'string') throw new Error('shop did not bind');
    // Another host name than the tracking domain's, so the two never share cookies.
    const trackingHost = new URL(world.origin).hostname;
    shopOrigin = `http://${trackingHost === 'localhost' ? '127.0.0.1' : 'localhost'}:${address.port}`;
    const advertiser = await world.api<{ id: number }>('/advertisers', { name: 'Shoe shop' });
    const publisher = await world.api<{ id: number }>('/publishers', { name: 'Running blog' });
    const offer = await world.api<{ id: number }>('/offers', {
      advertiser_id: advertiser.id,
      name: 'Trail shoes',
      landing_url: `${shopOrigin}/landing.html`,
      click_param: 'cid',
      currency: 'EUR',
      browser_tracking: true,
      goals: [{ key: 'sale', revenue_percent: 10, payout_percent: 5 }],
    });
    offerId = offer.id;
    publisherId = publisher.id;
    pages = shopPages(world.origin, offerId);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (shop ? shop.close(() => r()) : r()));
    await world?.close();
  });

  it('keeps the click ID on the shop and sends the conversion from its thank-you page', async () => {
    if (!world || !browser) throw new Error('not started');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${world.origin}/c/${offerId}/${publisherId}?sub1=chromium&aff_sub2=e2e`);
    expect(page.url().startsWith(`${shopOrigin}/landing.html?`)).toBe(true);
    const clickId = new URL(page.url()).searchParams.get('cid');
    expect(clickId).toHaveLength(48);
    // The tag kept it in a first-party cookie of the shop and in localStorage.
    const kept = await until('the tag keeps the click ID', async () => {
      const cookies = await context.cookies(shopOrigin);
      return cookies.find((c) => c.name === 'ch_cid') ?? null;
    });
    expect(kept).toMatchObject({ value: clickId, path: '/', sameSite: 'Lax', httpOnly: false });
    expect(kept.expires - Date.now() / 1000).toBeGreaterThan(7 * 86_400 - 120);
    expect(kept.expires - Date.now() / 1000).toBeLessThanOrEqual(7 * 86_400);
    expect(await page.evaluate(() => localStorage.getItem('ch_cid'))).toMatch(new RegExp(`^${clickId} \\d+$`));

    await page.click('#buy');
    await page.waitForURL(`${shopOrigin}/thanks.html`);
    const db = await world.db();
    const row = await until('the conversion is stored with its sub IDs', async () => {
      const cv = await db
        .prepare('SELECT * FROM conversions WHERE offer_id = ? AND order_id = ?')
        .bind(offerId, 'CHR-1')
        .first<Record<string, unknown>>();
      return cv?.sub1 ? cv : null;
    });
    expect(row).toMatchObject({
      click_id: clickId,
      publisher_id: publisherId,
      source: 'browser',
      profile: 'browser',
      attribution: 'click',
      sub1: 'chromium',
      sub2: 'e2e',
      amount: 4250,
      currency: 'EUR',
      payout: 213,
    });
    const log = await db
      .prepare("SELECT * FROM postback_log WHERE profile = 'browser' AND order_id = 'CHR-1'")
      .first<Record<string, unknown>>();
    expect(log).toMatchObject({ outcome: 'created', http_status: 204 });
    await context.close();
  });
});
