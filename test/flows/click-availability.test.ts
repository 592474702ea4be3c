// Unknown, paused and malformed links get clear answers (404 / 400, JSON or HTML, or the offer's
// fallback URL), never a 500; a pause made through the admin API applies to the next click.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clearIsolateCache, isolateCacheSize } from '../../src/click/config';
import { copyOfferRow } from '../fixtures';
import { adminOk, createFixture, eventually, type Fixture, worker } from '../helpers';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0';
const link = (f: Fixture, query = '') => `/c/${f.offerId}/${f.publisherId}${query}`;

interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

async function expectJsonError(response: Response, status: number, code: string, field: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('location')).toBeNull();
  const body = (await response.json()) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(Object.keys(body.error.fields ?? {})).toEqual([field]);
}

describe('unknown offer or publisher', () => {
  it('answers 404 JSON naming offer_id for an offer that does not exist', async () => {
    const f = await createFixture();
    await expectJsonError(await worker(`/c/999999/${f.publisherId}`), 404, 'offer_not_found', 'offer_id');
  });

  it('answers 404 JSON naming publisher_id for a publisher that does not exist', async () => {
    const f = await createFixture();
    await expectJsonError(await worker(`/c/${f.offerId}/999999`), 404, 'publisher_not_found', 'publisher_id');
  });

  it('answers a browser with an HTML page, not cached', async () => {
    const f = await createFixture();
    const response = await worker(`/c/999999/${f.publisherId}`, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toContain('This link is not available');
  });

  it.each([
    'abc',
    '0',
    '-1',
    '1.5',
    '01',
    '1e3',
    '%20',
    '0x10',
    '4294967296',
    '99999999999999999999999999',
    '4294967295',
  ])('answers 404, never 500, for the offer id %j', async (id) => {
    const f = await createFixture();
    await expectJsonError(await worker(`/c/${id}/${f.publisherId}`), 404, 'offer_not_found', 'offer_id');
  });

  it.each(['abc', '0', '4294967296', '1;DROP TABLE clicks'])('answers 404 for the publisher id %j', async (id) => {
    const f = await createFixture();
    await expectJsonError(
      await worker(`/c/${f.offerId}/${encodeURIComponent(id)}`),
      404,
      'publisher_not_found',
      'publisher_id',
    );
  });

  it('starts redirecting as soon as an offer is created for an id that was unknown (negative cache replaced)', async () => {
    const f = await createFixture();
    const next = await env.DB.prepare('SELECT MAX(id) + 1 AS id FROM offers').first<{ id: number }>();
    const nextId = next?.id ?? 0;
    expect((await worker(`/c/${nextId}/${f.publisherId}`)).status).toBe(404);
    const created = await adminOk<{ id: number }>('POST', '/offers', {
      advertiser_id: f.advertiserId,
      name: 'Late offer',
      landing_url: 'https://shop.example/late',
      currency: 'EUR',
      goals: [{ key: 'lead', payout: '1.00' }],
    });
    expect(created.id).toBe(nextId);
    expect((await worker(`/c/${nextId}/${f.publisherId}`)).status).toBe(302);
  });
});

describe('paused and archived', () => {
  it('answers 404 for an offer created paused', async () => {
    const f = await createFixture({ status: 'paused' });
    await expectJsonError(await worker(link(f)), 404, 'offer_not_found', 'offer_id');
  });

  it('stops and restarts an offer on the next click after an admin PATCH of its status', async () => {
    const f = await createFixture();
    expect((await worker(link(f))).status).toBe(302);
    await adminOk('PATCH', `/offers/${f.offerId}`, { status: 'paused' });
    await expectJsonError(await worker(link(f)), 404, 'offer_not_found', 'offer_id');
    await adminOk('PATCH', `/offers/${f.offerId}`, { status: 'active' });
    expect((await worker(link(f))).status).toBe(302);
    await adminOk('PATCH', `/offers/${f.offerId}`, { status: 'archived' });
    expect((await worker(link(f))).status).toBe(404);
  });

  it('stops and restarts a publisher on the next click', async () => {
    const f = await createFixture();
    expect((await worker(link(f))).status).toBe(302);
    await adminOk('PATCH', `/publishers/${f.publisherId}`, { status: 'paused' });
    await expectJsonError(await worker(link(f)), 404, 'publisher_not_found', 'publisher_id');
    await adminOk('PATCH', `/publishers/${f.publisherId}`, { status: 'active' });
    expect((await worker(link(f))).status).toBe(302);
  });

  it('stops every offer of a paused advertiser, and restarts them with it', async () => {
    const f = await createFixture();
    const second = await adminOk<{ id: number }>('POST', '/offers', {
      advertiser_id: f.advertiserId,
      name: 'Second offer',
      landing_url: 'https://shop.example/second',
      currency: 'EUR',
      goals: [{ key: 'lead', payout: '1.00' }],
    });
    const other = await createFixture();
    expect((await worker(link(f))).status).toBe(302);
    await adminOk('PATCH', `/advertisers/${f.advertiserId}`, { status: 'paused' });
    await expectJsonError(await worker(link(f)), 404, 'offer_not_found', 'offer_id');
    expect((await worker(`/c/${second.id}/${f.publisherId}`)).status).toBe(404);
    // Another advertiser's offer is untouched.
    expect((await worker(link(other))).status).toBe(302);
    await adminOk('PATCH', `/advertisers/${f.advertiserId}`, { status: 'active' });
    expect((await worker(link(f))).status).toBe(302);
    expect((await worker(`/c/${second.id}/${f.publisherId}`)).status).toBe(302);
  });

  it('applies a pause even when the isolate cache and KV were filled before it', async () => {
    const f = await createFixture();
    // Warm both caches with the active config.
    for (let i = 0; i < 3; i++) expect((await worker(link(f))).status).toBe(302);
    await adminOk('PATCH', `/offers/${f.offerId}`, { status: 'paused' });
    for (let i = 0; i < 3; i++) expect((await worker(link(f))).status).toBe(404);
  });
});

describe('other config changes', () => {
  it('sends the next click to a landing URL changed through the API', async () => {
    const f = await createFixture();
    await worker(link(f));
    await adminOk('PATCH', `/offers/${f.offerId}`, {
      landing_url: 'https://shop.example/new?ref={click_id}',
      deep_link_hosts: ['shop.example'],
    });
    expect((await worker(link(f))).headers.get('location')).toMatch(
      /^https:\/\/shop\.example\/new\?ref=[A-Za-z0-9_-]{48}$/,
    );
    const deep = await worker(link(f, `?url=${encodeURIComponent('https://shop.example/p')}`));
    expect(deep.status).toBe(302);
  });
});

describe('config caches', () => {
  it('publishes admin changes to KV, so an isolate with an empty cache sees them too', async () => {
    const f = await createFixture();
    expect(await env.CONFIG.get(`cfg:v1:offer:${f.offerId}`, 'json')).toMatchObject({ id: f.offerId, active: true });
    expect(await env.CONFIG.get(`cfg:v1:publisher:${f.publisherId}`, 'json')).toMatchObject({ active: true });
    await adminOk('PATCH', `/offers/${f.offerId}`, { status: 'paused' });
    expect(await env.CONFIG.get(`cfg:v1:offer:${f.offerId}`, 'json')).toMatchObject({ active: false });
    clearIsolateCache();
    expect((await worker(link(f))).status).toBe(404);
    expect(isolateCacheSize()).toBeGreaterThan(0);
    await adminOk('PATCH', `/offers/${f.offerId}`, { status: 'active' });
    clearIsolateCache();
    expect((await worker(link(f))).status).toBe(302);
  });

  it('reads D1 when neither cache has an entry, and fills KV', async () => {
    const f = await createFixture();
    await env.CONFIG.delete(`cfg:v1:offer:${f.offerId}`);
    await env.CONFIG.delete(`cfg:v1:publisher:${f.publisherId}`);
    clearIsolateCache();
    expect((await worker(link(f))).status).toBe(302);
    await eventually(() => env.CONFIG.get(`cfg:v1:offer:${f.offerId}`));
    expect(await env.CONFIG.get(`cfg:v1:offer:${f.offerId}`, 'json')).toMatchObject({ id: f.offerId, active: true });
  });

  it('remembers unknown ids in the isolate only: no KV write, no second D1 read', async () => {
    const f = await createFixture();
    clearIsolateCache();
    expect((await worker(`/c/888888/${f.publisherId}`)).status).toBe(404);
    // The id appears in D1 behind the caches' back (no admin publish): the isolate still
    // answers from its memory of the miss, so it did not read D1 again.
    await copyOfferRow(f.offerId, 888888);
    expect((await worker(`/c/888888/${f.publisherId}`)).status).toBe(404);
    expect(await env.CONFIG.get('cfg:v1:offer:888888')).toBeNull();
    // Once the isolate forgets (TTL), the offer is read from D1 and published to KV.
    clearIsolateCache();
    expect((await worker(`/c/888888/${f.publisherId}`)).status).toBe(302);
    expect(await eventually(() => env.CONFIG.get('cfg:v1:offer:888888', 'json'))).toMatchObject({ id: 888888 });
  });
});

describe('fallback URL', () => {
  const fallback = { fallback_url: 'https://shop.example/other-offers?from=paused' };

  it('sends visitors of a paused offer to its fallback URL, not cached', async () => {
    const f = await createFixture({ ...fallback, status: 'paused' });
    const response = await worker(link(f));
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(fallback.fallback_url);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('uses the fallback URL for a paused or unknown publisher too', async () => {
    const f = await createFixture(fallback);
    expect((await worker(`/c/${f.offerId}/999999`)).headers.get('location')).toBe(fallback.fallback_url);
    await adminOk('PATCH', `/publishers/${f.publisherId}`, { status: 'paused' });
    expect((await worker(link(f))).headers.get('location')).toBe(fallback.fallback_url);
  });

  it('switches to the fallback URL when the offer is paused through the API, and back', async () => {
    const f = await createFixture(fallback);
    expect((await worker(link(f))).headers.get('location')).toMatch(/^https:\/\/shop\.example\/landing\?/);
    await adminOk('PATCH', `/offers/${f.offerId}`, { status: 'paused' });
    expect((await worker(link(f))).headers.get('location')).toBe(fallback.fallback_url);
    await adminOk('PATCH', `/offers/${f.offerId}`, { status: 'active' });
    expect((await worker(link(f))).headers.get('location')).toMatch(/^https:\/\/shop\.example\/landing\?/);
  });

  it('sends a paused advertiser’s visitors to the offer’s fallback URL', async () => {
    const f = await createFixture(fallback);
    await adminOk('PATCH', `/advertisers/${f.advertiserId}`, { status: 'paused' });
    expect((await worker(link(f))).headers.get('location')).toBe(fallback.fallback_url);
  });
});

describe('sub IDs', () => {
  it('accepts sub IDs of up to 255 characters, unicode included', async () => {
    const f = await createFixture();
    const response = await worker(link(f, `?sub1=${'a'.repeat(255)}&sub2=${encodeURIComponent('日'.repeat(255))}`), {
      headers: { 'user-agent': CHROME },
    });
    expect(response.status).toBe(302);
  });

  it.each(['sub1', 'sub2', 'sub3', 'sub4', 'sub5'])(
    'refuses %s over 255 characters with a 400 naming it',
    async (key) => {
      const f = await createFixture();
      await expectJsonError(await worker(link(f, `?${key}=${'x'.repeat(256)}`)), 400, 'invalid_request', key);
    },
  );

  it.each([
    ['%00', 'NUL'],
    ['%01', 'SOH'],
    ['%09', 'tab'],
    ['%0A', 'newline'],
    ['%0D', 'carriage return'],
    ['%1F', 'unit separator'],
    ['%7F', 'DEL'],
  ])('refuses a sub ID containing %s (%s) with a 400 naming the field', async (encoded) => {
    const f = await createFixture();
    await expectJsonError(await worker(link(f, `?sub1=ok&sub3=a${encoded}b`)), 400, 'invalid_request', 'sub3');
  });

  it('answers bad sub IDs with an HTML page to a browser, and never redirects', async () => {
    const f = await createFixture();
    const response = await worker(link(f, `?sub2=${'x'.repeat(300)}`), { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('location')).toBeNull();
  });
});
