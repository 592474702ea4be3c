// Report money stays exact past 2^53 minor units (issue 22): rollup sums are read as text in
// two parts and added as bigints (src/db/rollups.ts), so a total that a JavaScript number would
// round (9007199254740993 -> ...992) reads to the cent, in the reports API (UTC days from the
// daily rollups, zoned days from the quarter-hour ones), the portal's reports and the operator
// overview; a sum past 2^63, where SQLite's own SUM fails, too.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { conversionGroupRows, scopedRollupStatements } from '../../src/db/portal';
import { divideRounded, formatAmount } from '../../src/lib/money';
import { loadOverview } from '../../src/portal/overview';
import { adminOk, createFixture, type Fixture } from '../helpers';
import { conversionsOfOffer, getPostback, mintLandedClick } from '../postback-helpers';

const BELOW_2_53 = 9_007_199_254_740_991n; // 2^53 - 1
const QUARTER_OF = (day: string) => Date.parse(`${day}T12:00:00Z`) / 900_000;

/**
 * One conversion rollup cell per day (daily and quarter-hour tables alike) with these payouts
 * (pending) and revenues (approved), written as SQL integers so no value passes through a
 * JavaScript number; and 3 clicks a day (both tables too).
 */
async function cells(f: Fixture, days: string[], payouts: bigint[], revenues: bigint[]) {
  const statements = days.flatMap((day, i) => [
    env.DB.prepare(
      `INSERT INTO daily_conversion_stats (day, offer_id, publisher_id, currency, pending, approved,
         payout_pending, revenue_approved) VALUES (?, ?, ?, 'EUR', 1, 1, ${payouts[i]}, ${revenues[i]})`,
    ).bind(day, f.offerId, f.publisherId),
    env.DB.prepare(
      `INSERT INTO quarter_conversion_stats (quarter, offer_id, publisher_id, currency, pending, approved,
         payout_pending, revenue_approved) VALUES (?, ?, ?, 'EUR', 1, 1, ${payouts[i]}, ${revenues[i]})`,
    ).bind(QUARTER_OF(day), f.offerId, f.publisherId),
    env.DB.prepare(
      'INSERT INTO daily_click_stats (day, offer_id, publisher_id, clicks, unique_clicks, bot_clicks) VALUES (?, ?, ?, 3, 3, 0)',
    ).bind(day, f.offerId, f.publisherId),
    env.DB.prepare(
      'INSERT INTO quarter_click_stats (quarter, offer_id, publisher_id, clicks, unique_clicks, bot_clicks) VALUES (?, ?, ?, 3, 3, 0)',
    ).bind(QUARTER_OF(day), f.offerId, f.publisherId),
  ]);
  await env.DB.batch(statements);
}

type Row = { payout: string; payout_approved: string; revenue: string; revenue_approved: string; epc: string };

const report = (f: Fixture, from: string, to: string, extra = '') =>
  adminOk<{ data: Row[] }>('GET', `/reports?offer_id=${f.offerId}&from=${from}&to=${to}${extra}`);

describe('report totals past 2^53 minor units', () => {
  it('are exact to the cent in the reports API, UTC and zoned', async () => {
    const f = await createFixture();
    // 2^53 - 1 + 2 = 9007199254740993: as a number it would read ...992.
    await cells(f, ['2025-03-01', '2025-03-02'], [BELOW_2_53, 2n], [BELOW_2_53, 4n]);
    const exact = formatAmount(BELOW_2_53 + 2n, 'EUR');
    expect(exact).toBe('90071992547409.93');

    for (const zone of ['', '&timezone=Europe/Berlin']) {
      const { data } = await report(f, '2025-03-01', '2025-03-02', zone);
      expect(data).toHaveLength(1);
      expect(data[0]).toMatchObject({
        payout: exact,
        payout_approved: '0.00',
        revenue: '90071992547409.95',
        revenue_approved: '90071992547409.95',
        // 6 clicks: payout / 6, rounded half away from zero, exactly.
        epc: formatAmount(divideRounded(BELOW_2_53 + 2n, 6n), 'EUR'),
      });
    }
    expect(formatAmount(divideRounded(BELOW_2_53 + 2n, 6n), 'EUR')).toBe('15011998757901.66');
    // Grouped by day, each day is its own exact total.
    const byDay = await report(f, '2025-03-01', '2025-03-02', '&group_by=day');
    expect(byDay.data.map((r) => r.payout)).toEqual(['90071992547409.91', '0.02']);
  });

  it('are exact past 2^63, where a plain SQL SUM overflows', async () => {
    const f = await createFixture();
    const big = 2n ** 62n + 1n; // three of them pass 2^63
    await cells(f, ['2025-04-01', '2025-04-02', '2025-04-03'], [big, big, big], [1n, 1n, 1n]);
    await expect(
      env.DB.prepare('SELECT SUM(payout_pending) AS n FROM daily_conversion_stats WHERE offer_id = ?')
        .bind(f.offerId)
        .first(),
    ).rejects.toThrow(/integer overflow/);
    const { data } = await report(f, '2025-04-01', '2025-04-03');
    expect(data[0]?.payout).toBe(formatAmount(3n * big, 'EUR'));
    expect(data[0]?.payout).toBe('138350580552821637.15');
    const zoned = await report(f, '2025-04-01', '2025-04-03', '&timezone=Asia/Kolkata');
    expect(zoned.data[0]?.payout).toBe('138350580552821637.15');
  });

  it('are exact in the portal reports and the operator overview', async () => {
    const f = await createFixture();
    await cells(f, ['2025-05-01', '2025-05-02'], [BELOW_2_53, 2n], [BELOW_2_53, 4n]);
    const range = { from: '2025-05-01', to: '2025-05-02' };
    const [, conversions] = await env.DB.batch(
      scopedRollupStatements(env.DB, { publisher_id: f.publisherId }, range, 'offer'),
    );
    expect(conversionGroupRows(conversions)).toEqual([
      expect.objectContaining({ key: f.offerId, payout: BELOW_2_53 + 2n, revenue: BELOW_2_53 + 4n }),
    ]);
    const overview = await loadOverview(env.DB, range);
    expect(overview.byOffer[1].find((row) => row.key === f.offerId)).toMatchObject({
      payout: BELOW_2_53 + 2n,
      revenue: BELOW_2_53 + 4n,
    });
  });

  it('never turn a rollup cell into a float: a conversion that would pass 2^63 - 1 is refused, nothing written', async () => {
    const f = await createFixture();
    const today = new Date().toISOString().slice(0, 10);
    const nearTop = 2n ** 63n - 100n;
    await cells(f, [today], [nearTop], [0n]);
    const res = await getPostback('/postback', {
      click_id: await mintLandedClick(f),
      order_id: 'TOP-1',
      key: f.postbackKey,
    }); // lead: payout 2.00, pending
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'amount_too_large', fields: { amount: expect.any(String) } });
    expect(await conversionsOfOffer(f.offerId)).toEqual([]);
    const cell = await env.DB.prepare(
      'SELECT typeof(payout_pending) AS type, CAST(payout_pending AS TEXT) AS value FROM daily_conversion_stats WHERE offer_id = ?',
    )
      .bind(f.offerId)
      .first();
    expect(cell).toEqual({ type: 'integer', value: nearTop.toString() });
    const { data } = await report(f, today, today);
    expect(data[0]?.payout).toBe(formatAmount(nearTop, 'EUR'));
  });
});
