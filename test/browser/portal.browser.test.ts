import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase32, totpAt } from '../../src/auth/totp';
import { launchChromium, ROOT, skipReason, startWorld, type World } from './world';

const SHOTS = resolve(ROOT, '.ci-out/portal');
const DOC_IMAGES = resolve(ROOT, 'docs/img');
/** The walkthrough's images are committed: a run rewrites them only when asked to. */
const UPDATE_DOC_IMAGES = process.env.UPDATE_DOCS_SCREENSHOTS === '1';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const PASSWORD = 'portal browser password';

const skip = skipReason('portal');

interface Seeded {
  origin: string;
  offerId: number;
  privateOfferId: number;
  publisherId: number;
  advertiserId: number;
  postbackKey: string;
  receiverPort: number;
  invites: Record<'publisher' | 'advertiser' | 'operator', string>;
}

// biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text, which is the point here
const shown = (page: Page, selector: string) => page.locator(selector).first().innerText();

async function shoot(page: Page, name: string, docName?: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true, type: 'png' });
  await mkdir(SHOTS, { recursive: true });
  await writeFile(resolve(SHOTS, `${name}.png`), png);
  if (docName && UPDATE_DOC_IMAGES) {
    await mkdir(DOC_IMAGES, { recursive: true });
    await writeFile(resolve(DOC_IMAGES, `${docName}.png`), png);
  }
}

/** Nothing wider than the screen: a phone user never scrolls sideways past the page. */
async function fitsThePhone(page: Page): Promise<void> {
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow).toBeLessThanOrEqual(0);
}

describe.skipIf(skip !== null)('partner portal in headless Chromium', () => {
  let world: World | undefined;
  let browser: Browser | undefined;
  let seeded: Seeded;

  beforeAll(async () => {
    world = await startWorld();
    const { origin, api, receiverPort } = world;
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
    const privateOffer = await api<{ id: number }>('/offers', {
      advertiser_id: advertiser.id,
      name: 'Private trail watches',
      landing_url: 'https://shop.example/watches',
      currency: 'EUR',
      visibility: 'private',
      attribution_window_days: 14,
      goals: [{ key: 'lead', revenue: '9.00', payout: '4.00' }],
    });
    await api(`/offers/${privateOffer.id}/caps`, { metric: 'conversions', period: 'day', limit: 50 });
    const invite = async (body: Record<string, unknown>) =>
      (await api<{ invite_url: string }>('/users', body)).invite_url;
    seeded = {
      origin,
      offerId: offer.id,
      privateOfferId: privateOffer.id,
      publisherId: publisher.id,
      advertiserId: advertiser.id,
      postbackKey: advertiser.postback_key,
      receiverPort,
      invites: {
        publisher: await invite({ email: 'pat@blog.example', role: 'publisher', publisher_id: publisher.id }),
        advertiser: await invite({ email: 'ada@shop.example', role: 'advertiser', advertiser_id: advertiser.id }),
        operator: await invite({ email: 'olga@network.example', role: 'operator' }),
      },
    };
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  async function personContext(): Promise<BrowserContext> {
    return (browser as Browser).newContext({ viewport: DESKTOP, deviceScaleFactor: 1, colorScheme: 'light' });
  }

  /** Opens the invitation link, sets the password, lands signed in on /portal. */
  async function acceptInvitation(page: Page, inviteUrl: string): Promise<void> {
    const link = new URL(inviteUrl);
    await page.goto(`${seeded.origin}${link.pathname}${link.search}`);
    await page.fill('input[name=password]', PASSWORD);
    await page.fill('input[name=confirm]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${seeded.origin}/portal`);
  }

  /** Signs in with email and password, lands on /portal. */
  async function signIn(page: Page, email: string): Promise<void> {
    await page.goto(`${seeded.origin}/portal/login`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${seeded.origin}/portal`);
  }

  /** Visits each page at desktop width, then on a phone, and keeps both screenshots. */
  async function visit(page: Page, path: string, name: string, check: () => Promise<void>, docName?: string) {
    await page.setViewportSize(DESKTOP);
    const response = await page.goto(`${seeded.origin}${path}`);
    expect(response?.status(), path).toBe(200);
    await check();
    await shoot(page, `${name}-desktop`, docName);
    await page.setViewportSize(PHONE);
    await fitsThePhone(page);
    await shoot(page, `${name}-phone`);
    await page.setViewportSize(DESKTOP);
  }

  it('a publisher sets a password, builds a link, sets up and tests its notifications', async () => {
    const context = await personContext();
    const page = await context.newPage();
    await acceptInvitation(page, seeded.invites.publisher);
    expect(await shown(page, '#signed-in-as')).toBe('pat@blog.example');
    await page.selectOption('select[name=offer]', String(seeded.offerId));
    await page.fill('input[name=sub1]', 'spring-post');
    await page.click('form[action="/portal"] button');
    expect(await shown(page, '#built-link')).toBe(
      `${seeded.origin}/c/${seeded.offerId}/${seeded.publisherId}?sub1=spring-post`,
    );
    expect(await shown(page, `#offers tr[data-offer-id="${seeded.offerId}"]`)).toContain('2.00 EUR');
    await shoot(page, 'publisher-offers-desktop', 'portal-publisher-offers');
    await page.setViewportSize(PHONE);
    await fitsThePhone(page);
    await shoot(page, 'publisher-offers-phone');
    await page.setViewportSize(DESKTOP);

    await page.goto(`${seeded.origin}/portal/endpoints`);
    await page.fill('input[name=url]', `http://127.0.0.1:${seeded.receiverPort}/hook?click={click_id}&payout={payout}`);
    await page.click('form[action="/portal/endpoints"] button');
    expect(await shown(page, '.notice')).toMatch(/Endpoint \d+ added/);
    expect(await shown(page, '#signing-secret')).toMatch(/^whsec_/);
    await page.click('#endpoints form[action$="/test"] button');
    expect(await shown(page, '.notice')).toMatch(/Test sent to endpoint/);
    expect(await shown(page, '#test-result')).toContain('200');
    await shoot(page, 'publisher-endpoints-desktop', 'portal-publisher-endpoints');
    // Another format, with the receiver's own body: a refusal names the field, then it is fixed.
    await page.fill('input[name=url]', `http://127.0.0.1:${seeded.receiverPort}/xml-hook`);
    await page.selectOption('select[name=format]', 'query');
    await page.fill('textarea[name=body_template]', '<sale><click>{click_id}</click></sale>');
    await page.click('form[action="/portal/endpoints"] button');
    expect(await shown(page, '#body_template-error')).toContain('only for POST formats');
    expect(await page.inputValue('textarea[name=body_template]')).toBe('<sale><click>{click_id}</click></sale>');
    await page.selectOption('select[name=format]', 'xml');
    await page.click('form[action="/portal/endpoints"] button');
    expect(await shown(page, '.notice')).toMatch(/Endpoint \d+ added/);
    expect(await shown(page, '#endpoints')).toContain('POST xml · body template');
    await page.setViewportSize(PHONE);
    await fitsThePhone(page);
    await shoot(page, 'publisher-endpoint-formats-phone');
    await page.setViewportSize(DESKTOP);

    for (const [path, name, selector] of [
      ['/portal/reports', 'publisher-reports', '#report'],
      ['/portal/conversions', 'publisher-conversions', '#conversions'],
      ['/portal/deliveries', 'publisher-deliveries', '#deliveries'],
      ['/portal/keys', 'publisher-keys', '#keys'],
      ['/portal/account', 'publisher-account', 'form[action="/portal/account/password"]'],
    ] as const) {
      await visit(page, path, name, async () => expect(await page.locator(selector).count()).toBe(1));
    }
    await context.close();
  });

  it('an advertiser sends a test conversion, sees it in its log and approves it', async () => {
    const context = await personContext();
    const page = await context.newPage();
    await acceptInvitation(page, seeded.invites.advertiser);
    await visit(page, '/portal', 'advertiser-offers', async () => {
      expect(await shown(page, '#offers')).toContain('Trail shoes');
    });
    const clicked = await fetch(`${seeded.origin}/c/${seeded.offerId}/${seeded.publisherId}`, { redirect: 'manual' });
    const clickId = new URL(clicked.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
    await page.goto(`${seeded.origin}/portal/integration`);
    await page.fill('input[name=click_id]', clickId);
    await page.fill('input[name=key]', seeded.postbackKey);
    await page.click('form[action="/portal/integration/test"] button');
    expect(await shown(page, '.notice')).toContain('Test conversion accepted');
    await shoot(page, 'advertiser-integration-desktop', 'portal-advertiser-integration');
    await page.setViewportSize(PHONE);
    await fitsThePhone(page);
    await shoot(page, 'advertiser-integration-phone');
    await page.setViewportSize(DESKTOP);

    await visit(page, '/portal/postbacks', 'advertiser-postbacks', async () => {
      expect(await shown(page, '#postbacks')).toContain('created');
      expect(await shown(page, '#postbacks')).not.toContain(seeded.postbackKey);
    });
    await page.goto(`${seeded.origin}/portal/conversions`);
    await page.click('#conversions button:has-text("Approve")');
    expect(await shown(page, '.notice')).toMatch(/is approved/);
    expect(await shown(page, '#conversions')).toContain('approved');
    await shoot(page, 'advertiser-conversions-desktop', 'portal-advertiser-conversions');
    await visit(page, '/portal/reports', 'advertiser-reports', async () => {
      expect(await page.locator('#report').count()).toBe(1);
    });
    await context.close();
  });

  it('an operator reads the overview, people, keys and the audit log', async () => {
    const context = await personContext();
    const page = await context.newPage();
    await acceptInvitation(page, seeded.invites.operator);
    await visit(page, '/portal', 'operator-overview', async () => {
      expect(await shown(page, '#by-offer')).toContain(`offer ${seeded.offerId}`);
      expect(await page.locator('#failing-deliveries').count()).toBe(1);
    });
    await visit(page, '/portal/people', 'operator-people', async () => {
      expect(await shown(page, '#people')).toContain('pat@blog.example');
    });
    await visit(page, '/portal/audit', 'operator-audit', async () => {
      expect(await shown(page, '#audit')).toContain('changeConversionStatus');
    });
    await visit(page, '/portal/deliveries', 'operator-deliveries', async () => {
      expect(await page.locator('#deliveries').count()).toBe(1);
    });
    await context.close();
  });

  it('a publisher applies to a private offer, the operator approves it, the publisher promotes it', async () => {
    const publisherContext = await personContext();
    const publisher = await publisherContext.newPage();
    await signIn(publisher, 'pat@blog.example');
    const row = `#apply-offers tr[data-offer-id="${seeded.privateOfferId}"]`;
    expect(await shown(publisher, row)).toContain('Not applied');
    expect(await shown(publisher, row)).toContain('lead: 4.00 EUR');
    expect(await shown(publisher, row)).toContain('Cap: 50 conversions per day');
    expect(await shown(publisher, '#apply-offers')).not.toContain('9.00');
    await publisher.fill(`${row} input[name=message]`, 'We review trail gear');
    await publisher.click(`${row} button:has-text("Apply")`);
    expect(await shown(publisher, '.notice')).toMatch(/Applied to offer \d+: application \d+ is pending/);
    expect(await shown(publisher, row)).toContain('Pending');
    await shoot(publisher, 'publisher-applied-desktop');
    await publisher.setViewportSize(PHONE);
    await fitsThePhone(publisher);
    await shoot(publisher, 'publisher-applied-phone');
    await publisher.setViewportSize(DESKTOP);

    const operatorContext = await personContext();
    const operator = await operatorContext.newPage();
    await signIn(operator, 'olga@network.example');
    await visit(operator, '/portal/applications', 'operator-applications', async () => {
      expect(await shown(operator, '#applications')).toContain('Running blog');
      expect(await shown(operator, '#applications')).toContain('We review trail gear');
    });
    await operator.click('#applications button:has-text("Approve")');
    expect(await shown(operator, '.notice')).toMatch(/approved: publisher \d+ may promote offer \d+/);
    await operator.click('#application-tabs a:has-text("Approved")');
    expect(await shown(operator, '#applications')).toContain('Private trail watches');
    await operatorContext.close();

    await publisher.reload();
    const promoted = `#offers tr[data-offer-id="${seeded.privateOfferId}"]`;
    expect(await shown(publisher, promoted)).toContain('private, approved');
    const link = `${seeded.origin}/c/${seeded.privateOfferId}/${seeded.publisherId}`;
    expect(await shown(publisher, promoted)).toContain(link);
    expect(await publisher.locator(`#apply-offers tr[data-offer-id="${seeded.privateOfferId}"]`).count()).toBe(0);
    const clicked = await fetch(link, { redirect: 'manual' });
    expect(clicked.status).toBe(302);
    expect(clicked.headers.get('location')).toMatch(/^https:\/\/shop\.example\/watches/);
    await publisherContext.close();
  });

  it('a wrong password, a stale form and an expired session all show the sign-in page', async () => {
    const context = await personContext();
    const page = await context.newPage();
    await page.goto(`${seeded.origin}/portal/login`);
    await shoot(page, 'sign-in-desktop');
    await page.fill('input[name=email]', 'pat@blog.example');
    await page.fill('input[name=password]', 'not the password');
    await page.click('button[type=submit]');
    expect(await shown(page, '.notice.error')).toBe('Wrong email or password.');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${seeded.origin}/portal`);
    // A stale form: its CSRF token no longer matches.
    await page.goto(`${seeded.origin}/portal/account`);
    await page.evaluate(
      'document.querySelector("form[action=\\"/portal/account/password\\"] input[name=_csrf]").value = "stale"',
    );
    await page.fill('input[name=current]', PASSWORD);
    await page.fill('form[action="/portal/account/password"] input[name=password]', 'a new password here');
    await page.fill('input[name=confirm]', 'a new password here');
    await page.click('form[action="/portal/account/password"] button');
    expect(await shown(page, '.notice.error')).toContain('nothing was changed');
    expect(await page.locator('input[name=password]').count()).toBe(1);
    // Expired (here: deleted) session cookie: the next page is the sign-in page.
    await context.clearCookies();
    await page.goto(`${seeded.origin}/portal/reports`);
    expect(await shown(page, 'h2')).toBe('Sign in');
    await context.close();
  });
  it('an operator disables and re-enables a person, makes a reset link, and turns on two-step sign-in', async () => {
    const context = await personContext();
    const page = await context.newPage();
    await page.goto(`${seeded.origin}/portal/login`);
    await page.fill('input[name=email]', 'olga@network.example');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${seeded.origin}/portal`);
    await page.goto(`${seeded.origin}/portal/people`);
    const href = (await page.locator('#people a', { hasText: 'pat@blog.example' }).getAttribute('href')) as string;
    await visit(page, href, 'operator-person', async () => {
      expect(await shown(page, '#person-status')).toBe('active');
    });
    await page.click(`form[action="${href}/status"] button`);
    expect(await shown(page, '#person-status')).toBe('disabled');
    await page.click(`form[action="${href}/status"] button`);
    expect(await shown(page, '#person-status')).toBe('active');
    await page.click(`form[action="${href}/reset"] button`);
    expect(await shown(page, '#reset-url')).toMatch(/\/portal\/reset\?token=/);

    await visit(page, '/portal/account/totp', 'account-totp', async () => {
      expect(await shown(page, '#totp-uri')).toMatch(/^otpauth:\/\/totp\//);
    });
    const secret = await shown(page, '#totp-secret');
    await page.fill('input[name=code]', totpAt(fromBase32(secret) as Uint8Array, Date.now()));
    await page.click('form[action="/portal/account/totp"] button');
    expect((await shown(page, '#recovery-codes')).trim().split('\n')).toHaveLength(10);
    expect(await shown(page, '#totp-state')).toContain('on');
    await context.close();
  });
});
