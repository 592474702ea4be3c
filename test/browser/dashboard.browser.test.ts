import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourCounts, decodePng } from './png';
import { CHROMIUM, inCi, launchChromium, ROOT, skipReason, startWorld, type World } from './world';

const SCREENSHOT = resolve(ROOT, '.ci-out/dashboard.png');
const VIEWPORT = { width: 1280, height: 900 };
// Colours of the stylesheet (src/dashboard/render.ts) in the light scheme.
const BACKGROUND = '#f5f6f8';
const CARD = '#ffffff';
const CLICKS_BAR = '#2563eb';
const CONVERSIONS_BAR = '#15803d';

const skip = skipReason('dashboard');

interface Seeded {
  origin: string;
  offerId: number;
  publisherId: number;
  conversionId: string;
}

/** The text as rendered, i.e. what the operator sees (layout and CSS applied). */
// biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text, which is the point here
const shown = (locator: Locator) => locator.innerText();

async function until<T>(what: string, probe: () => Promise<T | null | undefined>, ms = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it.runIf(inCi)('finds Chromium at /usr/bin/chromium in CI (.ci/run installs it)', () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run must install it`).toBe(true);
});

describe.skipIf(skip !== null)('dashboard in headless Chromium', () => {
  let world: World | undefined;
  let browser: Browser | undefined;
  let ADMIN_TOKEN = '';
  let seeded: Seeded;

  beforeAll(async () => {
    world = await startWorld();
    const { origin, api, receiverPort } = world;
    const db = await world.db();
    ADMIN_TOKEN = world.adminToken;
    const advertiser = await api<{ id: number; postback_key: string }>('/advertisers', { name: 'Shoe shop' });
    const publisher = await api<{ id: number }>('/publishers', { name: 'Running blog' });
    const offer = await api<{ id: number }>('/offers', {
      advertiser_id: advertiser.id,
      name: 'Trail shoes',
      landing_url: 'https://shop.example/trail',
      currency: 'EUR',
      goals: [
        { key: 'lead', revenue: '5.00', payout: '2.00' },
        { key: 'sale', revenue_percent: 10, payout_percent: 5 },
      ],
    });
    await api('/endpoints', {
      publisher_id: publisher.id,
      url: `http://127.0.0.1:${receiverPort}/hook`,
      method: 'POST',
      format: 'json',
      events: ['conversion.created'],
    });

    const clicked = await fetch(`${origin}/c/${offer.id}/${publisher.id}`, {
      redirect: 'manual',
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0', 'cf-connecting-ip': '198.51.100.7' },
    });
    expect(clicked.status).toBe(302);
    const clickId = new URL(clicked.headers.get('location') ?? '').searchParams.get('click_id');
    if (!clickId) throw new Error('no click ID in the redirect');
    // Stored in its partition or in D1: the admin lookup says when it has landed.
    await until('click stored', async () => {
      const lookup = await fetch(`${origin}/api/v1/clicks/${clickId}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      return ((await lookup.json()) as { landed?: boolean }).landed ? true : null;
    });

    // A 49.90 EUR sale: revenue 10% = 4.99, payout 5% = 2.495, half up to 2.50.
    const postback = await fetch(
      `${origin}/postback?${new URLSearchParams({
        click_id: clickId,
        event: 'sale',
        order_id: 'WEB-1001',
        amount: '49.90',
        key: advertiser.postback_key,
      })}`,
    );
    const answer = (await postback.json()) as { conversion_id: string };
    expect(postback.status, JSON.stringify(answer)).toBe(200);
    await until('notification delivered', () =>
      db
        .prepare(`SELECT 1 AS ok FROM deliveries WHERE conversion_id = ? AND status = 'delivered'`)
        .bind(answer.conversion_id)
        .first(),
    );
    seeded = { origin, offerId: offer.id, publisherId: publisher.id, conversionId: answer.conversion_id };

    // playwright-core launches the Debian Chromium with a fresh temporary --user-data-dir of its own.
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it('answers a wrong token with the sign-in page and no numbers', async () => {
    // Headless Chromium cannot prompt, so it answers the Basic challenge with what it was given.
    const context = await (browser as Browser).newContext({
      httpCredentials: { username: 'operator', password: `${ADMIN_TOKEN}-wrong` },
    });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${seeded.origin}/dashboard`);
      expect(response?.status()).toBe(401);
      expect(response?.headers()['www-authenticate']).toBe('Basic realm="Clickhop", charset="UTF-8"');
      expect(await shown(page.locator('h1'))).toBe('Sign in required');
      expect(await page.locator('#today-clicks').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it("signs in with HTTP Basic, shows today's numbers and the delivered sale, and renders the page", async () => {
    const context = await (browser as Browser).newContext({
      httpCredentials: { username: 'operator', password: ADMIN_TOKEN },
      viewport: VIEWPORT,
      deviceScaleFactor: 1,
      colorScheme: 'light',
    });
    try {
      const page = await context.newPage();
      const policyErrors: string[] = [];
      page.on('console', (message) => {
        if (/Content.Security.Policy/i.test(message.text())) policyErrors.push(message.text());
      });
      const response = await page.goto(`${seeded.origin}/dashboard`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['cache-control']).toBe('no-store');

      const text = (selector: string) => shown(page.locator(selector));
      expect(await text('#today-clicks')).toBe('1');
      expect(await text('#today-unique-clicks')).toBe('1');
      expect(await text('#today-conversions')).toBe('1');
      expect(await text('#today-conversion-statuses')).toBe('1 pending · 0 approved · 0 rejected · 0 reversed');
      expect(await text('#today-money tr[data-currency="EUR"] .revenue')).toBe('4.99 EUR');
      expect(await text('#today-money tr[data-currency="EUR"] .payout')).toBe('2.50 EUR');

      const row = page.locator(`#recent-conversions tr[data-conversion-id="${seeded.conversionId}"]`);
      await expect(shown(row.locator('.order'))).resolves.toBe('WEB-1001');
      await expect(shown(row)).resolves.toMatch(/Trail shoes[\s\S]*Running blog[\s\S]*sale[\s\S]*pending/);
      expect(await shown(row.locator('.amount'))).toBe('49.90 EUR');
      expect(await shown(row.locator('.revenue'))).toBe('4.99 EUR');
      expect(await shown(row.locator('.payout'))).toBe('2.50 EUR');
      expect(await shown(row.locator('.deliveries'))).toBe('1 delivered');

      // The chart is on screen with one bar per series (today), and the stylesheet applied:
      // the Content-Security-Policy's hash let it through and nothing was refused. (Expressions
      // run in the page are strings: this project's TypeScript has no DOM types.)
      expect(await page.locator('svg.chart rect.bar-clicks').count()).toBe(1);
      expect(await page.locator('svg.chart rect.bar-conversions').count()).toBe(1);
      const chartBox = await page.locator('svg.chart').boundingBox();
      expect(chartBox?.width).toBeGreaterThan(600);
      expect(await page.evaluate<string>('getComputedStyle(document.body).backgroundColor')).toBe('rgb(245, 246, 248)');
      expect(policyErrors).toEqual([]);

      // The operator overview (the portal's, on this page too): breakdowns, the sale awaiting
      // approval with its click's dispute view, and a date range that reloads the page.
      expect(await shown(page.locator('#by-offer tbody tr[data-key] td').first())).toMatch(/^offer \d+$/);
      expect(await shown(page.locator('#by-publisher tbody tr[data-key] td').first())).toMatch(/^publisher \d+$/);
      const pendingRow = page.locator(`#pending-conversions tr[data-conversion-id="${seeded.conversionId}"]`);
      expect(await shown(pendingRow.locator('.order'))).toBe('WEB-1001');
      const from = await page.locator('form[action="/dashboard"] input[name="from"]').inputValue();
      await page.locator('form[action="/dashboard"] button').click();
      await page.waitForURL(/\/dashboard\?from=/);
      expect(await page.locator('form[action="/dashboard"] input[name="from"]').inputValue()).toBe(from);
      expect(policyErrors).toEqual([]);
      const dispute = await page.request.get(
        `${seeded.origin}${await pendingRow.locator('a[href^="/dashboard/clicks/"]').getAttribute('href')}`,
      );
      expect(dispute.status()).toBe(200);
      await page.goto(`${seeded.origin}/dashboard`);

      const height = await page.evaluate<number>('document.documentElement.scrollHeight');
      const png = await page.screenshot({ fullPage: true, type: 'png' });
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await writeFile(SCREENSHOT, png);

      const image = decodePng(png);
      expect({ width: image.width, height: image.height }).toEqual({ width: VIEWPORT.width, height });
      expect(height).toBeGreaterThanOrEqual(VIEWPORT.height);
      const colours = colourCounts(image);
      const pixels = image.width * image.height;
      const ranked = [...colours.entries()].sort((x, y) => y[1] - x[1]);
      // Not blank: the white cards and the page background are the two commonest colours but
      // neither covers most of the page, text antialiasing makes many distinct colours, and
      // both series' bars are drawn solid.
      expect(
        ranked
          .slice(0, 2)
          .map(([colour]) => colour)
          .sort(),
      ).toEqual([BACKGROUND, CARD].sort());
      expect((ranked[0]?.[1] ?? 0) / pixels).toBeLessThan(0.9);
      expect(colours.size).toBeGreaterThan(50);
      expect(colours.get(CLICKS_BAR) ?? 0).toBeGreaterThan(1_000);
      expect(colours.get(CONVERSIONS_BAR) ?? 0).toBeGreaterThan(500);
    } finally {
      await context.close();
    }
  });
});
