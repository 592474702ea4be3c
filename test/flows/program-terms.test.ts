// Program terms at the edge: private offers with applications, caps with fallback, smart links,
// and how fast each change reaches the redirect (isolate + KV config cache, no storage read).
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clickIdKeys, verifyClickId } from '../../src/click/click-id';
import { clearIsolateCache, ISOLATE_TTL_MS, KV_CACHE_TTL_S, KV_KEY_WRITE_INTERVAL_MS } from '../../src/click/config';
import { checkClickCaps } from '../../src/terms/click-caps';
import { clickRecord, insertClicks } from '../fixtures';
import { admin, adminOk, createFixture, eventually, expectError, type Fixture, worker } from '../helpers';
import { createPublisher, getPostback, mintClick } from '../postback-helpers';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148';

function visit(path: string, init: { ua?: string; country?: string } = {}) {
  return worker(path, {
    headers: { 'user-agent': init.ua ?? CHROME },
    ...(init.country ? { cf: { country: init.country } } : {}),
  } as RequestInit);
}

const clickOf = (f: Pick<Fixture, 'offerId' | 'publisherId'>) => visit(`/c/${f.offerId}/${f.publisherId}`);

async function json(response: Response) {
  return { status: response.status, body: (await response.json()) as unknown };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('private offers', () => {
  it('refuses a publisher who is not approved with 404 offer_not_available, and lets an approved one through', async () => {
    const f = await createFixture({ visibility: 'private' });
    expectError(await json(await clickOf(f)), 404, 'offer_not_available', ['offer_id']);

    const application = await adminOk<{ id: number; status: string }>('POST', `/offers/${f.offerId}/applications`, {
      publisher_id: f.publisherId,
    });
    expect(application).toMatchObject({ id: expect.any(Number), status: 'pending' });
    expect((await clickOf(f)).status).toBe(404);

    await adminOk('POST', `/applications/${application.id}/approve`);
    const approved = await clickOf(f);
    expect(approved.status).toBe(302);
    expect(approved.headers.get('location')).toMatch(/^https:\/\/shop\.example\/landing/);

    // Rejecting an approved application revokes it.
    await adminOk('POST', `/applications/${application.id}/reject`);
    expect((await clickOf(f)).status).toBe(404);
  });

  it('sends a refused click to the fallback URL', async () => {
    const f = await createFixture({ visibility: 'private', fallback_url: 'https://shop.example/other' });
    const response = await clickOf(f);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://shop.example/other');
  });

  it('sends a refused click to the fallback offer as a real click there, with its own click ID', async () => {
    const open = await createFixture({ landing_url: 'https://open.example/land' });
    const f = await createFixture({ visibility: 'private', fallback_offer_id: open.offerId });
    const response = await clickOf(f);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin).toBe('https://open.example');
    const parts = await verifyClickId(await clickIdKeys(env), location.searchParams.get('click_id') ?? '');
    expect(parts).toMatchObject({ offerId: open.offerId, publisherId: f.publisherId });
  });

  it('refuses a fallback_offer_id that names no other offer, naming the field', async () => {
    const f = await createFixture();
    expectError(
      await admin('PATCH', `/offers/${f.offerId}`, { fallback_offer_id: f.offerId }),
      400,
      'invalid_request',
      ['fallback_offer_id'],
    );
    expectError(await admin('PATCH', `/offers/${f.offerId}`, { fallback_offer_id: 999999 }), 400, 'invalid_request', [
      'fallback_offer_id',
    ]);
  });
});

describe('propagation to the redirect', () => {
  it('keeps each hop under 60 s: isolate TTL plus KV cache TTL', () => {
    expect(ISOLATE_TTL_MS / 1000 + KV_CACHE_TTL_S).toBeLessThanOrEqual(60);
  });

  it('reaches another isolate through KV: an approval published elsewhere applies once this isolate’s copy expires', async () => {
    const f = await createFixture({ visibility: 'private' });
    expect((await clickOf(f)).status).toBe(404); // this isolate now holds "not approved"
    const stale = await env.CONFIG.get(`cfg:v1:offer:${f.offerId}`);
    const application = await adminOk<{ id: number }>('POST', `/offers/${f.offerId}/applications`, {
      publisher_id: f.publisherId,
    });
    await adminOk('POST', `/applications/${application.id}/approve`);
    const published = await env.CONFIG.get(`cfg:v1:offer:${f.offerId}`);
    expect(JSON.parse(published ?? '{}')).toMatchObject({ terms: { approved: [f.publisherId] } });

    // Play an isolate that still holds the old copy: no storage read until its TTL runs out.
    // (KV takes one write a second per key, these included: each waits for the key's turn.)
    clearIsolateCache();
    await scheduler.wait(KV_KEY_WRITE_INTERVAL_MS);
    await env.CONFIG.put(`cfg:v1:offer:${f.offerId}`, stale ?? '');
    expect((await clickOf(f)).status).toBe(404);
    await scheduler.wait(KV_KEY_WRITE_INTERVAL_MS);
    await env.CONFIG.put(`cfg:v1:offer:${f.offerId}`, published ?? '');
    expect((await clickOf(f)).status).toBe(404);
    const later = Date.now() + ISOLATE_TTL_MS + 1;
    vi.spyOn(Date, 'now').mockReturnValue(later);
    expect((await clickOf(f)).status).toBe(302);
  });
});

describe('conversion caps', () => {
  it('counts exactly 10 of 50 concurrent postbacks against a cap of 10 and stores 40 rejected with cap_reached', async () => {
    const f = await createFixture();
    const cap = await adminOk<{ id: number }>('POST', `/offers/${f.offerId}/caps`, {
      metric: 'conversions',
      period: 'day',
      limit: 10,
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) =>
        getPostback('/postback', { click_id: await mintClick(f), order_id: `CAP-${i}`, key: f.postbackKey }),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const statuses = answers.map((a) => a.body.conversion_status as string);
    expect(statuses.filter((s) => s === 'rejected')).toHaveLength(40);
    const rows = await env.DB.prepare('SELECT status, reason, cap_id FROM conversions WHERE offer_id = ?')
      .bind(f.offerId)
      .all<{ status: string; reason: string | null; cap_id: number | null }>();
    expect(rows.results).toHaveLength(50);
    expect(rows.results.filter((r) => r.status !== 'rejected')).toHaveLength(10);
    const rejected = rows.results.filter((r) => r.status === 'rejected');
    expect(rejected.every((r) => r.reason === 'cap_reached' && r.cap_id === cap.id)).toBe(true);

    const [listed] = (await adminOk<{ data: Record<string, unknown>[] }>('GET', `/offers/${f.offerId}/caps`)).data;
    expect(listed).toMatchObject({ id: cap.id, used: 10, limit: 10, reached: true, rejected_conversions: 40 });
  });

  it('refuses a payout that would overshoot a payout cap, and sends the capped publisher’s clicks to the fallback', async () => {
    const f = await createFixture({ fallback_url: 'https://shop.example/full' });
    const other = { ...f, publisherId: await createPublisher() };
    await adminOk('POST', `/offers/${f.offerId}/caps`, {
      metric: 'payout',
      period: 'month',
      limit: '5.00',
      publisher_id: f.publisherId,
    });
    const send = async (order: string, pub = f) =>
      getPostback('/postback', { click_id: await mintClick(pub), event: 'lead', order_id: order, key: f.postbackKey });
    expect((await send('P-1')).body.conversion_status).toBe('pending'); // 2.00
    expect((await send('P-2')).body.conversion_status).toBe('pending'); // 4.00
    expect((await send('P-3')).body.conversion_status).toBe('rejected'); // 6.00 > 5.00
    expect((await send('P-4', other)).body.conversion_status).toBe('pending'); // another publisher

    const capped = await eventually(async () => {
      const response = await clickOf(f);
      return response.headers.get('location') === 'https://shop.example/full' ? response : null;
    });
    expect(capped.status).toBe(302);
    expect((await clickOf(other)).headers.get('location')).toMatch(/^https:\/\/shop\.example\/landing/);
  });

  it('answers 404 offer_capped without a fallback, and opens again at the period boundary with no D1 read or republish', async () => {
    const f = await createFixture();
    await adminOk('POST', `/offers/${f.offerId}/caps`, {
      metric: 'conversions',
      period: 'day',
      limit: 1,
      goal: 'lead',
    });
    await getPostback('/postback', { click_id: await mintClick(f), event: 'lead', key: f.postbackKey });
    // The reached cap is published after the postback's answer (waitUntil).
    const capped = await eventually(async () => {
      const response = await clickOf(f);
      return response.status === 404 ? response : null;
    });
    expectError(await json(capped), 404, 'offer_capped', ['offer_id']);
    // The cap's republish may still wait for its KV key's turn (one write a second per key) and
    // read the offer from D1 when the turn comes: background work of the postback, not of the
    // click below, so it is let finish before the click's reads are watched.
    await new Promise((resolve) => setTimeout(resolve, KV_KEY_WRITE_INTERVAL_MS + 300));

    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 1);
    const reads = vi.spyOn(env.DB, 'prepare');
    vi.spyOn(Date, 'now').mockReturnValue(tomorrow.getTime());
    expect((await clickOf(f)).status).toBe(302);
    expect(reads).not.toHaveBeenCalled();
  });

  it('counts per goal: a cap on leads leaves sales alone', async () => {
    const f = await createFixture();
    await adminOk('POST', `/offers/${f.offerId}/caps`, {
      metric: 'conversions',
      period: 'lifetime',
      limit: 1,
      goal: 'lead',
    });
    const send = async (event: string, order: string) =>
      (
        await getPostback('/postback', {
          click_id: await mintClick(f),
          event,
          order_id: order,
          amount: '10.00',
          key: f.postbackKey,
        })
      ).body.conversion_status;
    expect(await send('lead', 'G-1')).toBe('pending');
    expect(await send('lead', 'G-2')).toBe('rejected');
    expect(await send('sale', 'G-3')).toBe('pending');
  });
});

describe('click caps', () => {
  it('closes the offer once the counted clicks meet the cap (counted off the redirect path)', async () => {
    const open = await createFixture({ landing_url: 'https://open.example/land' });
    const f = await createFixture({ fallback_offer_id: open.offerId });
    await adminOk('POST', `/offers/${f.offerId}/caps`, { metric: 'clicks', period: 'day', limit: 3 });
    await insertClicks([0, 1].map(() => clickRecord(f, new Date().toISOString())));
    expect(await checkClickCaps(env, [f.offerId])).toEqual([]);
    expect((await clickOf(f)).headers.get('location')).toMatch(/^https:\/\/shop\.example/);
    await insertClicks([clickRecord(f, new Date().toISOString())]);
    expect(await checkClickCaps(env, [f.offerId])).toHaveLength(1);
    expect((await clickOf(f)).headers.get('location')).toMatch(/^https:\/\/open\.example/);
  });
});

describe('smart links', () => {
  it('sends a visitor to an eligible offer by weight and refuses bad rules naming the field', async () => {
    const a = await createFixture({ landing_url: 'https://a.example/' });
    const b = await createFixture({ landing_url: 'https://b.example/' });
    expectError(
      await admin('POST', '/smart-links', { name: 'x', rules: [{ offer_id: a.offerId, weight: 0 }] }),
      400,
      'invalid_request',
      ['rules.0.weight'],
    );
    expectError(
      await admin('POST', '/smart-links', { name: 'x', rules: [{ offer_id: a.offerId, weight: 1.5 }] }),
      400,
      'invalid_request',
      ['rules.0.weight'],
    );
    expectError(
      await admin('POST', '/smart-links', { name: 'x', rules: [{ offer_id: 999999, weight: 1 }] }),
      400,
      'invalid_request',
      ['rules.0.offer_id'],
    );
    expectError(await admin('POST', '/smart-links', { name: 'x', rules: [] }), 400, 'invalid_request', ['rules']);

    const link = await adminOk<{ id: number; link: string }>('POST', '/smart-links', {
      name: 'Rotation',
      rules: [
        { offer_id: a.offerId, weight: 1, countries: ['DE'] },
        { offer_id: b.offerId, weight: 1, devices: ['mobile'] },
      ],
    });
    expect(link.link).toMatch(new RegExp(`/s/${link.id}/\\{publisher_id\\}$`));
    const path = `/s/${link.id}/${a.publisherId}`;
    const german = await visit(path, { country: 'DE' });
    expect(german.headers.get('location')).toMatch(/^https:\/\/a\.example/);
    expect((await visit(path, { country: 'FR', ua: IPHONE })).headers.get('location')).toMatch(/^https:\/\/b\.example/);
    expectError(await json(await visit(path, { country: 'FR' })), 404, 'no_eligible_offer', ['smart_link_id']);
    expectError(await json(await visit(`/s/999999/${a.publisherId}`)), 404, 'smart_link_not_found', ['smart_link_id']);
  });

  it('skips offers closed to the publisher and rotates among the rest', async () => {
    const open = await createFixture({ landing_url: 'https://open.example/' });
    const closed = await createFixture({ landing_url: 'https://closed.example/', visibility: 'private' });
    const link = await adminOk<{ id: number }>('POST', '/smart-links', {
      name: 'Mixed',
      rules: [
        { offer_id: closed.offerId, weight: 100 },
        { offer_id: open.offerId, weight: 1 },
      ],
    });
    for (let i = 0; i < 5; i++) {
      const response = await visit(`/s/${link.id}/${open.publisherId}`);
      expect(response.headers.get('location')).toMatch(/^https:\/\/open\.example/);
    }
  });
});
