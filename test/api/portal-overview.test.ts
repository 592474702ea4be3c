// The operator overview's reads: the breakdowns by offer and by publisher, one statement per
// rollup table, equal the per-key groupings the reports read, and the failing deliveries are the
// newest of each failing status, read through deliveries_status_time whatever ANALYZE has learnt
// about the table.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { STATS_COLUMNS } from '../../src/db/conversions';
import { FAILING_DELIVERIES_SQL } from '../../src/db/deliveries';
import {
  type ClickGroupRow,
  type ConversionGroupRow,
  conversionGroupRows,
  scopedRollupStatements,
} from '../../src/db/portal';
import type { ClickTotals, ConversionTotals } from '../../src/db/rollups';
import type { DayRange } from '../../src/portal/format';
import { loadOverview, OVERVIEW_LIMIT } from '../../src/portal/overview';
import { conversionRow, goalIdOf, seedCreatedConversion, seedEndpoint, setDeliveryStatement } from '../fixtures';
import { createFixture } from '../helpers';

const DAY_MS = 86_400_000;
const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * DAY_MS).toISOString().slice(0, 10);

/** A fixed pseudo-random integer in [0, n) for a cell, so a failing run repeats exactly. */
const pick = (n: number, ...parts: number[]) => {
  let h = 2166136261;
  for (const p of parts) h = Math.imul(h ^ (p + 0x9e3779b9), 16777619) >>> 0;
  return h % n;
};

type Keys = { day: string; offer_id: number; publisher_id: number };
type ClickCell = Keys & ClickTotals;
type Money = 'revenue_pending' | 'revenue_approved' | 'payout_pending' | 'payout_approved';
/** A rollup row as stored: money cells are integers; their sums are read back as bigints. */
type ConversionCell = Keys & Omit<ConversionTotals, Money> & Record<Money, number>;

/** Rollup rows as the JSON arrays an INSERT ... SELECT FROM json_each(?) reads, one statement per table. */
async function insertRollups(clicks: ClickCell[], conversions: ConversionCell[]): Promise<void> {
  const clickColumns = ['day', 'offer_id', 'publisher_id', 'clicks', 'unique_clicks', 'bot_clicks'] as const;
  const conversionColumns = ['day', 'offer_id', 'publisher_id', 'currency', ...STATS_COLUMNS] as const;
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
    return [(clicks?.results ?? []) as ClickGroupRow[], conversionGroupRows(conversions).sort(byKeyAndCurrency)];
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
        expect([typeof line.revenue, typeof line.payout]).toEqual(['bigint', 'bigint']);
      }
    });
  }

  it('are empty for a range without rollups', async () => {
    const overview = await loadOverview(env.DB, { from: day(100), to: day(120) });
    expect(overview.byOffer).toEqual([[], []]);
    expect(overview.byPublisher).toEqual([[], []]);
  });
});

describe('failing deliveries', () => {
  const ENDPOINTS = 20;
  const CONVERSIONS = 60;
  /** Of the ENDPOINTS x CONVERSIONS deliveries, by position: a few retrying, some dead, most delivered or pending. */
  const statusOf = (i: number) =>
    i % 97 === 0 ? 'retrying' : i % 41 === 0 ? 'dead' : i % 3 === 0 ? 'pending' : 'delivered';

  // The shape that misled the planner once ANALYZE had run: many deliveries to a few dozen
  // endpoints, few of them failing. Every delivery a distinct updated_at, so "newest" is one order.
  beforeAll(async () => {
    const fixture = await createFixture();
    for (let i = 0; i < ENDPOINTS; i++)
      await seedEndpoint({ publisher_id: fixture.publisherId, url: `https://hooks.example/${i}` });
    const goalId = await goalIdOf(fixture.offerId);
    const ids: string[] = [];
    for (let i = 0; i < CONVERSIONS; i++) {
      const { deliveries } = await seedCreatedConversion(conversionRow(fixture, goalId));
      ids.push(...deliveries.map((d) => d.id));
    }
    expect(ids).toHaveLength(ENDPOINTS * CONVERSIONS);
    const start = Date.parse('2026-03-01T00:00:00Z');
    await env.DB.batch(
      ids.map((id, i) =>
        setDeliveryStatement(id, {
          status: statusOf(i),
          attempts: statusOf(i) === 'delivered' ? 1 : 3,
          updated_at: new Date(start + i * 60_000).toISOString(),
        }),
      ),
    );
  });

  /** The same rows the simplest way: every failing delivery, sorted. */
  const everyFailing = async (limit: number) =>
    (
      await env.DB.prepare(
        `SELECT id FROM deliveries WHERE status IN ('retrying', 'dead') ORDER BY updated_at DESC LIMIT ?`,
      )
        .bind(limit)
        .all<{ id: string }>()
    ).results.map((r) => r.id);

  async function plan(): Promise<string> {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${FAILING_DELIVERIES_SQL}`)
      .bind(OVERVIEW_LIMIT)
      .all<{ detail: string }>();
    return results.map((r) => r.detail).join('\n');
  }

  /** One range of deliveries_status_time per failing status, endpoints by primary key, nothing scanned. */
  function expectBounded(detail: string) {
    expect(detail.match(/SEARCH deliveries USING INDEX deliveries_status_time \(status=\?\)/g)).toHaveLength(2);
    expect(detail).toMatch(/SEARCH e USING INTEGER PRIMARY KEY/);
    expect(detail).not.toMatch(/\bSCAN (deliveries|e)\b/);
    expect(detail).not.toMatch(/deliveries_(endpoint|publisher)_time|AUTOMATIC/);
  }

  it('are the newest retrying and dead ones, each with its endpoint', async () => {
    for (const limit of [1, 5, OVERVIEW_LIMIT, 500]) {
      const { results } = await env.DB.prepare(FAILING_DELIVERIES_SQL).bind(limit).all<{ id: string }>();
      expect(results.map((r) => r.id)).toEqual(await everyFailing(limit));
    }
    const overview = await loadOverview(env.DB, { from: '2026-03-01', to: '2026-03-30' });
    expect(overview.failing.map((d) => d.id)).toEqual(await everyFailing(OVERVIEW_LIMIT));
    expect(overview.failing[0]).toMatchObject({ endpoint_url: expect.stringMatching(/^https:\/\/hooks\.example\//) });
    expect(new Set(overview.failing.map((d) => d.status))).toEqual(new Set(['retrying', 'dead']));
  });

  it('are read as bounded index ranges before and after ANALYZE', async () => {
    expectBounded(await plan());
    await env.DB.exec('ANALYZE');
    // These statistics do mislead a single range of both statuses: it walks every endpoint's
    // deliveries instead (if SQLite stops doing so, the seed no longer tests anything).
    const single = await env.DB.prepare(
      `EXPLAIN QUERY PLAN SELECT d.*, e.url FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
       WHERE d.status IN ('retrying', 'dead') ORDER BY d.updated_at DESC LIMIT ?`,
    )
      .bind(OVERVIEW_LIMIT)
      .all<{ detail: string }>();
    expect(single.results.map((r) => r.detail).join('\n')).toMatch(/SCAN e\b[\s\S]*deliveries_endpoint_time/);
    expectBounded(await plan());
    const { results } = await env.DB.prepare(FAILING_DELIVERIES_SQL).bind(OVERVIEW_LIMIT).all<{ id: string }>();
    expect(results.map((r) => r.id)).toEqual(await everyFailing(OVERVIEW_LIMIT));
  });
});
