// The printable statement in headless Chromium: the operator issues it with the portal's own
// form, the publisher opens it, and printed (print media, then a real PDF) it shows the
// statement and its total without the navigation, the header or any button.
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, ROOT, skipReason, startWorld, type World } from './world';

const SHOTS = resolve(ROOT, '.ci-out/statements');
const PASSWORD = 'statement browser password';
const skip = skipReason('statements');

// biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text, which is the point here
const shown = (page: Page, selector: string) => page.locator(selector).first().innerText();

describe.skipIf(skip !== null)('printable statement in headless Chromium', () => {
  let world: World | undefined;
  let browser: Browser | undefined;
  let statementId = 0;
  const invites: Record<'publisher' | 'operator', string> = { publisher: '', operator: '' };

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
    const db = await world.db();
    // Twelve approved October sales, seeded as the postback flow stores them.
    for (let i = 1; i <= 12; i++) {
      await db
        .prepare(
          `INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, order_id, dedupe_key, status,
             currency, amount, payout_currency, revenue, payout, profile, created_at, updated_at)
           SELECT ?1, ?2, id, ?3, ?4, ?5, 'o:' || ?5, 'approved', 'EUR', ?6, 'EUR', ?6 / 10, ?6 / 20, 'canonical', ?7, ?7
           FROM goals WHERE offer_id = ?2`,
        )
        .bind(
          `cv_print_${i}`,
          offer.id,
          advertiser.id,
          publisher.id,
          `ORD-${1000 + i}`,
          4000 + i * 100,
          `2026-10-${String(i + 2).padStart(2, '0')}T10:00:00.000Z`,
        )
        .run();
    }
    await api('/statements', { period: '2026-10' });
    const list = await fetch(`${world.origin}/api/v1/statements?period=2026-10`, {
      headers: { authorization: `Bearer ${world.adminToken}` },
    });
    statementId = ((await list.json()) as { data: { id: number }[] }).data[0]?.id as number;
    const invite = async (body: Record<string, unknown>) =>
      (await api<{ invite_url: string }>('/users', body)).invite_url;
    invites.publisher = await invite({ email: 'pat@blog.example', role: 'publisher', publisher_id: publisher.id });
    invites.operator = await invite({ email: 'olga@network.example', role: 'operator' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  async function signedInPage(inviteUrl: string): Promise<Page> {
    const context = await (browser as Browser).newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: 'light',
    });
    const page = await context.newPage();
    const link = new URL(inviteUrl);
    const origin = (world as World).origin;
    await page.goto(`${origin}${link.pathname}${link.search}`);
    await page.fill('input[name=password]', PASSWORD);
    await page.fill('input[name=confirm]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${origin}/portal`);
    return page;
  }

  it('the operator issues it with the portal form; the publisher prints it without navigation', async () => {
    const origin = (world as World).origin;
    const operator = await signedInPage(invites.operator);
    await operator.goto(`${origin}/portal/statements`);
    await operator.locator(`tr[data-document-id="${statementId}"] button`, { hasText: 'Issue' }).click();
    await operator.waitForLoadState();
    expect(await shown(operator, '.notice')).toContain(`Statement ${statementId} issued`);
    expect(await operator.locator('#document').getAttribute('data-status')).toBe('issued');

    const page = await signedInPage(invites.publisher);
    await page.goto(`${origin}/portal/statements/${statementId}`);
    expect(await page.locator('nav.portal').isVisible()).toBe(true);
    expect(await shown(page, '#document-total')).toBe('27.90 EUR');
    expect(await page.locator('#lines tbody tr').count()).toBe(12);
    await mkdir(SHOTS, { recursive: true });
    await writeFile(resolve(SHOTS, 'statement-screen.png'), await page.screenshot({ fullPage: true }));

    await page.emulateMedia({ media: 'print' });
    for (const selector of ['nav.portal', 'header', 'footer', '.no-print', '.page-title']) {
      expect(await page.locator(selector).first().isVisible(), `${selector} in print`).toBe(false);
    }
    expect(await page.locator('#document').isVisible()).toBe(true);
    expect(await shown(page, '#document-title')).toBe(`Statement ${statementId}`);
    expect(await shown(page, '#document-total')).toBe('27.90 EUR');
    const background = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(background).toBe('rgb(255, 255, 255)');
    await writeFile(resolve(SHOTS, 'statement-print.png'), await page.screenshot({ fullPage: true }));

    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(5_000);
    await writeFile(resolve(SHOTS, 'statement.pdf'), pdf);
  });
});
