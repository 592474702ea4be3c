// GET /dashboard through the Worker: HTTP Basic sign-in with the admin token, the numbers of a
// known day of clicks and conversions (counts, money to the cent, per currency), the 30-day chart,
// the newest conversions with their delivery state, escaping of hostile names and order IDs,
// the security headers, and query plans that never touch raw clicks.
// D1 is per test FILE and the tests below build on each other in order: the first describe
// block seeds the only traffic of the day before any other block adds conversions.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { DASHBOARD_STYLESHEET } from '../../src/dashboard';
import { niceCeiling } from '../../src/dashboard/chart';
import { DASHBOARD_SQL, type DashboardData } from '../../src/dashboard/data';
import { escapeHtml, html } from '../../src/dashboard/html';
import { groupDigits, renderDashboard } from '../../src/dashboard/render';
import {
  adminOk,
  click,
  clicksOfOffer,
  createFixture,
  eventually,
  type Fixture,
  RECEIVER,
  uniqueKey,
  worker,
} from '../helpers';
import { createPublisher, getPostback, mintClick, postJson } from '../postback-helpers';

const TOKEN = 'test-admin-token';
const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;
const SIGNED_IN = { authorization: basic('operator', TOKEN) };

async function dashboard(headers: Record<string, string> = SIGNED_IN, path = '/dashboard') {
  const response = await worker(path, { headers });
  return { response, body: await response.text() };
}

interface Found {
  text: string;
  attrs: Record<string, string>;
}

/** Elements matching a CSS selector, with their text (raw, entities kept) and attributes. */
async function select(page: string, selector: string): Promise<Found[]> {
  const found: Found[] = [];
  let current: Found | undefined;
  await new HTMLRewriter()
    .on(selector, {
      element(element) {
        current = { text: '', attrs: Object.fromEntries(element.attributes) };
        found.push(current);
      },
      text(chunk) {
        if (current) current.text += chunk.text;
      },
    })
    .transform(new Response(page))
    .text();
  return found;
}

async function textOf(page: string, selector: string): Promise<string> {
  const found = await select(page, selector);
  expect(found, selector).toHaveLength(1);
  return (found[0] as Found).text.trim();
}

const visitor = (ip: string) => ({
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0',
  'cf-connecting-ip': ip,
});

async function clickCount(offerId: number) {
  return (await clicksOfOffer(offerId)).length;
}

async function deliveryStatuses(conversionId: string) {
  const { results } = await env.DB.prepare('SELECT status FROM deliveries WHERE conversion_id = ? ORDER BY status')
    .bind(conversionId)
    .all<{ status: string }>();
  return results.map((r) => r.status);
}

describe('signing in', () => {
  it('refuses a request without credentials with a Basic challenge, as JSON or as a page', async () => {
    const json = await dashboard({});
    expect(json.response.status).toBe(401);
    expect(json.response.headers.get('www-authenticate')).toBe('Basic realm="Clickhop", charset="UTF-8"');
    expect(JSON.parse(json.body)).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });

    const page = await dashboard({ accept: 'text/html,application/xhtml+xml' });
    expect(page.response.status).toBe(401);
    expect(page.response.headers.get('www-authenticate')).toBe('Basic realm="Clickhop", charset="UTF-8"');
    expect(page.response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('Sign in required');
    expect(page.body).not.toContain('Clickhop dashboard');
  });

  it('refuses a wrong password, malformed credentials, and a token put in the URL', async () => {
    const refused = [
      { authorization: basic('operator', 'wrong-token') },
      { authorization: basic('operator', `${TOKEN}x`) },
      { authorization: basic(TOKEN, '') }, // the token as user name is not the password
      { authorization: `Basic ${btoa(TOKEN)}` }, // no colon
      { authorization: 'Basic !!!not-base64!!!' },
      { authorization: `Digest ${TOKEN}` },
      { authorization: 'Bearer wrong-token' },
    ];
    for (const headers of refused) {
      const { response } = await dashboard(headers);
      expect(response.status, headers.authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="Clickhop"/);
    }
    for (const path of [`/dashboard?token=${TOKEN}`, `/dashboard?password=${TOKEN}`, `/dashboard?key=${TOKEN}`]) {
      expect((await dashboard({}, path)).response.status, path).toBe(401);
    }
  });

  it('accepts any user name with the admin token as the password, and the admin Bearer header', async () => {
    for (const headers of [
      SIGNED_IN,
      { authorization: basic('', TOKEN) },
      { authorization: `basic ${btoa(`someone:${TOKEN}`)}` },
      { authorization: `Bearer ${TOKEN}` },
    ]) {
      const { response, body } = await dashboard(headers);
      expect(response.status, headers.authorization).toBe(200);
      expect(body).toContain('<title>Clickhop dashboard</title>');
    }
  });

  it('answers 503 when no admin token is configured, whatever the credentials', async () => {
    const unconfigured = { ...env, ADMIN_TOKEN: '' };
    for (const headers of [{}, { authorization: basic('operator', '') }] as Record<string, string>[]) {
      const response = await app.request('/dashboard', { headers }, unconfigured);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: { code: 'not_configured', message: expect.any(String) } });
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('sends no-store, a Content-Security-Policy that allows only its own stylesheet, and no framing', async () => {
    for (const headers of [SIGNED_IN, {}]) {
      const { response } = await dashboard(headers);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("base-uri 'none'");
      // Forms may only reload the page itself (the overview's date range is a GET form).
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|script-src|https?:/);
    }
    const { response, body } = await dashboard();
    expect(response.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    // The one <style> element is exactly the stylesheet the policy's hash names.
    const styles = await select(body, 'style');
    expect(styles.map((s) => s.text)).toEqual([DASHBOARD_STYLESHEET]);
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(DASHBOARD_STYLESHEET)),
    );
    const hash = btoa(String.fromCharCode(...digest));
    expect(response.headers.get('content-security-policy')).toContain(`style-src 'sha256-${hash}'`);
    expect(body).not.toMatch(/<script|<link|<img|<iframe|\sstyle=|\son[a-z]+=/i);
  });
});

describe('a day of traffic', () => {
  let eur: Fixture;
  let jpy: Fixture;
  let secondPublisher: number;
  let page: string;
  const ids: Record<'lead' | 'sale' | 'rejected' | 'yen', string> = { lead: '', sale: '', rejected: '', yen: '' };

  beforeAll(async () => {
    eur = await createFixture({ name: 'Summer sale' });
    jpy = await createFixture({
      name: 'Tokyo trip',
      currency: 'JPY',
      goals: [{ key: 'lead', revenue: '500', payout: '200' }],
    });
    secondPublisher = await createPublisher('Coupon site');

    // Publisher 1 has three servers: one accepts, one is busy for an hour, one is gone (410).
    for (const path of [
      `${uniqueKey('dash-ok')}/hook`,
      `${uniqueKey('dash-busy')}/hook?status=503&retry_after=3600`,
      `${uniqueKey('dash-gone')}/hook?status=410`,
    ]) {
      await adminOk('POST', '/endpoints', {
        publisher_id: eur.publisherId,
        url: `${RECEIVER}/${path}`,
        method: 'POST',
        format: 'json',
        events: ['conversion.created'],
      });
    }

    // 3 clicks on publisher 1 from 2 visitors, 1 on publisher 2 (unique there), 1 preview bot.
    const onSecond = { ...eur, publisherId: secondPublisher };
    const first = await click(eur, '', visitor('198.51.100.7'));
    await click(eur, '', visitor('198.51.100.7'));
    await click(eur, '', visitor('198.51.100.8'));
    const second = await click(onSecond, '', visitor('198.51.100.7'));
    await click(eur, '', { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' });
    await eventually(async () => ((await clickCount(eur.offerId)) === 5 ? true : null));

    const key = eur.postbackKey;
    const lead = await getPostback('/postback', { click_id: first, event: 'lead', order_id: 'ORD-A', key });
    const sale = await postJson('/postback', {
      click_id: second,
      event: 'sale',
      order_id: 'ORD-B',
      amount: '26.09',
      status: 'approved',
      key,
    });
    const rejected = await postJson('/postback', {
      click_id: second,
      event: 'sale',
      order_id: 'ORD-C',
      amount: '100.00',
      status: 'rejected',
      key,
    });
    const yen = await getPostback('/postback', {
      click_id: await mintClick(jpy),
      order_id: 'JP-1',
      key: jpy.postbackKey,
    });
    for (const answer of [lead, sale, rejected, yen]) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    ids.lead = lead.body.conversion_id;
    ids.sale = sale.body.conversion_id;
    ids.rejected = rejected.body.conversion_id;
    ids.yen = yen.body.conversion_id;

    await eventually(async () => {
      const statuses = await deliveryStatuses(ids.lead);
      return statuses.join() === 'dead,delivered,retrying' ? statuses : null;
    });
    const { response, body } = await dashboard();
    expect(response.status).toBe(200);
    page = body;
  });

  it("shows today's clicks, unique clicks and counted conversions from the rollups", async () => {
    const today = new Date().toISOString().slice(0, 10);
    expect(await textOf(page, '#today-title')).toContain(today);
    expect(await textOf(page, '#today-clicks')).toBe('4');
    expect(await textOf(page, '#today-unique-clicks')).toBe('3');
    expect(page).toContain('1 bot click not counted');
    expect(await textOf(page, '#today-conversions')).toBe('3');
    expect(await textOf(page, '#today-conversion-statuses')).toBe('2 pending · 1 approved · 1 rejected · 0 reversed');
  });

  it("shows today's revenue and payout per currency to the minor unit, rejected sales excluded", async () => {
    const rows = await select(page, '#today-money tbody tr');
    expect(rows.map((r) => r.attrs['data-currency'])).toEqual(['EUR', 'JPY']);
    // EUR: lead 5.00/2.00 + sale of 26.09 at 10%/5% (2.609 -> 2.61, 1.3045 -> 1.30); the rejected 100.00 sale adds nothing.
    expect(await textOf(page, '#today-money tr[data-currency="EUR"] .conversions')).toBe('2');
    expect(await textOf(page, '#today-money tr[data-currency="EUR"] .revenue')).toBe('7.61 EUR');
    expect(await textOf(page, '#today-money tr[data-currency="EUR"] .payout')).toBe('3.30 EUR');
    expect(await textOf(page, '#today-money tr[data-currency="JPY"] .conversions')).toBe('1');
    expect(await textOf(page, '#today-money tr[data-currency="JPY"] .revenue')).toBe('500 JPY');
    expect(await textOf(page, '#today-money tr[data-currency="JPY"] .payout')).toBe('200 JPY');
  });

  it('charts the last 30 days with one bar per series for today, and lists the same numbers', async () => {
    const rows = await select(page, '#daily-table tbody tr');
    expect(rows).toHaveLength(30);
    const today = new Date().toISOString().slice(0, 10);
    expect(rows[0]?.attrs['data-day']).toBe(today);
    expect(rows.at(-1)?.attrs['data-day']).toBe(new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10));
    const cells = await select(page, `#daily-table tr[data-day="${today}"] td`);
    expect(cells.map((c) => c.text)).toEqual([today, '4', '3']);
    const others = await select(page, `#daily-table tbody tr:not([data-day="${today}"]) td.num`);
    expect(others.map((c) => c.text)).toEqual(Array(58).fill('0'));

    const clickBars = await select(page, 'svg.chart rect.bar-clicks');
    const conversionBars = await select(page, 'svg.chart rect.bar-conversions');
    expect(clickBars.map((b) => b.text)).toEqual([expect.stringMatching(/^[A-Z][a-z]{2} \d{1,2}: 4 clicks$/)]);
    expect(conversionBars.map((b) => b.text)).toEqual([expect.stringMatching(/: 3 conversions$/)]);
    // Today is the last (right-most) of 30 bands of a 1100-wide chart; the scale is 0, 2, 4.
    expect(Number(clickBars[0]?.attrs.x)).toBeGreaterThan(1_000);
    expect(await select(page, 'svg.chart g[data-series="clicks"] text.tick')).toHaveLength(3);
  });

  it('lists the newest conversions first with their offer, publisher, money and delivery state', async () => {
    const { results: order } = await env.DB.prepare(
      'SELECT id FROM conversions ORDER BY created_at DESC, id DESC',
    ).all<{ id: string }>();
    const rows = await select(page, '#recent-conversions tbody tr');
    expect(rows.map((r) => r.attrs['data-conversion-id'])).toEqual(order.map((r) => r.id));
    expect(new Set(order.map((r) => r.id))).toEqual(new Set(Object.values(ids)));

    const cells = async (id: string) =>
      (await select(page, `#recent-conversions tr[data-conversion-id="${id}"] td`)).map((c) =>
        c.text.replace(/\s+/g, ' ').trim(),
      );
    const lead = await cells(ids.lead);
    expect(lead.slice(1)).toEqual([
      `ORD-A${ids.lead}`,
      `Summer saleoffer ${eur.offerId}`,
      `Blogpublisher ${eur.publisherId}`,
      'leadserver',
      'pending',
      '0.00 EUR',
      '5.00 EUR',
      '2.00 EUR',
      '1 delivered1 retrying1 dead',
    ]);
    expect(lead[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect((await cells(ids.sale)).slice(1)).toEqual([
      `ORD-B${ids.sale}`,
      `Summer saleoffer ${eur.offerId}`,
      `Coupon sitepublisher ${secondPublisher}`,
      'saleserver',
      'approved',
      '26.09 EUR',
      '2.61 EUR',
      '1.30 EUR',
      'no endpoint',
    ]);
    expect((await cells(ids.rejected)).slice(5)).toEqual([
      'rejected',
      '100.00 EUR',
      '10.00 EUR',
      '5.00 EUR',
      'no endpoint',
    ]);
    expect((await cells(ids.yen)).slice(2)).toEqual([
      `Tokyo tripoffer ${jpy.offerId}`,
      `Blogpublisher ${jpy.publisherId}`,
      'leadserver',
      'pending',
      '0 JPY',
      '500 JPY',
      '200 JPY',
      'no endpoint',
    ]);
    const states = await select(page, `#recent-conversions tr[data-conversion-id="${ids.lead}"] .dl`);
    expect(states.map((s) => s.attrs.class)).toEqual(['dl dl-delivered', 'dl dl-retrying', 'dl dl-dead']);
  });
});

describe('the operator overview on the dashboard', () => {
  it('shows breakdowns by offer and publisher, conversions awaiting approval and failing deliveries', async () => {
    const { body } = await dashboard();
    expect((await select(body, 'table#by-offer tbody tr[data-key]')).length).toBeGreaterThan(0);
    expect((await select(body, 'table#by-publisher tbody tr[data-key]')).length).toBeGreaterThan(0);
    expect((await select(body, 'table#pending-conversions tbody tr[data-conversion-id]')).length).toBeGreaterThan(0);
    const failing = await select(body, 'table#failing-deliveries tbody tr[data-delivery-id]');
    expect(failing.length).toBeGreaterThanOrEqual(2);
    expect(await select(body, 'form[action="/dashboard"] input[name="from"]')).toHaveLength(1);
  });

  it("links each click's dispute view under the dashboard's own sign-in", async () => {
    const { body } = await dashboard();
    const links = await select(body, 'table#pending-conversions a[href^="/dashboard/clicks/"]');
    expect(links.length).toBeGreaterThan(0);
    const href = (links[0] as Found).attrs.href as string;
    const clickId = decodeURIComponent(href.slice('/dashboard/clicks/'.length));
    const view = await worker(href, { headers: SIGNED_IN });
    const text = await view.text();
    expect(view.status, text).toBe(200);
    expect(text).toContain(clickId);
    expect(view.headers.get('cache-control')).toBe('no-store');
    expect((await worker(href)).status).toBe(401);
  });

  it('takes a date range, and names the field of a bad day', async () => {
    const old = await dashboard(SIGNED_IN, '/dashboard?from=2020-01-01&to=2020-01-02');
    expect(old.response.status).toBe(200);
    expect(await select(old.body, 'table#by-offer tbody tr[data-key]')).toHaveLength(0);
    const bad = await dashboard(SIGNED_IN, '/dashboard?from=2026-13-01');
    expect(bad.response.status).toBe(400);
    expect(bad.body).toContain('from');
  });
});

describe('operator and advertiser input', () => {
  it('escapes hostile offer and publisher names and order IDs', async () => {
    const offerName = '<img src=x onerror=alert(1)>';
    const publisherName = '<script>alert("publisher")</script>';
    const orderId = `"><svg onload=alert(3)>&'`;
    const f = await createFixture({ name: offerName });
    await adminOk('PATCH', `/publishers/${f.publisherId}`, { name: publisherName });
    const res = await getPostback('/postback', { click_id: await mintClick(f), order_id: orderId, key: f.postbackKey });
    expect(res.status).toBe(200);

    const { body } = await dashboard();
    const row = `#recent-conversions tr[data-conversion-id="${res.body.conversion_id}"]`;
    expect(await textOf(body, `${row} .order`)).toBe('&quot;&gt;&lt;svg onload=alert(3)&gt;&amp;&#39;');
    expect(body).toContain(`${escapeHtml(offerName)}<span class="id">offer ${f.offerId}</span>`);
    expect(body).toContain(`${escapeHtml(publisherName)}<span class="id">publisher ${f.publisherId}</span>`);
    expect(body).toContain('&lt;script&gt;alert(&quot;publisher&quot;)&lt;/script&gt;');
    expect(body).not.toContain('<script');
    expect(body).not.toContain('<img');
    expect(body).not.toContain('<svg onload');
    // The only <svg> is the chart.
    expect(await select(body, 'svg')).toHaveLength(1);
  });

  it('lists only the newest 20 conversions however many there are', async () => {
    const f = await createFixture();
    for (let i = 0; i < 20; i++) {
      const res = await getPostback('/postback', {
        click_id: await mintClick(f),
        order_id: `BULK-${i}`,
        key: f.postbackKey,
      });
      expect(res.status).toBe(200);
    }
    const { results: newest } = await env.DB.prepare(
      'SELECT id FROM conversions ORDER BY created_at DESC, id DESC LIMIT 20',
    ).all<{ id: string }>();
    const { body } = await dashboard();
    const rows = await select(body, '#recent-conversions tbody tr');
    expect(rows.map((r) => r.attrs['data-conversion-id'])).toEqual(newest.map((r) => r.id));
    // The older conversion is out of the recent list (it still awaits approval in the overview).
    const cells = await select(body, '#recent-conversions tbody td');
    expect(cells.map((cell) => cell.text).join(' ')).not.toContain('ORD-A');
    expect(cells.map((cell) => cell.text).join(' ')).toContain('BULK-19');
  });
});

describe('query cost', () => {
  it('reads rollups through their day key and conversions and deliveries through indexes, never raw clicks', async () => {
    const expected: Record<keyof typeof DASHBOARD_SQL, string[]> = {
      clicksByDay: ['SEARCH daily_click_stats USING INDEX'],
      conversionsByDay: ['SEARCH daily_conversion_stats USING INDEX'],
      conversionsToday: ['SEARCH daily_conversion_stats USING INDEX'],
      recentConversions: ['SEARCH c USING INDEX', 'SCAN conversions USING INDEX conversions_time'],
      recentDeliveries: [
        'SEARCH deliveries USING INDEX deliveries_conversion',
        'SCAN conversions USING INDEX conversions_time',
      ],
    };
    for (const [name, sql] of Object.entries(DASHBOARD_SQL) as [keyof typeof DASHBOARD_SQL, string][]) {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...(sql.includes('?1') ? ['2026-10-25', '2026-11-23'] : []))
        .all<{ detail: string }>();
      const plan = results.map((r) => r.detail).join('\n');
      for (const step of expected[name]) expect(plan, name).toContain(step);
      // The chart's reads follow the rollups' day key: their rows come in order, nothing is sorted.
      if (name === 'clicksByDay' || name === 'conversionsByDay') expect(plan, name).not.toContain('TEMP B-TREE');
      // No table is read in full (a SCAN without an index), and raw clicks are never read.
      expect(plan, name).not.toMatch(/^SCAN \w+$/m);
      expect(plan, name).not.toMatch(/\bclicks\b/);
    }
  });
});

describe('rendering', () => {
  const empty = (): DashboardData => ({
    generated_at: '2026-11-23T10:15:00.000Z',
    today: '2026-11-23',
    clicks: { clicks: 0, unique_clicks: 0, bot_clicks: 0 },
    conversions: { pending: 0, approved: 0, rejected: 0, reversed: 0 },
    money: [],
    days: Array.from({ length: 30 }, (_, i) => ({
      day: new Date(Date.UTC(2026, 9, 25 + i)).toISOString().slice(0, 10),
      clicks: 0,
      conversions: 0,
    })),
    recent: [],
  });

  it('renders an empty day without bars and says there is nothing yet', async () => {
    const page = renderDashboard(empty(), 20);
    expect(await select(page, 'rect')).toHaveLength(0);
    expect(page).toContain('No conversions today.');
    expect(page).toContain('No conversions yet.');
    expect(await textOf(page, '#chart-section-title')).toBe('Last 30 days (UTC, Oct 25 to Nov 23)');
  });

  it('shows pending and dead deliveries and groups large numbers exactly', async () => {
    const data = empty();
    data.clicks = { clicks: 1_234_567, unique_clicks: 1_000, bot_clicks: 2 };
    data.money = [{ currency: 'BHD', conversions: 1, revenue: 1_234_567_891n, payout: 5n }];
    data.recent = [
      {
        id: 'cv_x',
        created_at: '2026-11-23T10:00:00.000Z',
        order_id: null,
        status: 'reversed',
        event: 'sale',
        offer_id: 1,
        offer_name: null,
        publisher_id: 2,
        publisher_name: 'P',
        currency: 'USD',
        amount: 100,
        payout_currency: 'EUR',
        revenue: 10,
        payout: 5,
        deliveries: { delivered: 0, retrying: 0, pending: 2, dead: 1 },
      },
    ];
    const page = renderDashboard(data, 20);
    expect(await textOf(page, '#today-clicks')).toBe('1,234,567');
    expect(await textOf(page, '#today-money tr[data-currency="BHD"] .revenue')).toBe('1,234,567.891 BHD');
    expect(await textOf(page, '#today-money tr[data-currency="BHD"] .payout')).toBe('0.005 BHD');
    const deliveries = await select(page, 'tr[data-conversion-id="cv_x"] .dl');
    expect(deliveries.map((d) => d.text)).toEqual(['2 pending', '1 dead']);
    expect(await textOf(page, 'tr[data-conversion-id="cv_x"] .order')).toBe('—');
    expect(page).toContain('Deleted offer');
  });

  it('escapes all five HTML metacharacters and keeps SafeHtml as it is', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"q"'}">${inner}${[1, '<', null, false, undefined]}</p>`.toString()).toBe(
      '<p title="&quot;q&quot;"><b>&lt;i&gt;</b>1&lt;</p>',
    );
  });

  it('groups digits and picks chart scales', () => {
    expect(['0', '999', '1000', '-1234567.5', '12.345'].map(groupDigits)).toEqual([
      '0',
      '999',
      '1,000',
      '-1,234,567.5',
      '12.345',
    ]);
    expect([0, 1, 2, 3, 5, 7, 11, 45, 100, 101, 4_001].map(niceCeiling)).toEqual([
      1, 1, 2, 4, 5, 10, 20, 50, 100, 200, 5_000,
    ]);
  });
});
