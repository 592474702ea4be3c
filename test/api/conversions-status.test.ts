// The status lifecycle, by postback (same order, new status) and by the admin API: legal moves,
// 409 for illegal ones, the events recorded, the rollup moving between status columns, and the
// delivery rows written for matching publisher endpoints in the same transaction.
import { describe, expect, it } from 'vitest';
import { admin, adminOk, createFixture, worker } from '../helpers';
import {
  conversion,
  createPublisher,
  deliveriesOf,
  eventsOf,
  getPostback,
  insertEndpoint,
  mintClick,
  statsOf,
} from '../postback-helpers';

async function pendingSale(orderId: string) {
  const f = await createFixture();
  const clickId = await mintClick(f);
  const params = { click_id: clickId, event: 'sale', order_id: orderId, amount: '200.00', key: f.postbackKey };
  const created = await getPostback('/postback', params);
  expect(created.status).toBe(200);
  return { f, clickId, params, id: created.body.conversion_id as string };
}

describe('status changes by postback', () => {
  it('approves a pending conversion sent again with status=approved, moving the rollup', async () => {
    const { f, params, id } = await pendingSale('S-1');
    expect(await statsOf(f.offerId)).toEqual([
      expect.objectContaining({ pending: 1, approved: 0, revenue_pending: 2000, payout_pending: 1000 }),
    ]);
    const res = await getPostback('/postback', { ...params, status: 'approved' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      conversion_id: id,
      duplicate: false,
      outcome: 'updated',
      conversion_status: 'approved',
      previous_status: 'pending',
    });
    expect(await conversion(id)).toMatchObject({ status: 'approved' });
    expect(await statsOf(f.offerId)).toEqual([
      expect.objectContaining({
        pending: 0,
        approved: 1,
        revenue_pending: 0,
        payout_pending: 0,
        revenue_approved: 2000,
        payout_approved: 1000,
      }),
    ]);
    const events = await eventsOf(id);
    expect(events.map((e) => [e.type, e.from_status, e.to_status, e.actor])).toEqual([
      ['conversion.created', null, 'pending', 'postback'],
      ['conversion.approved', 'pending', 'approved', 'postback'],
    ]);
    expect(JSON.parse(String(events[1]?.snapshot))).toMatchObject({ event: 'conversion.approved', status: 'approved' });
  });

  it('reverses an approved conversion, taking its money out of the rollup', async () => {
    const { f, params, id } = await pendingSale('S-2');
    await getPostback('/postback', { ...params, status: 'approved' });
    const res = await getPostback('/postback', { ...params, status: 'reversed', reason: 'returned' });
    expect(res.body).toMatchObject({ outcome: 'updated', conversion_status: 'reversed', previous_status: 'approved' });
    expect(await statsOf(f.offerId)).toEqual([
      expect.objectContaining({ pending: 0, approved: 0, reversed: 1, revenue_approved: 0, payout_approved: 0 }),
    ]);
    const events = await eventsOf(id);
    expect(events[2]).toMatchObject({ type: 'conversion.reversed', reason: 'returned' });
  });

  it('rejects a pending conversion', async () => {
    const { f, params } = await pendingSale('S-3');
    const res = await getPostback('/postback', { ...params, status: 'rejected' });
    expect(res.body.conversion_status).toBe('rejected');
    expect(await statsOf(f.offerId)).toEqual([
      expect.objectContaining({ pending: 0, rejected: 1, revenue_pending: 0 }),
    ]);
  });

  it.each([
    [['approved'], 'pending'],
    [['rejected'], 'approved'],
    [['rejected'], 'reversed'],
    [[], 'reversed'],
    [['approved', 'reversed'], 'approved'],
  ])('after %j, refuses a change to %s with 409 and changes nothing', async (steps, illegal) => {
    const { f, params, id } = await pendingSale(`S-409-${steps.join('-')}-${illegal}`);
    for (const status of steps) expect((await getPostback('/postback', { ...params, status })).status).toBe(200);
    const statsBefore = await statsOf(f.offerId);
    const eventsBefore = (await eventsOf(id)).length;
    const res = await getPostback('/postback', { ...params, status: illegal });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('illegal_status_change');
    expect(await eventsOf(id)).toHaveLength(eventsBefore);
    expect(await statsOf(f.offerId)).toEqual(statsBefore);
  });

  it('refuses a new conversion that starts as reversed with 409', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      order_id: 'NEW-R',
      status: 'reversed',
      key: f.postbackKey,
    });
    expect(res.status).toBe(409);
    expect(await statsOf(f.offerId)).toEqual([]);
  });

  it('finds the conversion by order ID when the status update omits event', async () => {
    const { params, id } = await pendingSale('S-4');
    const { event: _event, amount: _amount, ...withoutEvent } = params;
    const res = await getPostback('/postback', { ...withoutEvent, status: 'approved' });
    expect(res.body).toMatchObject({ conversion_id: id, event: 'sale', outcome: 'updated' });
  });

  it('accepts a status update by offer_id + order_id without the click ID', async () => {
    const { f, id } = await pendingSale('S-5');
    const res = await getPostback('/postback', {
      offer_id: String(f.offerId),
      order_id: 'S-5',
      status: 'approved',
      key: f.postbackKey,
    });
    expect(res.body).toMatchObject({ conversion_id: id, outcome: 'updated', conversion_status: 'approved' });
    const unknown = await getPostback('/postback', {
      offer_id: String(f.offerId),
      order_id: 'NOPE',
      status: 'approved',
      key: f.postbackKey,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('conversion_not_found');
  });
});

describe('status changes by the admin API', () => {
  it('approves with a reason recorded as an admin event', async () => {
    const { f, id } = await pendingSale('A-1');
    const res = await admin('POST', `/conversions/${id}/status`, { status: 'approved', reason: 'checked invoice' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, status: 'approved', changed: true, previous_status: 'pending' });
    const events = await eventsOf(id);
    expect(events[1]).toMatchObject({
      type: 'conversion.approved',
      from_status: 'pending',
      to_status: 'approved',
      actor: 'admin',
      reason: 'checked invoice',
    });
    expect(await statsOf(f.offerId)).toEqual([expect.objectContaining({ approved: 1, revenue_approved: 2000 })]);
  });

  it('records who decided: an advertiser key as advertiser, an operator key as admin, as adjustments do', async () => {
    const { f, id } = await pendingSale('A-9');
    const { id: other } = await pendingSale('A-10');
    const keyOf = async (body: Record<string, unknown>) =>
      (await adminOk<{ key: string }>('POST', '/api-keys', body)).key;
    const advertiserKey = await keyOf({ role: 'advertiser', advertiser_id: f.advertiserId });
    const operatorKey = await keyOf({ role: 'operator' });
    const post = (key: string, path: string, body: unknown) =>
      worker(`/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await post(advertiserKey, `/conversions/${id}/adjust`, { amount: '150.00', reason: 'Return' })).status,
    ).toBe(200);
    expect(
      (await post(advertiserKey, `/conversions/${id}/status`, { status: 'approved', reason: 'Kept' })).status,
    ).toBe(200);
    expect((await post(operatorKey, `/conversions/${other}/status`, { status: 'rejected' })).status).toBe(200);
    expect((await eventsOf(id)).map((e) => [e.type, e.actor, e.reason])).toEqual([
      ['conversion.created', 'postback', null],
      ['conversion.modified', 'advertiser', 'Return'],
      ['conversion.approved', 'advertiser', 'Kept'],
    ]);
    expect((await eventsOf(other)).map((e) => [e.type, e.actor])).toEqual([
      ['conversion.created', 'postback'],
      ['conversion.rejected', 'admin'],
    ]);
    const read = await worker(`/api/v1/conversions/${id}`, { headers: { authorization: `Bearer ${advertiserKey}` } });
    const events = ((await read.json()) as { events: { type: string; actor: string }[] }).events;
    expect(events.map((e) => e.actor)).toEqual(['postback', 'advertiser', 'advertiser']);
  });

  it('answers a request for the current status with changed: false and writes nothing', async () => {
    const { id } = await pendingSale('A-2');
    const res = await admin('POST', `/conversions/${id}/status`, { status: 'pending' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changed: false, status: 'pending' });
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it('refuses an illegal change with 409', async () => {
    const { id } = await pendingSale('A-3');
    expect((await admin('POST', `/conversions/${id}/status`, { status: 'rejected' })).status).toBe(200);
    const res = await admin<{ error: { code: string } }>('POST', `/conversions/${id}/status`, { status: 'approved' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('illegal_status_change');
  });

  it('answers 404 for an unknown conversion and 400 for a bad body', async () => {
    const { id } = await pendingSale('A-4');
    expect((await admin('POST', '/conversions/cv_unknown/status', { status: 'approved' })).status).toBe(404);
    expect((await admin('POST', `/conversions/${id}/status`, { status: 'paid' })).status).toBe(400);
    expect((await admin('POST', `/conversions/${id}/status`, { status: 'approved', extra: 1 })).status).toBe(400);
  });
});

describe('deliveries for publisher endpoints', () => {
  it('writes one delivery per matching endpoint and event, in the same transaction as the event', async () => {
    const f = await createFixture();
    const all = await insertEndpoint(f.publisherId, ['conversion.created', 'conversion.approved']);
    const approvedOnly = await insertEndpoint(f.publisherId, ['conversion.approved']);
    const otherOffer = await insertEndpoint(f.publisherId, ['conversion.created'], [f.offerId + 1000]);
    const otherPublisher = await insertEndpoint(await createPublisher(), ['conversion.created']);
    const params = { click_id: await mintClick(f), order_id: 'D-1', key: f.postbackKey };
    const created = await getPostback('/postback', params);
    const id = created.body.conversion_id as string;
    const [createdEvent] = await eventsOf(id);
    expect((await deliveriesOf(id)).map((d) => [d.endpoint_id, d.event_type, d.event_id])).toEqual([
      [all, 'conversion.created', createdEvent?.id],
    ]);

    await getPostback('/postback', { ...params, status: 'approved' });
    const deliveries = await deliveriesOf(id);
    expect(deliveries.map((d) => [d.endpoint_id, d.event_type])).toEqual([
      [all, 'conversion.created'],
      [all, 'conversion.approved'],
      [approvedOnly, 'conversion.approved'],
    ]);
    expect(deliveries.some((d) => d.endpoint_id === otherOffer || d.endpoint_id === otherPublisher)).toBe(false);
  });

  it('writes no delivery for a duplicate', async () => {
    const f = await createFixture();
    await insertEndpoint(f.publisherId, ['conversion.created']);
    const params = { click_id: await mintClick(f), order_id: 'D-2', key: f.postbackKey };
    const first = await getPostback('/postback', params);
    await getPostback('/postback', params);
    expect(await deliveriesOf(first.body.conversion_id)).toHaveLength(1);
  });

  it('writes deliveries for both events of a conversion created approved', async () => {
    const f = await createFixture({ goals: [{ key: 'lead', payout: '1.00', default_status: 'approved' }] });
    await insertEndpoint(f.publisherId, ['conversion.created', 'conversion.approved']);
    const res = await getPostback('/postback', { click_id: await mintClick(f), key: f.postbackKey });
    expect((await deliveriesOf(res.body.conversion_id)).map((d) => d.event_type).sort()).toEqual([
      'conversion.approved',
      'conversion.created',
    ]);
  });

  it('writes deliveries for an admin status change', async () => {
    const f = await createFixture();
    await insertEndpoint(f.publisherId, ['conversion.rejected']);
    const res = await getPostback('/postback', { click_id: await mintClick(f), key: f.postbackKey });
    await admin('POST', `/conversions/${res.body.conversion_id}/status`, { status: 'rejected', reason: 'fraud' });
    expect((await deliveriesOf(res.body.conversion_id)).map((d) => d.event_type)).toEqual(['conversion.rejected']);
  });
});
