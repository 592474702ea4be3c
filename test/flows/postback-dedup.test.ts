// Deduplication: per (offer, goal, order_id); without an order ID one conversion per click
// and goal unless the goal allows repeats. Enforced by the database, so concurrent retries
// (Promise.all) create exactly one row and every answer carries the same conversion_id.
import { describe, expect, it } from 'vitest';
import { createFixture } from '../helpers';
import { conversionsOfOffer, eventsOf, getPostback, mintClick, postJson, statsOf } from '../postback-helpers';

describe('replays', () => {
  it('answers a replay of the same order with 200, the same conversion_id and duplicate: true, changing nothing', async () => {
    const f = await createFixture();
    const params = {
      click_id: await mintClick(f),
      event: 'sale',
      order_id: 'R-1',
      amount: '10.00',
      key: f.postbackKey,
    };
    const first = await getPostback('/postback', params);
    const replay = await getPostback('/postback', { ...params, amount: '99.00' });
    expect(first.body.duplicate).toBe(false);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({
      status: 'ok',
      conversion_id: first.body.conversion_id,
      duplicate: true,
      outcome: 'duplicate',
      amount: '10.00',
    });
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ amount: 1000, updated_at: rows[0]?.created_at });
    expect(await eventsOf(first.body.conversion_id)).toHaveLength(1);
    expect(await statsOf(f.offerId)).toEqual([expect.objectContaining({ pending: 1, revenue_pending: 100 })]);
  });

  it('treats a replay carrying the current status as a duplicate', async () => {
    const f = await createFixture();
    const params = { click_id: await mintClick(f), order_id: 'R-2', status: 'pending', key: f.postbackKey };
    const first = await getPostback('/postback', params);
    const replay = await getPostback('/postback', params);
    expect(replay.body).toMatchObject({ duplicate: true, conversion_id: first.body.conversion_id });
  });

  it('converts a click once per goal when there is no order ID', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const lead = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    const again = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    const sale = await getPostback('/postback', {
      click_id: clickId,
      event: 'sale',
      amount: '5.00',
      key: f.postbackKey,
    });
    expect(again.body).toMatchObject({ duplicate: true, conversion_id: lead.body.conversion_id });
    expect(sale.body.duplicate).toBe(false);
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows.map((r) => r.dedupe_key)).toEqual([`c:${clickId}`, `c:${clickId}`]);
  });

  it('records every postback of a goal that allows repeats', async () => {
    const f = await createFixture({ goals: [{ key: 'deposit', payout: '1.00', allow_repeats: true }] });
    const clickId = await mintClick(f);
    const a = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    const b = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    expect([a.body.duplicate, b.body.duplicate]).toEqual([false, false]);
    expect(a.body.conversion_id).not.toBe(b.body.conversion_id);
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows.map((r) => String(r.dedupe_key).slice(0, 2))).toEqual(['r:', 'r:']);
  });

  it('deduplicates a repeating goal by order ID when one is sent', async () => {
    const f = await createFixture({ goals: [{ key: 'deposit', payout: '1.00', allow_repeats: true }] });
    const clickId = await mintClick(f);
    const a = await getPostback('/postback', { click_id: clickId, order_id: 'D-1', key: f.postbackKey });
    const b = await getPostback('/postback', { click_id: clickId, order_id: 'D-1', key: f.postbackKey });
    expect(b.body).toMatchObject({ duplicate: true, conversion_id: a.body.conversion_id });
  });

  it('keeps the same order ID apart in two goals when event is given', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const lead = await getPostback('/postback', {
      click_id: clickId,
      event: 'lead',
      order_id: 'O-1',
      key: f.postbackKey,
    });
    const sale = await getPostback('/postback', {
      click_id: clickId,
      event: 'sale',
      order_id: 'O-1',
      amount: '1.00',
      key: f.postbackKey,
    });
    expect(sale.body.duplicate).toBe(false);
    expect(sale.body.conversion_id).not.toBe(lead.body.conversion_id);
  });

  it('keeps the same order ID apart in two offers', async () => {
    const a = await createFixture();
    const b = await createFixture();
    const first = await getPostback('/postback', {
      click_id: await mintClick(a),
      order_id: 'SAME',
      key: a.postbackKey,
    });
    const second = await getPostback('/postback', {
      click_id: await mintClick(b),
      order_id: 'SAME',
      key: b.postbackKey,
    });
    expect(second.body.duplicate).toBe(false);
    expect(second.body.conversion_id).not.toBe(first.body.conversion_id);
  });
});

describe('concurrent retries', () => {
  it('creates exactly one conversion from 12 simultaneous postbacks of one order', async () => {
    const f = await createFixture();
    const params = {
      click_id: await mintClick(f),
      event: 'sale',
      order_id: 'C-1',
      amount: '42.00',
      key: f.postbackKey,
    };
    const answers = await Promise.all(Array.from({ length: 12 }, () => postJson('/postback', params)));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    const ids = new Set(answers.map((a) => a.body.conversion_id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe([...ids][0]);
    expect(await eventsOf(String(rows[0]?.id))).toHaveLength(1);
    expect(await statsOf(f.offerId)).toEqual([
      expect.objectContaining({ pending: 1, revenue_pending: 420, payout_pending: 210 }),
    ]);
  });

  it('creates exactly one conversion from simultaneous postbacks of one click without an order ID', async () => {
    const f = await createFixture();
    const params = { click_id: await mintClick(f), key: f.postbackKey };
    const answers = await Promise.all(Array.from({ length: 10 }, () => getPostback('/postback', params)));
    expect(new Set(answers.map((a) => a.body.conversion_id)).size).toBe(1);
    expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(1);
    expect(await statsOf(f.offerId)).toEqual([expect.objectContaining({ pending: 1 })]);
  });

  it('applies one of many simultaneous identical status changes, once', async () => {
    const f = await createFixture();
    const params = { click_id: await mintClick(f), order_id: 'C-2', key: f.postbackKey };
    const created = await getPostback('/postback', params);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => getPostback('/postback', { ...params, status: 'approved' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(answers.filter((a) => a.body.outcome === 'updated')).toHaveLength(1);
    expect(answers.filter((a) => a.body.outcome === 'duplicate')).toHaveLength(7);
    expect((await eventsOf(created.body.conversion_id)).map((e) => e.type)).toEqual([
      'conversion.created',
      'conversion.approved',
    ]);
    expect(await statsOf(f.offerId)).toEqual([
      expect.objectContaining({ pending: 0, approved: 1, revenue_pending: 0, revenue_approved: 500 }),
    ]);
  });

  it('lets exactly one of approve and reject win when they race', async () => {
    const f = await createFixture();
    const params = { click_id: await mintClick(f), order_id: 'C-3', key: f.postbackKey };
    const created = await getPostback('/postback', params);
    const answers = await Promise.all([
      getPostback('/postback', { ...params, status: 'approved' }),
      getPostback('/postback', { ...params, status: 'rejected' }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const events = await eventsOf(created.body.conversion_id);
    expect(events).toHaveLength(2);
    const [stats] = await statsOf(f.offerId);
    expect(Number(stats?.approved) + Number(stats?.rejected)).toBe(1);
    expect(stats?.pending).toBe(0);
  });
});
