// Closing the month in headless Chromium, as people do it: an advertiser uploads a validation
// file, reads the preview (nothing changed yet), confirms and reads the outcome; a publisher
// files a claim for a missed sale, the advertiser accepts it and both see the conversion it
// created. Screenshots of each step under .ci-out/closing-month/.
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, ROOT, skipReason, startWorld, type World } from './world';

const SHOTS = resolve(ROOT, '.ci-out/closing-month');
const PASSWORD = 'closing month browser password';
const skip = skipReason('closing the month');

// biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text, which is the point here
const shown = (page: Page, selector: string) => page.locator(selector).first().innerText();

async function shoot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  await writeFile(resolve(SHOTS, `${name}.png`), await page.screenshot({ fullPage: true }));
}

describe.skipIf(skip !== null)('closing the month in headless Chromium', () => {
  let world: World | undefined;
  let browser: Browser | undefined;
  let offerId = 0;
  const invites: Record<'publisher' | 'advertiser', string> = { publisher: '', advertiser: '' };
  const pages: Partial<Record<'publisher' | 'advertiser', Page>> = {};

  const statusOf = async (orderId: string) =>
    (await (world as World).db())
      .prepare('SELECT status, source FROM conversions WHERE order_id = ?')
      .bind(orderId)
      .first<{ status: string; source: string }>();

  beforeAll(async () => {
    world = await startWorld();
    const { api } = world;
    const advertiser = await api<{ id: number }>('/advertisers', { name: 'Shoe shop' });
    const publisher = await api<{ id: number }>('/publishers', { name: 'Running blog' });
    const offer = await api<{ id: number }>('/offers', {
      advertiser_id: advertiser.id,
      name: 'Trail shoes',
      landing_url: 'https://shop.example/trail',
      currency: 'EUR',
      goals: [{ key: 'sale', revenue_percent: 10, payout_percent: 5 }],
    });
    offerId = offer.id;
    const db = await world.db();
    // Three pending sales of this month, as the postback flow stores them.
    for (const [i, amount] of [8000, 12000, 4550].entries()) {
      await db
        .prepare(
          `INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, order_id, dedupe_key, status,
             currency, amount, payout_currency, revenue, payout, profile, created_at, updated_at)
           SELECT ?1, ?2, id, ?3, ?4, ?5, 'o:' || ?5, 'pending', 'EUR', ?6, 'EUR', ?6 / 10, ?6 / 20, 'canonical', ?7, ?7
           FROM goals WHERE offer_id = ?2`,
        )
        .bind(`cv_close_${i}`, offer.id, advertiser.id, publisher.id, `ORD-${i + 1}`, amount, new Date().toISOString())
        .run();
    }
    const invite = async (body: Record<string, unknown>) =>
      (await api<{ invite_url: string }>('/users', body)).invite_url;
    invites.publisher = await invite({ email: 'pat@blog.example', role: 'publisher', publisher_id: publisher.id });
    invites.advertiser = await invite({ email: 'ada@shop.example', role: 'advertiser', advertiser_id: advertiser.id });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  async function signedIn(who: 'publisher' | 'advertiser'): Promise<Page> {
    const existing = pages[who];
    if (existing) return existing;
    const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const origin = (world as World).origin;
    const link = new URL(invites[who]);
    await page.goto(`${origin}${link.pathname}${link.search}`);
    await page.fill('input[name=password]', PASSWORD);
    await page.fill('input[name=confirm]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${origin}/portal`);
    pages[who] = page;
    return page;
  }

  it('an advertiser uploads a validation file, previews it, confirms and reads the outcome', async () => {
    const origin = (world as World).origin;
    const page = await signedIn('advertiser');
    await page.goto(`${origin}/portal/validations`);
    // A spreadsheet export: BOM, semicolons, CRLF, a quoted reason, and an order we never saw.
    const file =
      '\uFEFForder_id;status;reason\r\nORD-1;approved;\r\nORD-2;rejected;"Returned; refunded"\r\nORD-404;approved;\r\n';
    await page.setInputFiles('input[name=file]', {
      name: 'november.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(file),
    });
    await shoot(page, 'validation-upload');
    await page.click('button[type=submit]:has-text("Preview")');
    await page.waitForURL(`${origin}/portal/validations/preview`);

    expect(await shown(page, '.notice')).toContain('Nothing has changed yet');
    expect(await shown(page, '#validation-counts')).toMatch(/2 changed · 0 unchanged · 1 failed · 3 of 3 rows done/);
    const preview = page.locator('#preview tbody tr');
    expect(await preview.count()).toBe(3);
    expect(await shown(page, '#preview tbody tr:nth-child(2)')).toMatch(
      /ORD-2[\s\S]*changed[\s\S]*pending -> rejected/,
    );
    expect(await shown(page, '#preview tbody tr:nth-child(3)')).toMatch(/ORD-404[\s\S]*failed[\s\S]*unknown_order/);
    expect(await shown(page, '#confirm')).toBe('Apply 2 changes');
    await shoot(page, 'validation-preview');
    expect((await statusOf('ORD-1'))?.status).toBe('pending');

    await page.click('#confirm');
    await page.waitForURL(/\/portal\/validations\/val_[A-Za-z0-9_-]+$/);
    expect(await shown(page, '.notice')).toBe('Done.');
    expect(await shown(page, '#validation-counts')).toMatch(/2 changed · 0 unchanged · 1 failed · 3 of 3 rows done/);
    expect(await page.locator('#failed-rows tbody tr').count()).toBe(1);
    expect(await shown(page, '#failed-rows tbody tr')).toMatch(/ORD-404[\s\S]*unknown_order/);
    await shoot(page, 'validation-done');
    expect((await statusOf('ORD-1'))?.status).toBe('approved');
    expect((await statusOf('ORD-2'))?.status).toBe('rejected');
    expect((await statusOf('ORD-3'))?.status).toBe('pending');
  });

  it('a publisher files a claim for a missed sale; the advertiser accepts it; both see the conversion', async () => {
    const origin = (world as World).origin;
    const publisher = await signedIn('publisher');
    await publisher.goto(`${origin}/portal/claims`);
    await publisher.fill('input[name=offer_id]', String(offerId));
    await publisher.fill('input[name=order_id]', 'MISSED-9');
    await publisher.fill('input[name=amount]', '80.00');
    await publisher.fill('input[name=currency]', 'EUR');
    await publisher.fill('input[name=transaction_date]', new Date().toISOString().slice(0, 10));
    await publisher.fill('textarea[name=note]', 'Ordered from our review page; the ad blocker ate the click.');
    await shoot(publisher, 'claim-form');
    await publisher.click('button[type=submit]:has-text("File claim")');
    await publisher.waitForURL(/\/portal\/claims\/\d+$/);
    const claimId = publisher.url().split('/').pop() as string;
    expect(await shown(publisher, '#claim')).toMatch(/Status\s+open/);
    expect(await shown(publisher, '#claim')).toMatch(/MISSED-9 on offer \d+/);
    expect(await shown(publisher, '#claim')).toContain('the ad blocker ate the click');
    expect(await publisher.locator('#accept').count()).toBe(0);
    await shoot(publisher, 'claim-filed');

    const advertiser = await signedIn('advertiser');
    await advertiser.goto(`${origin}/portal/claims`);
    await advertiser.locator(`tr[data-claim-id="${claimId}"] a`).click();
    await advertiser.waitForURL(`${origin}/portal/claims/${claimId}`);
    await shoot(advertiser, 'claim-to-decide');
    await advertiser.click('#accept');
    await advertiser.waitForLoadState();
    const decided = await shown(advertiser, '#claim');
    expect(decided).toMatch(/Status\s+accepted · conversion cv_/);
    expect(await advertiser.locator('#accept').count()).toBe(0);
    await shoot(advertiser, 'claim-accepted');
    expect(await statusOf('MISSED-9')).toMatchObject({ source: 'claim' });

    await publisher.reload();
    expect(await shown(publisher, '#claim')).toMatch(/Status\s+accepted · conversion cv_/);
    await shoot(publisher, 'claim-accepted-publisher');
  });
});
