// The operator overview's reads: the breakdowns by offer and by publisher, one statement per
// rollup table, equal the per-key groupings the reports read.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ClickGroupRow, type ConversionGroupRow, scopedRollupStatements } from '../../src/db/portal';
import type { DayRange } from '../../src/portal/format';
import { loadOverview } from '../../src/portal/overview';

const DAY_MS = 86_400_000;
const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * DAY_MS).toISOString().slice(0, 10);

/** A fixed pseudo-random integer in [0, n) for a cell, so a failing run repeats exactly. */
const pick = (n: number, ...parts: number[]) => {
  let h = 2166136261;
  for (const p of parts) h = Math.imul(h ^ (p + 0x9e3779b9), 16777619) >>> 0;
  return h % n;
};

interface ClickCell {
  day: string;
  offer_id: number;
  publisher_id: number;
  clicks: number;
  unique_clicks: number;
  bot_clicks: number;
}

interface ConversionCell {
  day: string;
  offer_id: number;
  publisher_id: number;
  currency: string;
  pending: number;
  approved: number;
  rejected: number;
  reversed: number;
  revenue_pending: number;
  revenue_approved: number;
  payout_pending: number;
  payout_approved: number;
}

/** Rollup rows as the JSON arrays an INSERT ... SELECT FROM json_each(?) reads, one statement per table. */
async function insertRollups(clicks: ClickCell[], conversions: ConversionCell[]): Promise<void> {
  const clickColumns = ['day', 'offer_id', 'publisher_id', 'clicks', 'unique_clicks', 'bot_clicks'] as const;
  const conversionColumns = [
    'day',
    'offer_id',
    'publisher_id',
    'currency',
    'pending',
    'approved',
    'rejected',
    'reversed',
    'revenue_pending',
    'revenue_approved',
    'payout_pending',
    'payout_approved',
  ] as const;
  const insert = (table: string, columns: readonly string[], rows: unknown[][]) =>
    env.DB.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map((_, i) => `value ->> ${i}`).join(', ')} FROM json_each(?)`,
    ).bind(JSON.stringify(rows));
  await env.DB.batch([
    insert(
      'daily_click_stats',
      clickColumns,
      clicks.map((row) => clickColumns.map((c) => row[c])),
    ),
    insert(
      'daily_conversion_stats',
      conversionColumns,
      conversions.map((row) => conversionColumns.map((c) => row[c])),
    ),
  ]);
}

describe('breakdowns by offer and by publisher', () => {
  // 45 days x 7 offers x 11 publishers, some cells empty, conversions in one or two of three
  // currencies (JPY has no minor unit), money up to about 10^12 minor units a cell.
  beforeAll(async () => {
    const clicks: ClickCell[] = [];
    const conversions: ConversionCell[] = [];
    for (let d = 0; d < 45; d++) {
      for (let offer = 101; offer <= 107; offer++) {
        for (let publisher = 201; publisher <= 211; publisher++) {
          if (pick(5, d, offer, publisher) === 0) continue;
          const n = pick(5000, d, offer, publisher, 1);
          clicks.push({
            day: day(d),
            offer_id: offer,
            publisher_id: publisher,
            clicks: n,
            unique_clicks: Math.floor(n / 2),
            bot_clicks: n % 7,
          });
          for (const currency of ['EUR', 'USD', 'JPY']) {
            if (pick(3, d, offer, publisher, currency.charCodeAt(0)) !== 0) continue;
            const m = (k: number) => pick(1_000_000_007, d, offer, publisher, currency.charCodeAt(1), k) * 1000 + k;
            conversions.push({
              day: day(d),
              offer_id: offer,
              publisher_id: publisher,
              currency,
              pending: pick(9, d, offer, publisher, 2),
              approved: pick(9, d, offer, publisher, 3),
              rejected: pick(3, d, offer, publisher, 4),
              reversed: pick(2, d, offer, publisher, 5),
              revenue_pending: m(6),
              revenue_approved: m(7),
              payout_pending: m(8),
              payout_approved: m(9),
            });
          }
        }
      }
    }
    await insertRollups(clicks, conversions);
  });

  /** What the reports read for one key: one grouped statement per table (src/db/portal.ts). */
  async function reportsRead(range: DayRange, group: 'offer' | 'publisher') {
    const [clicks, conversions] = await env.DB.batch(scopedRollupStatements(env.DB, {}, range, group));
    const byKeyAndCurrency = (a: ConversionGroupRow, b: ConversionGroupRow) =>
      Number(a.key) - Number(b.key) || a.currency.localeCompare(b.currency);
    return [
      (clicks?.results ?? []) as ClickGroupRow[],
      ((conversions?.results ?? []) as ConversionGroupRow[]).sort(byKeyAndCurrency),
    ];
  }

  for (const range of [
    { from: day(10), to: day(39) },
    { from: day(0), to: day(44) },
    { from: day(20), to: day(20) },
  ]) {
    it(`equal the reports' groupings, line for line, from ${range.from} to ${range.to}`, async () => {
      const overview = await loadOverview(env.DB, range);
      expect(overview.byOffer).toEqual(await reportsRead(range, 'offer'));
      expect(overview.byPublisher).toEqual(await reportsRead(range, 'publisher'));
      expect(overview.byOffer[0]).toHaveLength(7);
      expect(overview.byPublisher[0]).toHaveLength(11);
      for (const line of [...overview.byOffer[1], ...overview.byPublisher[1]]) {
        expect(Number.isSafeInteger(line.revenue) && Number.isSafeInteger(line.payout)).toBe(true);
      }
    });
  }

  it('are empty for a range without rollups', async () => {
    const overview = await loadOverview(env.DB, { from: day(100), to: day(120) });
    expect(overview.byOffer).toEqual([[], []]);
    expect(overview.byPublisher).toEqual([[], []]);
  });
});
