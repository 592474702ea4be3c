import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, verifyClickId } from '../../src/click/click-id';
import { matchClickPath } from '../../src/click/route';
import { clickRow, clicksOfOffer, createFixture, eventually, worker } from '../helpers';

describe('GET /c/:offerId/:publisherId', () => {
  it('redirects to the landing URL with the click ID added as click_id, keeping the query', async () => {
    const f = await createFixture();
    const response = await worker(`/c/${f.offerId}/${f.publisherId}?sub1=abc`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('https://shop.example/landing');
    expect(location.searchParams.get('src')).toBe('aff');
    expect(location.searchParams.get('click_id')).toMatch(/^[A-Za-z0-9_-]{48}$/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('lands every answered click as exactly one row with its sub IDs', async () => {
    const f = await createFixture();
    const response = await worker(`/c/${f.offerId}/${f.publisherId}?sub1=a%20b&sub5=z`, {
      headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148' },
    });
    const clickId = new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
    const row = await eventually(() => clickRow(clickId));
    expect(row).toMatchObject({
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      sub1: 'a b',
      sub5: 'z',
      device: 'mobile',
    });
    expect(await clicksOfOffer(f.offerId)).toHaveLength(1);
  });
});

const location = (response: Response) => response.headers.get('location') ?? '';

describe('router bypass for click links', () => {
  const get = (url: string, method = 'GET') => new Request(url, { method });

  it('recognises exactly GET and HEAD /c/{digits}/{digits}, with or without a query', () => {
    expect(matchClickPath(get('https://t.example/c/12/34'))).toEqual(['12', '34']);
    expect(matchClickPath(get('https://t.example/c/12/34?sub1=a/b&url=https://x/y'))).toEqual(['12', '34']);
    expect(matchClickPath(get('https://t.example:8443/c/1/2#top'))).toEqual(['1', '2']);
    expect(matchClickPath(get('https://t.example/c/1/2', 'HEAD'))).toEqual(['1', '2']);
    for (const other of [
      'https://t.example/c/1/2/',
      'https://t.example/c/1',
      'https://t.example/c/1/2/3',
      'https://t.example/c/%31/2',
      'https://t.example/c/a/2',
      'https://t.example/cc/1/2',
      'https://t.example/x/c/1/2',
      'https://t.example/postback?c/1/2',
    ]) {
      expect(matchClickPath(get(other)), other).toBeNull();
    }
    expect(matchClickPath(get('https://t.example/c/1/2', 'POST'))).toBeNull();
  });

  it('answers a link the router handles (percent-encoded id) like the bypass does', async () => {
    const f = await createFixture();
    const encoded = [...String(f.offerId)].map((d) => `%3${d}`).join('');
    const viaRouter = await worker(`/c/${encoded}/${f.publisherId}?sub1=r`);
    expect(viaRouter.status).toBe(302);
    const clickId = new URL(location(viaRouter)).searchParams.get('click_id') ?? '';
    expect(await verifyClickId(await clickIdKeys(env), clickId)).toMatchObject({
      offerId: f.offerId,
      publisherId: f.publisherId,
    });
    expect(viaRouter.headers.get('cache-control')).toBe('no-store');
    expect((await eventually(() => clickRow(clickId))).sub1).toBe('r');
    // Outside the route: the app's JSON 404, not a click.
    expect((await worker(`/c/${f.offerId}/${f.publisherId}/`)).status).toBe(404);
    expect((await worker(`/c/${f.offerId}/${f.publisherId}`, { method: 'POST' })).status).toBe(404);
  });
});

describe('redirect target and encoding', () => {
  it('puts a signed click ID for this offer and publisher in the redirect', async () => {
    const f = await createFixture();
    const before = Date.now();
    const response = await worker(`/c/${f.offerId}/${f.publisherId}`);
    const clickId = new URL(location(response)).searchParams.get('click_id') ?? '';
    const parts = await verifyClickId(await clickIdKeys(env), clickId);
    expect(parts).toMatchObject({ offerId: f.offerId, publisherId: f.publisherId });
    expect(parts?.clickedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(parts?.clickedAt).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('answers 302 with no body, no cookie, Cache-Control: no-store and Referrer-Policy: no-referrer', async () => {
    const f = await createFixture();
    const response = await worker(`/c/${f.offerId}/${f.publisherId}`);
    expect(response.status).toBe(302);
    expect(await response.text()).toBe('');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('uses the offer’s own click parameter name', async () => {
    const f = await createFixture({ click_param: 'aff_click' });
    const url = new URL(location(await worker(`/c/${f.offerId}/${f.publisherId}`)));
    expect(url.searchParams.get('aff_click')).toMatch(/^[A-Za-z0-9_-]{48}$/);
    expect(url.searchParams.has('click_id')).toBe(false);
    expect(url.searchParams.get('src')).toBe('aff');
  });

  it('keeps the landing URL’s query and #fragment, adding the click ID before the fragment', async () => {
    const f = await createFixture({ landing_url: 'https://shop.example/landing?src=aff&lang=de#section-2' });
    const target = location(await worker(`/c/${f.offerId}/${f.publisherId}`));
    expect(target).toMatch(/^https:\/\/shop\.example\/landing\?src=aff&lang=de&click_id=[A-Za-z0-9_-]{48}#section-2$/);
  });

  it('fills a {click_id} macro in place and adds no click parameter', async () => {
    const f = await createFixture({ landing_url: 'https://shop.example/l?ref={click_id}&src=aff#top' });
    const target = location(await worker(`/c/${f.offerId}/${f.publisherId}`));
    expect(target).toMatch(/^https:\/\/shop\.example\/l\?ref=[A-Za-z0-9_-]{48}&src=aff#top$/);
  });

  it('fills {offer_id}, {publisher_id} and {sub1}..{sub5}, URL-encoding & = # space and unicode', async () => {
    const f = await createFixture({
      landing_url:
        'https://shop.example/o/{offer_id}?cid={click_id}&pub={publisher_id}&a={sub1}&b={sub2}&c={sub3}&d={sub4}&e={sub5}',
    });
    const subs = { sub1: 'a&b=c', sub2: 'x#y', sub3: 'two words', sub4: 'café ✓ 日本', sub5: '100%+"<>' };
    const query = new URLSearchParams(subs).toString();
    const target = location(await worker(`/c/${f.offerId}/${f.publisherId}?${query}`));
    expect(target).toContain(`/o/${f.offerId}?cid=`);
    expect(target).toContain(`&pub=${f.publisherId}&`);
    expect(target).toContain(
      '&a=a%26b%3Dc&b=x%23y&c=two%20words&d=caf%C3%A9%20%E2%9C%93%20%E6%97%A5%E6%9C%AC&e=100%25%2B%22%3C%3E',
    );
    const url = new URL(target);
    expect(url.hash).toBe('');
    expect(Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((k) => [k, url.searchParams.get(k)]))).toEqual({
      a: subs.sub1,
      b: subs.sub2,
      c: subs.sub3,
      d: subs.sub4,
      e: subs.sub5,
    });
  });

  it('fills missing sub IDs with an empty value', async () => {
    const f = await createFixture({ landing_url: 'https://shop.example/l?cid={click_id}&s1={sub1}&s2={sub2}' });
    const target = location(await worker(`/c/${f.offerId}/${f.publisherId}?sub1=`));
    expect(target).toMatch(/&s1=&s2=$/);
  });

  it('sends an ASCII-only Location even when the landing URL has non-ASCII characters', async () => {
    const f = await createFixture({ landing_url: 'https://shop.example/ページ?x={click_id}&q=äö' });
    const target = location(await worker(`/c/${f.offerId}/${f.publisherId}`));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for ASCII only
    expect(target).toMatch(/^[\u0000-\u007f]+$/);
    const url = new URL(target);
    expect(decodeURIComponent(url.pathname)).toBe('/ページ');
    expect(url.searchParams.get('q')).toBe('äö');
    expect(url.searchParams.get('x')).toMatch(/^[A-Za-z0-9_-]{48}$/);
  });
});

describe('deep links (?url=)', () => {
  const hosts = { deep_link_hosts: ['shop.example', '*.brand.example'] };

  it('redirects to an allowed deep link with the click ID, keeping its query and fragment', async () => {
    const f = await createFixture(hosts);
    const deep = 'https://shop.example/p/42?color=red#reviews';
    const target = location(await worker(`/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent(deep)}`));
    expect(target).toMatch(/^https:\/\/shop\.example\/p\/42\?color=red&click_id=[A-Za-z0-9_-]{48}#reviews$/);
  });

  it('allows a wildcard subdomain and an upper-case scheme and host', async () => {
    const f = await createFixture(hosts);
    for (const deep of ['https://www.brand.example/x', 'HTTPS://SHOP.EXAMPLE/x']) {
      const response = await worker(`/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent(deep)}`);
      expect(response.status).toBe(302);
      expect(new URL(location(response)).pathname).toBe('/x');
    }
  });

  it('records the deep link with the click', async () => {
    const f = await createFixture(hosts);
    const deep = 'https://shop.example/p/7';
    const target = location(
      await worker(`/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent(deep)}`, {
        headers: { 'user-agent': 'Mozilla/5.0 Chrome/130' },
      }),
    );
    const row = await eventually(() => clickRow(new URL(target).searchParams.get('click_id') ?? ''));
    expect(row.deep_link).toBe(deep);
  });

  it.each([
    '//evil.com',
    'https://evil.com',
    'https://shop.example.evil.com',
    'https://shop.example@evil.com',
    'https://evil.com\\@shop.example',
    'https:\\\\evil.com',
    '/\\evil.com',
    'javascript:alert(document.cookie)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'https://shop.example:8443/x',
    'https://shop.exa\tmple/x',
    'https://shop.example\n.evil.com/',
    'https://shop.example%2eevil.com/',
    'https://evil.com%2f%2fshop.example/',
    'https://brand.example.evil.com/',
    'ftp://shop.example/',
  ])('refuses %j with a 400 JSON error naming url, never a redirect', async (deep) => {
    const f = await createFixture(hosts);
    const response = await worker(`/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent(deep)}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as {
      error: { code: string; message: string; fields: Record<string, string> };
    };
    expect(body.error.code).toBe('invalid_deep_link');
    expect(Object.keys(body.error.fields)).toEqual(['url']);
  });

  it('refuses a deep link raw in the query (not encoded) too', async () => {
    const f = await createFixture(hosts);
    const response = await worker(`/c/${f.offerId}/${f.publisherId}?url=//evil.com`);
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('answers a refused deep link with an HTML page to a browser', async () => {
    const f = await createFixture(hosts);
    const response = await worker(`/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent('https://evil.com/')}`, {
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses every deep link when the offer has no allow-list', async () => {
    const f = await createFixture();
    const response = await worker(
      `/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent('https://shop.example/')}`,
    );
    expect(response.status).toBe(400);
  });

  it('records no click for a refused deep link', async () => {
    const f = await createFixture(hosts);
    await worker(`/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent('https://evil.com/')}`, {
      headers: { 'user-agent': 'Mozilla/5.0 Chrome/130' },
    });
    // A later good click is the marker that the queue has been drained up to here.
    const marker = location(
      await worker(`/c/${f.offerId}/${f.publisherId}`, { headers: { 'user-agent': 'Mozilla/5.0 Chrome/130' } }),
    );
    await eventually(() => clickRow(new URL(marker).searchParams.get('click_id') ?? ''));
    expect(await clicksOfOffer(f.offerId)).toHaveLength(1);
  });
});
