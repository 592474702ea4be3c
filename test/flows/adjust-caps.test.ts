// Adjustments against payout and revenue caps (issue 22): an adjustment that raises payout (or
// revenue) is counted against the caps that counted the conversion, in the same transaction as
// a new conversion is; one that would pass a cap is a 409 naming it with nothing written, and a
// cut gives the capacity back. The caps' use always equals what the conversions hold.
import { describe, expect, it } from 'vitest';
import { admin, adminOk, createFixture, type Fixture, worker } from '../helpers';
import { conversion, eventsOf, getPostback, mintLandedClick, statsOf } from '../postback-helpers';

type Cap = { id: number; used: string; reached: boolean; rejected_conversions: number };
type Refusal = { error: { code: string; message: string; fields: Record<string, string> } };

/** A sale (goal pays 10 % revenue, 5 % payout) of `amount`; returns its conversion id. */
async function sale(f: Fixture, order: string, amount: string): Promise<string> {
  const res = await getPostback('/postback', {
    click_id: await mintLandedClick(f),
    event: 'sale',
    order_id: order,
    amount,
    key: f.postbackKey,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.conversion_id as string;
}

const adjust = (id: string, amount: string, headers: Record<string, string> = {}) =>
  worker(`/api/v1/conversions/${id}/adjust`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ amount, reason: 'test' }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> & Refusal }));

async function capOf(f: Fixture, id: number): Promise<Cap> {
  const { data } = await adminOk<{ data: Cap[] }>('GET', `/offers/${f.offerId}/caps`);
  const cap = data.find((c) => c.id === id);
  if (!cap) throw new Error(`cap ${id} not listed`);
  return cap;
}

const addCap = (f: Fixture, body: Record<string, unknown>) =>
  adminOk<{ id: number }>('POST', `/offers/${f.offerId}/caps`, body);

/** Payout and revenue of the offer's pending conversions, as the daily rollup holds them. */
async function rollupMoney(f: Fixture) {
  const rows = await statsOf(f.offerId);
  return {
    payout: rows.reduce((sum, r) => sum + (r.payout_pending as number), 0),
    revenue: rows.reduce((sum, r) => sum + (r.revenue_pending as number), 0),
  };
}

describe('an adjustment against a payout cap', () => {
  it('that would pass the cap is refused with 409 naming it, and nothing is written', async () => {
    const f = await createFixture();
    const cap = await addCap(f, { metric: 'payout', period: 'day', limit: '5.00' });
    const first = await sale(f, 'C-1', '40.00'); // payout 2.00
    await sale(f, 'C-2', '60.00'); // payout 3.00: the cap is met
    expect(await capOf(f, cap.id)).toMatchObject({ used: '5.00', reached: true });

    const res = await adjust(first, '4000.00'); // payout would be 200.00
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error.code).toBe('cap_reached');
    expect(res.body.error.message).toContain(`cap ${cap.id} (payout ≤ 5.00 EUR per day; 5.00 EUR used`);
    expect(res.body.error.fields).toEqual({ amount: `would pass cap ${cap.id}` });

    // Unchanged: 40.00, paying 2.00 and earning 4.00.
    expect(await conversion(first)).toMatchObject({ amount: 4000, payout: 200, revenue: 400, status: 'pending' });
    expect((await eventsOf(first)).map((e) => e.type)).toEqual(['conversion.created']);
    expect(await capOf(f, cap.id)).toMatchObject({ used: '5.00', rejected_conversions: 0 });
    expect(await rollupMoney(f)).toEqual({ payout: 500, revenue: 1000 });
  });

  it('is counted when it fits, and a cut gives the capacity back', async () => {
    const f = await createFixture();
    const cap = await addCap(f, { metric: 'payout', period: 'lifetime', limit: '5.00' });
    const id = await sale(f, 'D-1', '40.00'); // payout 2.00

    const up = await adjust(id, '100.00'); // payout 5.00: meets the cap exactly
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body).toMatchObject({ payout: '5.00', previous: { payout: '2.00' } });
    expect(await capOf(f, cap.id)).toMatchObject({ used: '5.00', reached: true });
    // The cap is full: a new sale is refused as before.
    const refused = await getPostback('/postback', {
      click_id: await mintLandedClick(f),
      event: 'sale',
      order_id: 'D-2',
      amount: '20.00',
      key: f.postbackKey,
    });
    expect(refused.body).toMatchObject({ conversion_status: 'rejected' });

    const down = await adjust(id, '30.00'); // payout 1.50
    expect(down.status).toBe(200);
    expect(await capOf(f, cap.id)).toMatchObject({ used: '1.50' });
    expect(await rollupMoney(f)).toEqual({ payout: 150, revenue: 300 });
    // The capacity given back takes a new sale again.
    expect(await conversion(await sale(f, 'D-3', '60.00'))).toMatchObject({ status: 'pending', payout: 300 });
    expect(await capOf(f, cap.id)).toMatchObject({ used: '4.50' });
  });

  it('concurrent raises cannot overshoot the cap', async () => {
    const f = await createFixture();
    const cap = await addCap(f, { metric: 'payout', period: 'lifetime', limit: '10.00' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await sale(f, `E-${i}`, '20.00')); // payout 1.00 each: 5.00 used
    // Each raise adds 2.00 (to 3.00): room for two of the five.
    const answers = await Promise.all(ids.map((id) => adjust(id, '60.00')));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 409, 409, 409]);
    expect(await capOf(f, cap.id)).toMatchObject({ used: '9.00' });
    const payouts = await Promise.all(ids.map(async (id) => (await conversion(id))?.payout as number));
    expect(payouts.reduce((a, b) => a + b, 0)).toBe(900);
    expect((await rollupMoney(f)).payout).toBe(900);
  });

  it('moves only the caps that counted the conversion: not a cap created after it', async () => {
    const f = await createFixture();
    const id = await sale(f, 'G-1', '40.00'); // payout 2.00, no cap yet
    const cap = await addCap(f, { metric: 'payout', period: 'lifetime', limit: '3.00' });
    // The cap never counted this conversion: raising it neither passes nor moves the cap.
    expect((await adjust(id, '100.00')).status).toBe(200);
    expect(await capOf(f, cap.id)).toMatchObject({ used: '0.00', reached: false });
  });
});

describe('an adjustment against a revenue cap', () => {
  it('is refused past the cap, naming it', async () => {
    const f = await createFixture();
    const revenueCap = await addCap(f, { metric: 'revenue', period: 'lifetime', limit: '20.00' });
    const id = await sale(f, 'R-1', '100.00'); // revenue 10.00, payout 5.00
    const res = await adjust(id, '300.00'); // revenue 30.00
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain(`cap ${revenueCap.id} (revenue ≤ 20.00 EUR lifetime`);
    expect(await capOf(f, revenueCap.id)).toMatchObject({ used: '10.00' });
  });

  it('tells an advertiser which payout cap refused it, without its amounts', async () => {
    const f = await createFixture();
    const payoutCap = await addCap(f, { metric: 'payout', period: 'lifetime', limit: '6.00' });
    const id = await sale(f, 'R-2', '100.00'); // payout 5.00
    const key = await adminOk<{ key: string }>('POST', '/api-keys', {
      role: 'advertiser',
      advertiser_id: f.advertiserId,
      name: 'shop key',
    });
    const byAdvertiser = await adjust(id, '200.00', { authorization: `Bearer ${key.key}` }); // payout 10.00
    expect(byAdvertiser.status).toBe(409);
    expect(byAdvertiser.body.error.message).toBe(
      `The adjustment would pass cap ${payoutCap.id} (payout, lifetime); nothing was changed`,
    );
    expect((await admin('GET', `/conversions/${id}`)).body).toMatchObject({ revenue: '10.00', payout: '5.00' });
  });
});
