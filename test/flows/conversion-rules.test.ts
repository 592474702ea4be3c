// Conversion rules end to end (issue 15): a publisher's own payout and volume tiers, time rules
// from the signed click time, exchange rates, adjustments with conversion.modified, the
// validation-period cron, and the 400s naming the field.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { approveValidatedConversions } from '../../src/cron/validation';
import { admin, adminOk, createFixture } from '../helpers';
import {
  conversion,
  createPublisher,
  eventsOf,
  getPostback,
  mintClick,
  statsOf,
  withPayout,
} from '../postback-helpers';

const sale = (f: { postbackKey: string }, clickId: string, orderId: string, extra: Record<string, string> = {}) =>
  getPostback('/postback', {
    click_id: clickId,
    event: 'sale',
    order_id: orderId,
    amount: '100.00',
    key: f.postbackKey,
    ...extra,
  });

describe('per-publisher payouts and tiers', () => {
  it('prices with the publisher payout in force and records the rule that won', async () => {
    const f = await createFixture();
    const put = await adminOk<{ id: number; payout: string }>(
      'PUT',
      `/offers/${f.offerId}/goals/lead/payouts/${f.publisherId}`,
      {
        payout: '3.50',
      },
    );
    expect(put).toMatchObject({ payout: '3.50', goal: 'lead', publisher_id: f.publisherId, starts_at: null });
    const res = await getPostback('/postback', { click_id: await mintClick(f), order_id: 'P-1', key: f.postbackKey });
    expect(await withPayout(res)).toMatchObject({ revenue: '5.00', payout: '3.50' });
    const detail = await adminOk(`GET`, `/conversions/${res.body.conversion_id}`);
    expect(detail.payout_rule).toBe(`publisher:${put.id}`);

    // Another publisher still earns the goal payout; a rule not yet in force is ignored.
    const other = await createPublisher();
    await adminOk('PUT', `/offers/${f.offerId}/goals/lead/payouts/${other}`, {
      payout: '9.00',
      starts_at: '2099-01-01T00:00:00Z',
    });
    const res2 = await getPostback('/postback', {
      click_id: await mintClick({ offerId: f.offerId, publisherId: other }),
      order_id: 'P-2',
      key: f.postbackKey,
    });
    expect(await withPayout(res2)).toMatchObject({ payout: '2.00' });

    const deleted = await admin('DELETE', `/offers/${f.offerId}/goals/lead/payouts/${f.publisherId}`);
    expect(deleted.status).toBe(200);
    expect((await admin('DELETE', `/offers/${f.offerId}/goals/lead/payouts/${f.publisherId}`)).status).toBe(404);
    expect(
      (await admin('PUT', `/offers/${f.offerId}/goals/nope/payouts/${f.publisherId}`, { payout: '1' })).status,
    ).toBe(404);
    const bad = await admin('PUT', `/offers/${f.offerId}/goals/lead/payouts/${f.publisherId}`, {});
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { fields: { payout: expect.any(String) } } });
  });

  it('pays the tier reached by the publisher earlier in the month, decided at creation', async () => {
    const f = await createFixture({
      goals: [{ key: 'lead', revenue: '5.00', payout: '2.00', tiers: [{ min_conversions: 2, payout: '2.50' }] }],
    });
    const offer = await adminOk<{ goals: { tiers: unknown[]; tier_period: string }[] }>('GET', `/offers/${f.offerId}`);
    expect(offer.goals[0]).toMatchObject({ tiers: [{ min_conversions: 2, payout: '2.50' }], tier_period: 'month' });
    const payouts: string[] = [];
    for (const order of ['T-1', 'T-2', 'T-3']) {
      const res = await getPostback('/postback', { click_id: await mintClick(f), order_id: order, key: f.postbackKey });
      payouts.push((await withPayout(res)).payout);
    }
    expect(payouts).toEqual(['2.00', '2.00', '2.50']);
    const tiersDown = await admin('PATCH', `/offers/${f.offerId}`, {
      goals: [
        {
          key: 'lead',
          tiers: [
            { min_conversions: 2, payout: '3.00' },
            { min_conversions: 5, payout: '2.00' },
          ],
        },
      ],
    });
    expect(tiersDown.status).toBe(400);
    expect(Object.keys((tiersDown.body as { error: { fields: object } }).error.fields)).toContain(
      'goals.0.tiers.1.payout',
    );
  });
});

describe('time rules and fraud signals', () => {
  it('rejects a conversion too soon after the signed click, before the click row has landed', async () => {
    const f = await createFixture({ min_seconds_to_convert: 30, time_rule: 'reject' });
    const res = await getPostback('/postback', {
      click_id: await mintClick(f, 5_000),
      order_id: 'F-1',
      key: f.postbackKey,
    });
    expect(res.status).toBe(200);
    expect(res.body.conversion_status).toBe('rejected');
    const row = await conversion(res.body.conversion_id);
    expect(row).toMatchObject({ status: 'rejected', reason: 'too_fast', flags: '["too_fast"]' });
    const events = await eventsOf(res.body.conversion_id);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['conversion.created', null],
      ['conversion.rejected', 'too_fast'],
    ]);
  });

  it('flags a conversion too late and keeps it pending on an offer that holds flagged ones', async () => {
    const f = await createFixture({
      max_seconds_to_convert: 60,
      hold_flagged: true,
      goals: [{ key: 'lead', payout: '1.00', default_status: 'approved' }],
    });
    const res = await getPostback('/postback', {
      click_id: await mintClick(f, 120_000),
      order_id: 'S-1',
      key: f.postbackKey,
    });
    expect(res.body.conversion_status).toBe('pending');
    expect(await conversion(res.body.conversion_id)).toMatchObject({ flags: '["too_slow"]', reason: null });
  });
});

describe('exchange rates', () => {
  it('converts a sale at the rate in force and keeps the original amount, currency and rate', async () => {
    const f = await createFixture();
    const refused = await sale(f, await mintClick(f), 'X-0', { currency: 'USD' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.fields.currency).toMatch(/exchange rate/);

    await adminOk('PUT', '/exchange-rates/USD/EUR', { rate: '0.5', valid_from: '2020-01-01T00:00:00Z' });
    const rates = await adminOk('PUT', '/exchange-rates/USD/EUR', { rate: '0.9217' });
    expect(rates).toMatchObject({ base: 'USD', quote: 'EUR', current: { rate: '0.9217' } });
    expect((rates.history as unknown[]).length).toBe(2);
    const res = await sale(f, await mintClick(f), 'X-1', { currency: 'USD' });
    expect(await withPayout(res)).toMatchObject({
      amount: '100.00',
      currency: 'USD',
      revenue: '9.22',
      payout: '4.61',
      payout_currency: 'EUR',
    });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ exchange_rate: '0.9217', amount: 10000 });
  });

  it('refuses a percent goal without an amount with 400 amount_required', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      order_id: 'N-1',
      key: f.postbackKey,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'amount_required', fields: { amount: expect.any(String) } });
  });
});

describe('adjustments and validation periods', () => {
  it('adjusts the amount, reprices, keeps the rollup exact and records the previous values', async () => {
    const f = await createFixture();
    const res = await sale(f, await mintClick(f), 'A-1');
    const id = res.body.conversion_id;
    const adjusted = await adminOk('POST', `/conversions/${id}/adjust`, { amount: '80.00', reason: 'Partial refund' });
    expect(adjusted).toMatchObject({ amount: '80.00', revenue: '8.00', payout: '4.00', status: 'pending' });
    expect(adjusted.previous).toMatchObject({ amount: '100.00', revenue: '10.00', payout: '5.00' });
    const events = await eventsOf(id);
    const modified = events.find((e) => e.type === 'conversion.modified');
    expect(modified).toMatchObject({
      from_status: 'pending',
      to_status: 'pending',
      reason: 'Partial refund',
      actor: 'admin',
    });
    expect(JSON.parse(String(modified?.snapshot))).toMatchObject({
      event: 'conversion.modified',
      amount: '80.00',
      payout: '4.00',
      previous: { amount: '100.00', revenue: '10.00', payout: '5.00' },
    });
    const [stats] = await statsOf(f.offerId, f.publisherId);
    expect(stats).toMatchObject({ pending: 1, revenue_pending: 800, payout_pending: 400 });
    const missing = await admin('POST', `/conversions/${id}/adjust`, { reason: 'x' });
    expect(missing.status).toBe(400);
  });

  it('approves a pending conversion after its validation period exactly once, and leaves decided ones alone', async () => {
    const f = await createFixture({ goals: [{ key: 'lead', payout: '2.00', validation_days: 7 }] });
    const due = await getPostback('/postback', { click_id: await mintClick(f), order_id: 'V-1', key: f.postbackKey });
    const decided = await getPostback('/postback', {
      click_id: await mintClick(f),
      order_id: 'V-2',
      key: f.postbackKey,
    });
    await adminOk('POST', `/conversions/${decided.body.conversion_id}/status`, { status: 'rejected' });
    const inEightDays = Date.now() + 8 * 86_400_000;
    expect(await approveValidatedConversions(env, Date.now())).toBe(0);
    expect(await approveValidatedConversions(env, inEightDays)).toBe(1);
    expect(await approveValidatedConversions(env, inEightDays)).toBe(0);
    expect(await conversion(due.body.conversion_id)).toMatchObject({ status: 'approved' });
    expect(await conversion(decided.body.conversion_id)).toMatchObject({ status: 'rejected' });
    const approvals = (await eventsOf(due.body.conversion_id)).filter((e) => e.type === 'conversion.approved');
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ actor: 'system', reason: 'validation_period' });
  });
});
