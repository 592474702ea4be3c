// What a click records: bot/preview flag, HEAD, unique-visitor flag, device class, search engine
// and phrase, geo from request.cf, and the IP only as a network prefix.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickRow, clicksOfOffer, createFixture, eventually, type Fixture, worker } from '../helpers';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

/** Follows a link with exactly these headers (no default user agent) and waits for its row. */
async function clickAndRow(f: Fixture, headers: Record<string, string>, init: RequestInit = {}) {
  const response = await worker(`/c/${f.offerId}/${f.publisherId}`, { headers, ...init });
  expect(response.status).toBe(302);
  const clickId = new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
  return eventually(() => clickRow(clickId));
}

async function rowsOf(f: Fixture) {
  return clicksOfOffer(f.offerId);
}

async function stats(f: Fixture) {
  return env.DB.prepare(
    'SELECT SUM(clicks) AS clicks, SUM(unique_clicks) AS unique_clicks, SUM(bot_clicks) AS bot_clicks FROM daily_click_stats WHERE offer_id = ? AND publisher_id = ?',
  )
    .bind(f.offerId, f.publisherId)
    .first<{ clicks: number; unique_clicks: number; bot_clicks: number }>();
}

describe('bots and link previews', () => {
  it.each([
    ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)'],
    ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'],
    ['Twitterbot/1.0'],
    ['WhatsApp/2.23.20.0'],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
  ])('redirects %s but stores the click flagged as a bot and never unique', async (ua) => {
    const f = await createFixture();
    const row = await clickAndRow(f, { 'user-agent': ua, 'cf-connecting-ip': '198.51.100.10' });
    expect(row).toMatchObject({ is_bot: 1, is_unique: 0, device: 'bot', user_agent: ua });
  });

  it('treats a request without a user agent as a bot', async () => {
    const f = await createFixture();
    const row = await clickAndRow(f, { 'cf-connecting-ip': '198.51.100.11' });
    expect(row).toMatchObject({ is_bot: 1, is_unique: 0, device: 'unknown', user_agent: null });
  });

  it('does not let a bot click use up the visitor’s unique click', async () => {
    const f = await createFixture();
    const bot = await clickAndRow(f, { 'user-agent': 'Twitterbot/1.0', 'cf-connecting-ip': '198.51.100.12' });
    const person = await clickAndRow(f, { 'user-agent': CHROME, 'cf-connecting-ip': '198.51.100.12' });
    expect(bot.is_unique).toBe(0);
    expect(person.is_unique).toBe(1);
  });

  it('counts bots apart in the daily rollup', async () => {
    const f = await createFixture();
    await clickAndRow(f, { 'user-agent': 'Twitterbot/1.0' });
    await clickAndRow(f, { 'user-agent': CHROME, 'cf-connecting-ip': '198.51.100.13' });
    await eventually(async () => ((await stats(f))?.clicks === 1 && (await stats(f))?.bot_clicks === 1 ? true : null));
    expect(await stats(f)).toEqual({ clicks: 1, unique_clicks: 1, bot_clicks: 1 });
  });
});

describe('HEAD', () => {
  it('answers 302 to the landing URL with no-store, and records no click', async () => {
    const f = await createFixture();
    const head = await worker(`/c/${f.offerId}/${f.publisherId}`, {
      method: 'HEAD',
      headers: { 'user-agent': CHROME },
    });
    expect(head.status).toBe(302);
    expect(head.headers.get('cache-control')).toBe('no-store');
    const headClickId = new URL(head.headers.get('location') ?? '').searchParams.get('click_id');
    expect(headClickId).toMatch(/^[A-Za-z0-9_-]{48}$/);
    // A GET afterwards lands; once it has, the HEAD would have landed too.
    await clickAndRow(f, { 'user-agent': CHROME });
    expect(await clickRow(headClickId ?? '')).toBeNull();
    expect(await rowsOf(f)).toHaveLength(1);
  });
});

describe('unique clicks', () => {
  it('marks the first click of a visitor unique and a repeat (same IP and user agent) not', async () => {
    const f = await createFixture();
    const visitor = { 'user-agent': CHROME, 'cf-connecting-ip': '203.0.113.50' };
    const first = await clickAndRow(f, visitor);
    const second = await clickAndRow(f, visitor);
    expect(first.is_unique).toBe(1);
    expect(second.is_unique).toBe(0);
    expect(second.visitor_hash).toBe(first.visitor_hash);
  });

  it('marks only the first of concurrent repeats unique, even when they arrive in one queue batch', async () => {
    const f = await createFixture();
    const visitor = { 'user-agent': CHROME, 'cf-connecting-ip': '203.0.113.51' };
    const responses = await Promise.all(
      [1, 2, 3].map(() => worker(`/c/${f.offerId}/${f.publisherId}`, { headers: visitor })),
    );
    const ids = responses.map((r) => new URL(r.headers.get('location') ?? '').searchParams.get('click_id') ?? '');
    const rows = await Promise.all(ids.map((id) => eventually(() => clickRow(id))));
    expect(rows.map((r) => r.is_unique).sort()).toEqual([0, 0, 1]);
  });

  it('treats another IP, or another user agent, as another visitor', async () => {
    const f = await createFixture();
    const a = await clickAndRow(f, { 'user-agent': CHROME, 'cf-connecting-ip': '203.0.113.60' });
    const b = await clickAndRow(f, { 'user-agent': CHROME, 'cf-connecting-ip': '203.0.113.61' });
    const c = await clickAndRow(f, { 'user-agent': `${CHROME} Edg/130.0`, 'cf-connecting-ip': '203.0.113.60' });
    expect([a.is_unique, b.is_unique, c.is_unique]).toEqual([1, 1, 1]);
    expect(new Set([a.visitor_hash, b.visitor_hash, c.visitor_hash]).size).toBe(3);
  });

  it('counts unique clicks per offer and publisher', async () => {
    const f = await createFixture();
    const g = await createFixture();
    const visitor = { 'user-agent': CHROME, 'cf-connecting-ip': '203.0.113.70' };
    const onF = await clickAndRow(f, visitor);
    const onG = await clickAndRow(g, visitor);
    expect([onF.is_unique, onG.is_unique]).toEqual([1, 1]);
  });

  it('rolls clicks and unique clicks up per day, offer and publisher', async () => {
    const f = await createFixture();
    const visitor = { 'user-agent': CHROME, 'cf-connecting-ip': '203.0.113.80' };
    await clickAndRow(f, visitor);
    await clickAndRow(f, visitor);
    await clickAndRow(f, { ...visitor, 'cf-connecting-ip': '203.0.113.81' });
    await eventually(async () => ((await stats(f))?.clicks === 3 ? true : null));
    expect(await stats(f)).toEqual({ clicks: 3, unique_clicks: 2, bot_clicks: 0 });
  });
});

describe('device class', () => {
  it.each([
    [CHROME, 'desktop'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
      'mobile',
    ],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36', 'mobile'],
    ['Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148', 'tablet'],
  ])('stores %s as %s', async (ua, device) => {
    const f = await createFixture();
    expect((await clickAndRow(f, { 'user-agent': ua })).device).toBe(device);
  });
});

describe('referrer, search engine and phrase', () => {
  it.each([
    ['https://www.google.com/search?q=running+shoes', 'Google', 'running shoes'],
    ['https://www.bing.com/search?q=red%20dress&form=QBLH', 'Bing', 'red dress'],
    ['https://search.yahoo.com/search?p=cheap+flights', 'Yahoo', 'cheap flights'],
    ['https://duckduckgo.com/?q=privacy+browser', 'DuckDuckGo', 'privacy browser'],
    ['https://yandex.ru/search/?text=%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C', 'Yandex', 'купить'],
    ['https://www.baidu.com/s?wd=%E6%89%8B%E6%9C%BA', 'Baidu', '手机'],
    ['https://www.google.de/', 'Google', null],
    ['https://blog.example/post?q=shoes', null, null],
  ])('reads %s as %s / %s', async (referrer, engine, phrase) => {
    const f = await createFixture();
    const row = await clickAndRow(f, { 'user-agent': CHROME, referer: referrer });
    expect(row).toMatchObject({ referrer, search_engine: engine, search_phrase: phrase });
  });

  it('stores no referrer when there is none', async () => {
    const f = await createFixture();
    expect(await clickAndRow(f, { 'user-agent': CHROME })).toMatchObject({
      referrer: null,
      search_engine: null,
      search_phrase: null,
    });
  });
});

describe('geo and network from request.cf', () => {
  it('stores country, region, city, colo and ASN', async () => {
    const f = await createFixture();
    const row = await clickAndRow(f, { 'user-agent': CHROME }, {
      cf: { country: 'DE', region: 'Berlin', city: 'Berlin', colo: 'FRA', asn: 3320 },
    } as RequestInit);
    expect(row).toMatchObject({ country: 'DE', region: 'Berlin', city: 'Berlin', colo: 'FRA', asn: 3320 });
  });
});

describe('IP privacy', () => {
  it.each([
    ['198.51.100.23', '198.51.100.0/24'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::/48'],
  ])('stores %s only as the prefix %s and never the address itself', async (ip, prefix) => {
    const f = await createFixture();
    const row = await clickAndRow(f, { 'user-agent': CHROME, 'cf-connecting-ip': ip });
    expect(row.ip_prefix).toBe(prefix);
    expect(row.visitor_hash).not.toBe(ip);
    expect(row.visitor_hash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const [column, value] of Object.entries(row)) {
      if (typeof value === 'string') expect(value.includes(ip), `column ${column}`).toBe(false);
    }
    // Nor in any other stored click of the offer.
    const dump = JSON.stringify(await clicksOfOffer(row.offer_id as number));
    expect(dump.includes(ip)).toBe(false);
  });

  it('makes the visitor hash a keyed hash, not a plain digest of IP and user agent', async () => {
    const f = await createFixture();
    const ip = '198.51.100.99';
    const row = await clickAndRow(f, { 'user-agent': CHROME, 'cf-connecting-ip': ip });
    const plain = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${ip}\n${CHROME}`)));
    const plainB64 = btoa(String.fromCharCode(...plain.subarray(0, 16)))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    expect(row.visitor_hash).not.toBe(plainB64);
  });
});
