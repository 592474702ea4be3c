// Volume tiers never pay less than the goal's own payout (issue 22): selling more never pays
// less. A tier below the base, in fixed amount or percentage, is a 400 naming the field, when
// the offer is created, when its tiers change, and when its base payout is raised over the tiers
// it keeps; nothing is written then.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { admin, adminOk, createFixture } from '../helpers';
import { getPostback, mintLandedClick, withPayout } from '../postback-helpers';

type Refusal = { error: { code: string; fields: Record<string, string> } };

const offerCount = async () =>
  (await env.DB.prepare('SELECT COUNT(*) AS n FROM offers').first<{ n: number }>())?.n ?? 0;

async function createOffer(goals: unknown[]) {
  const advertiser = await adminOk<{ id: number }>('POST', '/advertisers', { name: 'Shop' });
  return admin<Refusal & { id: number }>('POST', '/offers', {
    advertiser_id: advertiser.id,
    name: 'Tiered',
    landing_url: 'https://shop.example/',
    currency: 'EUR',
    goals,
  });
}

const goalOf = async (offerId: number) =>
  (await adminOk<{ goals: Record<string, unknown>[] }>('GET', `/offers/${offerId}`)).goals[0];

describe('a tier paying less than the goal', () => {
  it('is refused when the offer is created, naming the tier payout', async () => {
    const before = await offerCount();
    const res = await createOffer([
      {
        key: 'lead',
        revenue: '5.00',
        payout: '2.00',
        tiers: [
          { min_conversions: 10, payout: '1.50' },
          { min_conversions: 20, payout: '2.50' },
        ],
      },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(Object.keys(res.body.error.fields)).toEqual(['goals.0.tiers.0.payout']);
    expect(res.body.error.fields['goals.0.tiers.0.payout']).toMatch(/goal's own payout/);
    expect(await offerCount()).toBe(before);
  });

  it('is refused for a lower percentage, and for a fixed tier replacing a percent payout', async () => {
    const lower = await createOffer([
      { key: 'sale', revenue_percent: 10, payout_percent: 5, tiers: [{ min_conversions: 5, payout_percent: 4.5 }] },
    ]);
    expect(lower.status).toBe(400);
    expect(Object.keys(lower.body.error.fields)).toEqual(['goals.0.tiers.0.payout_percent']);

    // 3.00 flat instead of 5 %: less than the base on any sale over 60.00.
    const flat = await createOffer([
      { key: 'sale', revenue_percent: 10, payout_percent: 5, tiers: [{ min_conversions: 5, payout: '3.00' }] },
    ]);
    expect(flat.status).toBe(400);
    expect(Object.keys(flat.body.error.fields)).toEqual(['goals.0.tiers.0.payout_percent']);
  });

  it('is refused when an offer change sends it, and the goal keeps its terms', async () => {
    const f = await createFixture({
      goals: [{ key: 'lead', revenue: '5.00', payout: '2.00', tiers: [{ min_conversions: 2, payout: '2.50' }] }],
    });
    const res = await admin<Refusal>('PATCH', `/offers/${f.offerId}`, {
      goals: [{ key: 'lead', revenue: '5.00', payout: '2.00', tiers: [{ min_conversions: 2, payout: '1.99' }] }],
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.fields)).toEqual(['goals.0.tiers.0.payout']);
    expect(await goalOf(f.offerId)).toMatchObject({ payout: '2.00', tiers: [{ min_conversions: 2, payout: '2.50' }] });
  });

  it('is refused when a change raises the base payout over the tiers the goal keeps', async () => {
    const f = await createFixture({
      goals: [{ key: 'lead', revenue: '5.00', payout: '2.00', tiers: [{ min_conversions: 2, payout: '2.50' }] }],
    });
    const res = await admin<Refusal>('PATCH', `/offers/${f.offerId}`, {
      goals: [{ key: 'lead', revenue: '5.00', payout: '3.00' }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual({
      'goals.0.payout': expect.stringMatching(/tier from 2 conversions \(2\.50\)/),
    });
    expect(await goalOf(f.offerId)).toMatchObject({ payout: '2.00', tiers: [{ min_conversions: 2, payout: '2.50' }] });

    // Raising both together is a valid change; a tier equal to the base is allowed.
    const both = await adminOk<{ goals: Record<string, unknown>[] }>('PATCH', `/offers/${f.offerId}`, {
      goals: [{ key: 'lead', revenue: '5.00', payout: '3.00', tiers: [{ min_conversions: 2, payout: '3.00' }] }],
    });
    expect(both.goals[0]).toMatchObject({ payout: '3.00', tiers: [{ min_conversions: 2, payout: '3.00' }] });
  });

  it('a tier at or above the base is accepted and paid from its threshold on', async () => {
    const f = await createFixture({
      goals: [
        {
          key: 'sale',
          revenue_percent: 10,
          payout_percent: 5,
          tiers: [{ min_conversions: 1, payout: '1.00', payout_percent: 5 }],
        },
      ],
    });
    const payouts: string[] = [];
    for (const order of ['A-1', 'A-2']) {
      const res = await getPostback('/postback', {
        click_id: await mintLandedClick(f),
        order_id: order,
        amount: '100.00',
        key: f.postbackKey,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      payouts.push((await withPayout(res)).payout);
    }
    expect(payouts).toEqual(['5.00', '6.00']);
  });
});
