// KV takes one write a second per key, and the bindings here refuse a second one as production
// does (test/production-limits.ts). An offer changed twice within a second, or by two admin
// calls at once, is republished each time without an error, and KV ends with the last change.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clearIsolateCache, KV_KEY_WRITE_INTERVAL_MS } from '../../src/click/config';
import { admin, adminOk, createFixture, eventually, worker } from '../helpers';

const offerKey = (id: number) => `cfg:v1:offer:${id}`;

describe('production limit: one KV write a second per key', () => {
  it('an offer republished to KV twice in a second: both admin calls succeed, KV has the second change', async () => {
    const f = await createFixture();
    const started = Date.now();
    // Created (published once), then paused and resumed at once: three publishes of one key.
    expect((await admin('PATCH', `/offers/${f.offerId}`, { status: 'paused' })).status).toBe(200);
    expect(await env.CONFIG.get(offerKey(f.offerId), 'json')).toMatchObject({ active: false });
    expect((await admin('PATCH', `/offers/${f.offerId}`, { status: 'active' })).status).toBe(200);
    expect(await env.CONFIG.get(offerKey(f.offerId), 'json')).toMatchObject({ active: true });
    // The writes waited for the key's turns rather than being refused.
    expect(Date.now() - started).toBeGreaterThanOrEqual(KV_KEY_WRITE_INTERVAL_MS);
    clearIsolateCache();
    expect((await worker(`/c/${f.offerId}/${f.publisherId}`)).status).toBe(302);
  });

  it('two changes of one offer at the same moment share one write, made after both', async () => {
    const f = await createFixture();
    const [renamed, paused] = await Promise.all([
      admin('PATCH', `/offers/${f.offerId}`, { name: 'Winter sale' }),
      admin('PATCH', `/offers/${f.offerId}`, { status: 'paused' }),
    ]);
    expect([renamed.status, paused.status]).toEqual([200, 200]);
    expect(await env.CONFIG.get(offerKey(f.offerId), 'json')).toMatchObject({ id: f.offerId, active: false });
  });

  it("an advertiser's status change republishes all of its offers, each at its key's turn", async () => {
    const f = await createFixture();
    const second = await adminOk<{ id: number }>('POST', '/offers', {
      advertiser_id: f.advertiserId,
      name: 'Second',
      landing_url: 'https://shop.example/second',
      currency: 'EUR',
      goals: [{ key: 'lead', revenue: '5.00', payout: '2.00' }],
    });
    expect((await admin('PATCH', `/advertisers/${f.advertiserId}`, { status: 'paused' })).status).toBe(200);
    for (const id of [f.offerId, second.id]) {
      expect(await env.CONFIG.get(offerKey(id), 'json')).toMatchObject({ id, active: false });
    }
  });

  it('a location that misses KV right after a publish writes the entry back at the next turn', async () => {
    const f = await createFixture();
    // Gone from KV behind the Worker's back, just after the offer was published.
    await env.CONFIG.delete(offerKey(f.offerId));
    clearIsolateCache();
    expect((await worker(`/c/${f.offerId}/${f.publisherId}`)).status).toBe(302);
    expect(await eventually(() => env.CONFIG.get(offerKey(f.offerId), 'json'))).toMatchObject({ id: f.offerId });
  });
});
