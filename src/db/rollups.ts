// The rollups read model: click and conversion totals over a range of days, optionally for one
// offer or publisher, grouped by any of day, offer and publisher. Days are those of a time zone:
// where the zone sits at UTC+00:00 for the whole range the daily tables answer (one row per day
// and pair); elsewhere the quarter-hour tables of migration 0012, each quarter given to the local
// day its instant falls on. Shared by the reports API and the dashboard; its cost depends on
// days (or quarters) x offers x publishers (x currencies), never on raw click counts.
//
// Money sums are exact at any size. A rollup cell is an SQLite integer (64 bits), but a sum of
// cells can pass 2^53, where a JavaScript number starts losing cents, and 2^63, where SQLite's
// SUM fails. So each money column is summed in two parts, value / 2^32 and value % 2^32, each of
// which stays far inside 64 bits for any number of rows a report reads, and the parts come back
// as text ('high:low') that minorOf joins into a bigint.
import { DAY_MS, utcDay } from '../lib/time';
import { fromWallTime, zoneOffset } from '../lib/timezone';
import type { StatsColumn } from './conversions';
import { QUARTER_MS } from './quarter-stats';

export type RollupGroup = 'day' | 'offer_id' | 'publisher_id';

export interface RollupRange {
  /** First and last day, inclusive, in `zone`. */
  from: string;
  to: string;
  /** IANA time zone the days are in (default UTC). */
  zone?: string;
  offer_id?: number;
  publisher_id?: number;
  /** The advertiser's offers only (rollups are keyed by offer). */
  advertiser_id?: number;
}

export interface ClickTotals {
  clicks: number;
  unique_clicks: number;
  bot_clicks: number;
  /** Impressions (migration 0028): counted in the click rollups, never a row each. */
  impressions?: number;
}

export interface ConversionTotals {
  currency: string;
  pending: number;
  approved: number;
  rejected: number;
  reversed: number;
  /** Exact sums, minor units of `currency`. */
  revenue_pending: bigint;
  revenue_approved: bigint;
  payout_pending: bigint;
  payout_approved: bigint;
}

const MONEY_COLUMNS = ['revenue_pending', 'revenue_approved', 'payout_pending', 'payout_approved'] as const;
type MoneyColumn = (typeof MONEY_COLUMNS)[number];
const COUNT_COLUMNS = ['pending', 'approved', 'rejected', 'reversed'] as const satisfies readonly StatsColumn[];

/** A conversion totals row as D1 answers it: each money sum as 'high:low' text (exactSumSql). */
export type ConversionTotalsRow<T extends ConversionTotals = ConversionTotals> = Omit<T, MoneyColumn> &
  Record<MoneyColumn, string>;

const PART = 4_294_967_296; // 2^32
const PART_BIG = 4_294_967_296n;

/**
 * SQL for the exact sum of one or more money columns or expressions (added up per row) as
 * 'high:low' text:
 * SUM(value / 2^32) and SUM(value % 2^32). SQLite divides integers toward zero and gives the
 * remainder the value's sign, so value = high * 2^32 + low row by row and for the sums.
 */
export function exactSumSql(columns: string | readonly string[], alias: string): string {
  const list = typeof columns === 'string' ? [columns] : columns;
  const high = list.map((c) => `(${c}) / ${PART}`).join(' + ');
  const low = list.map((c) => `(${c}) % ${PART}`).join(' + ');
  return `SUM(${high}) || ':' || SUM(${low}) AS ${alias}`;
}

/** An exact sum read back from exactSumSql's text (null: no rows, 0). */
export function minorOf(text: string | null | undefined): bigint {
  if (text === null || text === undefined) return 0n;
  const [high = '0', low = '0'] = text.split(':');
  return BigInt(high) * PART_BIG + BigInt(low);
}

/**
 * The abort of a write that would take a rollup money cell past 2^63 - 1 minor units, where
 * SQLite would turn it into a float (migration 0018's triggers): nothing was written.
 */
export function isMoneyOverflowError(error: unknown): boolean {
  return error instanceof Error && /money_overflow/.test(error.message);
}

/** Conversion totals rows as D1 answered them, with their money sums as bigints. */
export function conversionTotalsOf<T extends ConversionTotals>(rows: readonly ConversionTotalsRow<T>[]): T[] {
  return rows.map((row) => {
    const money = Object.fromEntries(MONEY_COLUMNS.map((c) => [c, minorOf(row[c])]));
    return { ...row, ...money } as unknown as T;
  });
}

/** A row of a grouped read: the totals and the group's keys. */
export type Grouped<T> = T & Partial<{ day: string; offer_id: number; publisher_id: number }>;

const CLICK_COLUMNS = ['clicks', 'unique_clicks', 'bot_clicks', 'impressions'] as const;
const sumsOf = (columns: readonly string[]) => columns.map((c) => `SUM(${c}) AS ${c}`).join(', ');
const CLICK_SUMS = sumsOf(CLICK_COLUMNS);
const CONVERSION_SUMS = `currency, ${sumsOf(COUNT_COLUMNS)}, ${MONEY_COLUMNS.map((c) => exactSumSql(c, c)).join(', ')}`;

type Filter = 'offer_id' | 'publisher_id' | 'advertiser_id';

/** A filter as SQL on parameter ?n: an advertiser's rows are those of its offers. */
const filterSql = (f: Filter, n: number) =>
  f === 'advertiser_id' ? `offer_id IN (SELECT id FROM offers WHERE advertiser_id = ?${n})` : `${f} = ?${n}`;

/**
 * One rollup read as SQL: ?1 and ?2 are the first and last day, then one numbered parameter per
 * filter, in the order given. Exported so tests can check the query plans.
 */
export function rollupSql(
  table: 'daily_click_stats' | 'daily_conversion_stats',
  groups: readonly RollupGroup[],
  filters: readonly Filter[] = [],
): string {
  const keys = table === 'daily_conversion_stats' ? [...groups, 'currency'] : [...groups];
  const select = groups.length > 0 ? `${groups.join(', ')}, ` : '';
  const sums = table === 'daily_click_stats' ? CLICK_SUMS : CONVERSION_SUMS;
  const where = ['day BETWEEN ?1 AND ?2', ...filters.map((f, i) => filterSql(f, i + 3))].join(' AND ');
  const groupBy = keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : '';
  return `SELECT ${select}${sums} FROM ${table} WHERE ${where}${groupBy}`;
}

/** Conversions of one UTC day by status, in every currency. */
export type DayConversionCounts = Pick<ConversionTotals, 'pending' | 'approved' | 'rejected' | 'reversed'> & {
  day: string;
};

/**
 * Conversions counted per UTC day (?1..?2) by status, all currencies together and without
 * money (counts add across currencies, money does not). Grouped by the primary key's first
 * column, so the range is read in order and nothing is sorted; grouping by day and currency
 * would sort every row of the range. Exported so tests can check the query plan.
 */
export const CONVERSION_COUNTS_BY_DAY_SQL = `SELECT day, ${sumsOf(['pending', 'approved', 'rejected', 'reversed'])}
  FROM daily_conversion_stats WHERE day BETWEEN ?1 AND ?2 GROUP BY day`;

/** The keys a breakdown read totals by, each on its own. */
export type BreakdownKey = 'offer_id' | 'publisher_id';

/** A line of a breakdown read: the totals of one offer or of one publisher (and currency). */
export type BreakdownRow<T> = T & { grouped_by: BreakdownKey; key: number };

/**
 * Totals of a range of UTC days (?1..?2) by offer and, apart, by publisher, from one read of
 * the range: its rows are grouped by offer and publisher (one sort of every row in the range),
 * and that much smaller result is grouped again by each key. Reading the range once per key
 * would read and sort every row of it twice. Lines ordered by grouped_by, key (and currency).
 * Exported so tests can check the query plans.
 */
export function breakdownSql(table: 'daily_click_stats' | 'daily_conversion_stats'): string {
  const conversions = table === 'daily_conversion_stats';
  const currency = conversions ? ', currency' : '';
  // The pairs keep each money sum in its two parts (exactSumSql), summed again per key.
  const sums = conversions
    ? `currency, ${sumsOf(COUNT_COLUMNS)}, ${MONEY_COLUMNS.map(
        (c) => `SUM(${c} / ${PART}) AS ${c}_high, SUM(${c} % ${PART}) AS ${c}_low`,
      ).join(', ')}`
    : CLICK_SUMS;
  const resums = conversions
    ? `currency, ${sumsOf(COUNT_COLUMNS)}, ${MONEY_COLUMNS.map(
        (c) => `SUM(${c}_high) || ':' || SUM(${c}_low) AS ${c}`,
      ).join(', ')}`
    : sumsOf(CLICK_COLUMNS);
  return `WITH pairs AS MATERIALIZED (
      SELECT offer_id, publisher_id, ${sums} FROM ${table} WHERE day BETWEEN ?1 AND ?2
      GROUP BY offer_id, publisher_id${currency})
    SELECT 'offer_id' AS grouped_by, offer_id AS key, ${resums} FROM pairs GROUP BY offer_id${currency}
    UNION ALL
    SELECT 'publisher_id', publisher_id, ${resums} FROM pairs GROUP BY publisher_id${currency}
    ORDER BY grouped_by, key${currency}`;
}

/** A span of quarters [from, to) during which the zone keeps one UTC offset (in seconds). */
export interface OffsetSpan {
  from: number;
  to: number;
  offset: number;
}

/** How a range is read: whole UTC days from the daily tables, or quarters with their offsets. */
export type RollupPlan =
  | { kind: 'daily'; from: string; to: string }
  | { kind: 'quarters'; from: number; to: number; spans: OffsetSpan[] };

const nextDay = (day: string) => utcDay(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
const wallDate = (day: string): [number, number, number] => {
  const [y, m, d] = day.split('-').map(Number);
  return [y ?? 1970, m ?? 1, d ?? 1];
};
const offsetSeconds = (ms: number, zone: string) => Math.round(zoneOffset(ms, zone) / 1000);

/**
 * The quarters a zone's local days `from`..`to` cover and where its offset changes inside them.
 * The offset is sampled once a day and a change is narrowed to its quarter by bisection (about
 * 7 more samples), so a two-year range costs some 740 Intl calls, not one per quarter.
 */
export function rollupPlan(range: Pick<RollupRange, 'from' | 'to' | 'zone'>): RollupPlan {
  const zone = range.zone ?? 'UTC';
  if (zone === 'UTC') return { kind: 'daily', from: range.from, to: range.to };
  const startMs = fromWallTime(...wallDate(range.from), zone);
  const endMs = fromWallTime(...wallDate(nextDay(range.to)), zone);
  const first = Math.floor(startMs / QUARTER_MS);
  const last = Math.ceil(endMs / QUARTER_MS);
  const spans: OffsetSpan[] = [];
  let spanStart = first;
  let offset = offsetSeconds(first * QUARTER_MS, zone);
  for (let probe = first; probe < last; ) {
    const next = Math.min(probe + 96, last - 1);
    const nextOffset = offsetSeconds(next * QUARTER_MS, zone);
    if (nextOffset === offset || next === probe) {
      probe = next === probe ? last : next;
      continue;
    }
    // The offset changed in (probe, next]: find the first quarter with the new one.
    let low = probe;
    let high = next;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (offsetSeconds(mid * QUARTER_MS, zone) === offset) low = mid;
      else high = mid;
    }
    spans.push({ from: spanStart, to: high, offset });
    spanStart = high;
    offset = offsetSeconds(high * QUARTER_MS, zone);
    probe = high;
  }
  spans.push({ from: spanStart, to: last, offset });
  if (spans.length === 1 && offset === 0) return { kind: 'daily', from: range.from, to: range.to };
  return { kind: 'quarters', from: first, to: last, spans };
}

type Table = 'click' | 'conversion';
const DAILY = { click: 'daily_click_stats', conversion: 'daily_conversion_stats' } as const;
const QUARTERS = { click: 'quarter_click_stats', conversion: 'quarter_conversion_stats' } as const;

/** The local day of a quarter: its instant plus the offset in force then (integers we computed). */
function localDaySql(spans: readonly OffsetSpan[]): string {
  const offset =
    spans.length === 1
      ? String(spans[0]?.offset ?? 0)
      : `CASE ${spans
          .slice(0, -1)
          .map((s) => `WHEN quarter < ${s.to} THEN ${s.offset}`)
          .join(' ')} ELSE ${spans.at(-1)?.offset ?? 0} END`;
  return `date(quarter * 900 + ${offset}, 'unixepoch')`;
}

/**
 * A quarter-table read as SQL: ?1 and ?2 are the first quarter and the one after the last, then
 * one numbered parameter per filter. Exported so tests can check the query plans.
 */
export function zonedRollupSql(
  table: 'quarter_click_stats' | 'quarter_conversion_stats',
  groups: readonly RollupGroup[],
  filters: readonly Filter[],
  spans: readonly OffsetSpan[],
): string {
  const keys = table === 'quarter_conversion_stats' ? [...groups, 'currency'] : [...groups];
  const columns = groups.map((g) => (g === 'day' ? `${localDaySql(spans)} AS day` : g));
  const select = columns.length > 0 ? `${columns.join(', ')}, ` : '';
  const sums = table === 'quarter_click_stats' ? CLICK_SUMS : CONVERSION_SUMS;
  const where = ['quarter >= ?1 AND quarter < ?2', ...filters.map((f, i) => filterSql(f, i + 3))].join(' AND ');
  const groupBy = keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : '';
  return `SELECT ${select}${sums} FROM ${table} WHERE ${where}${groupBy}`;
}

function rollupStatement(
  db: D1Database,
  table: Table,
  range: RollupRange,
  groups: readonly RollupGroup[],
  plan: RollupPlan = rollupPlan(range),
): D1PreparedStatement {
  const filters = (['offer_id', 'publisher_id', 'advertiser_id'] as const).filter((f) => range[f] !== undefined);
  const values = filters.map((f) => range[f]);
  if (plan.kind === 'daily') {
    return db.prepare(rollupSql(DAILY[table], groups, filters)).bind(plan.from, plan.to, ...values);
  }
  return db.prepare(zonedRollupSql(QUARTERS[table], groups, filters, plan.spans)).bind(plan.from, plan.to, ...values);
}

export const clickTotalsStatement = (
  db: D1Database,
  range: RollupRange,
  groups: readonly RollupGroup[],
  plan?: RollupPlan,
) => rollupStatement(db, 'click', range, groups, plan);

/**
 * Conversion totals are always grouped by currency as well: money never adds across currencies.
 * Its rows hold the money sums as text: read them with conversionTotalsOf.
 */
export const conversionTotalsStatement = (
  db: D1Database,
  range: RollupRange,
  groups: readonly RollupGroup[],
  plan?: RollupPlan,
) => rollupStatement(db, 'conversion', range, groups, plan);

export const conversionCountsByDayStatement = (db: D1Database, range: { from: string; to: string }) =>
  db.prepare(CONVERSION_COUNTS_BY_DAY_SQL).bind(range.from, range.to);

/** Click totals by offer and by publisher over a range of UTC days (see breakdownSql). */
export const clickBreakdownStatement = (db: D1Database, range: { from: string; to: string }) =>
  db.prepare(breakdownSql(DAILY.click)).bind(range.from, range.to);

/** Conversion totals by offer and by publisher, per currency, over a range of UTC days (rows: conversionTotalsOf). */
export const conversionBreakdownStatement = (db: D1Database, range: { from: string; to: string }) =>
  db.prepare(breakdownSql(DAILY.conversion)).bind(range.from, range.to);

/**
 * Click and conversion totals of a range in one batch (one consistent snapshot). Groups
 * without rows are left out; an ungrouped read of an empty range has no rows either.
 */
export async function readRollups(
  db: D1Database,
  range: RollupRange,
  groups: readonly RollupGroup[],
): Promise<{ clicks: Grouped<ClickTotals>[]; conversions: Grouped<ConversionTotals>[] }> {
  const plan = rollupPlan(range);
  const [clicks, conversions] = await db.batch([
    clickTotalsStatement(db, range, groups, plan),
    conversionTotalsStatement(db, range, groups, plan),
  ]);
  return {
    // SUM over no rows is NULL: an ungrouped read of an empty range answers one row of NULLs.
    clicks: ((clicks?.results ?? []) as Grouped<ClickTotals>[]).filter((row) => row.clicks !== null),
    conversions: conversionTotalsOf(
      ((conversions?.results ?? []) as ConversionTotalsRow<Grouped<ConversionTotals>>[]).filter(
        (row) => row.currency !== null,
      ),
    ),
  };
}
