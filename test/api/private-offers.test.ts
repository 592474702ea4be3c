// A publisher finds the private offers it may apply to (GET /api/v1/offers?available=apply): each
// with its payout to that publisher and the terms binding its traffic, never revenue, revenue
// caps or another publisher's terms; its application's status follows applying, rejection and
// approval, and an approved offer moves to the offers it may promote. Answers are read through
// the OpenAPI document (strictly), so the shapes are the documented ones.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminOk, createFixture, expectError, type Fixture } from '../helpers';
import { call, json } from './openapi-call';

interface Listed {
  id: number;
  access: string;
  application_id: number | null;
  goals: { key: string; payout: string; payout_percent: number; payout_rule: string }[];
  caps: Record<string, unknown>[];
  [field: string]: unknown;
}

let fixture: Fixture;
let otherPublisher: number;
let publisherKey: Record<string, string>;
let privateOffer: number;

async function listing(available?: 'apply' | 'promote', limit = 200): Promise<{ data: Listed[]; text: string }> {
  const answer = await call('get', '/api/v1/offers', {
    query: { limit, ...(available ? { available } : {}) },
    headers: publisherKey,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return { data: json(answer).data, text: JSON.stringify(answer.body) };
}

beforeAll(async () => {
  fixture = await createFixture({ name: 'Public shoes' });
  otherPublisher = (await adminOk<{ id: number }>('POST', '/publishers', { name: 'Other blog' })).id;
  const key = await adminOk<{ key: string }>('POST', '/api-keys', {
    role: 'publisher',
    publisher_id: fixture.publisherId,
  });
  publisherKey = { authorization: `Bearer ${key.key}` };
  const created = await adminOk<{ id: number }>('POST', '/offers', {
    advertiser_id: fixture.advertiserId,
    name: 'Private watches',
    landing_url: 'https://watches.example/secret-landing',
    currency: 'EUR',
    visibility: 'private',
    deep_link_hosts: ['watches.example'],
    attribution_window_days: 14,
    min_seconds_to_convert: 30,
    time_rule: 'reject',
    goals: [
      { key: 'lead', revenue: '7.77', payout: '3.00' },
      { key: 'sale', revenue_percent: 12.5, payout_percent: 6 },
    ],
  });
  privateOffer = created.id;
  // Its own rate for this publisher, another publisher's rate, and caps of every kind.
  await adminOk('PUT', `/offers/${privateOffer}/goals/lead/payouts/${fixture.publisherId}`, { payout: '3.25' });
  await adminOk('PUT', `/offers/${privateOffer}/goals/sale/payouts/${otherPublisher}`, { payout_percent: 9 });
  await adminOk('POST', `/offers/${privateOffer}/caps`, { metric: 'conversions', period: 'day', limit: 40 });
  await adminOk('POST', `/offers/${privateOffer}/caps`, {
    metric: 'payout',
    period: 'month',
    limit: '500.00',
    goal: 'sale',
  });
  await adminOk('POST', `/offers/${privateOffer}/caps`, {
    metric: 'clicks',
    period: 'week',
    limit: 900,
    publisher_id: fixture.publisherId,
  });
  await adminOk('POST', `/offers/${privateOffer}/caps`, { metric: 'revenue', period: 'month', limit: '4444.00' });
  await adminOk('POST', `/offers/${privateOffer}/caps`, {
    metric: 'conversions',
    period: 'lifetime',
    limit: 12,
    publisher_id: otherPublisher,
  });
});

describe('GET /api/v1/offers?available=apply', () => {
  it('lists the active private offers a publisher may apply to, with its payout and terms, never revenue', async () => {
    const { data, text } = await listing('apply');
    expect(data.map((o) => o.id)).toContain(privateOffer);
    expect(data.map((o) => o.id)).not.toContain(fixture.offerId);
    const offer = data.find((o) => o.id === privateOffer);
    expect(offer).toEqual({
      id: privateOffer,
      name: 'Private watches',
      visibility: 'private',
      access: 'apply',
      application_id: null,
      currency: 'EUR',
      deep_link_hosts: ['watches.example'],
      attribution_window_days: 14,
      min_seconds_to_convert: 30,
      max_seconds_to_convert: null,
      time_rule: 'reject',
      caps: [
        { metric: 'conversions', period: 'day', limit: 40, goal: null, applies_to: 'all_publishers' },
        { metric: 'payout', period: 'month', limit: '500.00', goal: 'sale', applies_to: 'all_publishers' },
        { metric: 'clicks', period: 'week', limit: 900, goal: null, applies_to: 'you' },
      ],
      goals: [
        { key: 'lead', name: 'lead', payout: '3.25', payout_percent: 0, payout_rule: 'own' },
        { key: 'sale', name: 'sale', payout: '0.00', payout_percent: 6, payout_rule: 'goal' },
      ],
    });
    // Revenue (7.77, 12.5 %, the revenue cap), the advertiser, the landing page before approval,
    // another publisher's rate (9 %) and cap (12) are not the publisher's to see.
    expect(text).not.toMatch(/revenue|advertiser|7\.77|12\.5|4444|secret-landing|"payout_percent":9|"limit":12\b/);
  });

  it('follows the application: pending, rejected, then approved moves it to the offers it may promote', async () => {
    const access = async () => (await listing('apply')).data.find((o) => o.id === privateOffer);
    const applied = await call('post', '/api/v1/offers/{id}/applications', {
      params: { id: privateOffer },
      body: { message: 'Watch review site' },
      headers: publisherKey,
    });
    expect(json(applied)).toMatchObject({ status: 'pending', publisher_id: fixture.publisherId });
    expect(await access()).toMatchObject({ access: 'pending', application_id: json(applied).id });
    await adminOk('POST', `/applications/${json(applied).id}/reject`);
    expect(await access()).toMatchObject({ access: 'rejected', application_id: json(applied).id });
    expect((await listing()).data.map((o) => o.id)).not.toContain(privateOffer);

    await adminOk('POST', `/applications/${json(applied).id}/approve`);
    expect(await access()).toBeUndefined();
    const promoted = (await listing('promote')).data.find((o) => o.id === privateOffer);
    expect(promoted).toMatchObject({
      access: 'approved',
      visibility: 'private',
      landing_url: 'https://watches.example/secret-landing',
      tracking_link: expect.stringMatching(new RegExp(`/c/${privateOffer}/${fixture.publisherId}$`)),
      caps: [
        { metric: 'conversions', limit: 40 },
        { metric: 'payout', limit: '500.00' },
        { metric: 'clicks', applies_to: 'you' },
      ],
    });
    // The default listing is the promote one, and a public offer there is open to everybody.
    const open = (await listing()).data.find((o) => o.id === fixture.offerId);
    expect(open).toMatchObject({ access: 'open', visibility: 'public', caps: [] });
    const single = await call('get', '/api/v1/offers/{id}', { params: { id: privateOffer }, headers: publisherKey });
    expect(json(single)).toMatchObject({ access: 'approved', time_rule: 'reject' });
    expect(JSON.stringify(json(single))).not.toMatch(/revenue|4444/);
  });

  it('leaves out paused private offers and pages by cursor', async () => {
    const paused = await createFixture({ name: 'Paused private', visibility: 'private' });
    await adminOk('PATCH', `/offers/${paused.offerId}`, { status: 'paused' });
    const extra = [
      await createFixture({ name: 'Private A', visibility: 'private' }),
      await createFixture({ name: 'Private B', visibility: 'private' }),
    ];
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const answer = await call('get', '/api/v1/offers', {
        query: { available: 'apply', limit: 1, ...(cursor ? { cursor } : {}) },
        headers: publisherKey,
      });
      expect(json(answer).data.length).toBeLessThanOrEqual(1);
      seen.push(...json(answer).data.map((o: Listed) => o.id));
      cursor = json(answer).next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen).toEqual(expect.arrayContaining(extra.map((f) => f.offerId)));
    expect(seen).not.toContain(paused.offerId);
  });

  it('is a publisher view: the operator names the publisher, an advertiser cannot ask', async () => {
    const asOperator = await call('get', '/api/v1/offers', {
      query: { available: 'apply', publisher_id: otherPublisher },
    });
    const row = (json(asOperator).data as Listed[]).find((o) => o.id === privateOffer);
    // The other publisher's own rate and cap, not this one's.
    expect(row?.goals.find((g) => g.key === 'sale')).toMatchObject({ payout_percent: 9, payout_rule: 'own' });
    expect(row?.caps).toContainEqual({
      metric: 'conversions',
      period: 'lifetime',
      limit: 12,
      goal: null,
      applies_to: 'you',
    });
    expect(row?.caps).not.toContainEqual(expect.objectContaining({ metric: 'clicks', applies_to: 'you' }));

    const bare = await call('get', '/api/v1/offers', { query: { available: 'apply' } });
    expectError(bare, 400, 'invalid_request', ['available']);
    expect(json(bare).error.fields).toEqual({ available: 'needs publisher_id' });
    const key = await adminOk<{ key: string }>('POST', '/api-keys', {
      role: 'advertiser',
      advertiser_id: fixture.advertiserId,
    });
    const asAdvertiser = await call('get', '/api/v1/offers', {
      query: { available: 'apply' },
      headers: { authorization: `Bearer ${key.key}` },
    });
    expectError(asAdvertiser, 400, 'invalid_request', ['available']);
  });
});
