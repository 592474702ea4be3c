// The rollups read model: daily_click_stats and daily_conversion_stats summed over a range of
// UTC days, optionally for one offer or publisher, grouped by any of day, offer and publisher.
// Shared by the reports API and the dashboard; its cost depends on days x offers x publishers
// (x currencies), never on raw click counts.

export type RollupGroup = 'day' | 'offer_id' | 'publisher_id';

export interface RollupRange {
  /** First and last UTC day, inclusive. */
  from: string;
  to: string;
  offer_id?: number;
  publisher_id?: number;
}

export interface ClickTotals {
  clicks: number;
  unique_clicks: number;
  bot_clicks: number;
}

export interface ConversionTotals {
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

/** A row of a grouped read: the totals and the group's keys. */
export type Grouped<T> = T & Partial<{ day: string; offer_id: number; publisher_id: number }>;

const CLICK_SUMS = 'SUM(clicks) AS clicks, SUM(unique_clicks) AS unique_clicks, SUM(bot_clicks) AS bot_clicks';
const CONVERSION_SUMS = `currency, SUM(pending) AS pending, SUM(approved) AS approved, SUM(rejected) AS rejected,
      SUM(reversed) AS reversed, SUM(revenue_pending) AS revenue_pending, SUM(revenue_approved) AS revenue_approved,
      SUM(payout_pending) AS payout_pending, SUM(payout_approved) AS payout_approved`;

type Filter = 'offer_id' | 'publisher_id';

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
  const where = ['day BETWEEN ?1 AND ?2', ...filters.map((f, i) => `${f} = ?${i + 3}`)].join(' AND ');
  const groupBy = keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : '';
  return `SELECT ${select}${sums} FROM ${table} WHERE ${where}${groupBy}`;
}

function rollupStatement(
  db: D1Database,
  table: 'daily_click_stats' | 'daily_conversion_stats',
  range: RollupRange,
  groups: readonly RollupGroup[],
): D1PreparedStatement {
  const filters = (['offer_id', 'publisher_id'] as const).filter((f) => range[f] !== undefined);
  return db.prepare(rollupSql(table, groups, filters)).bind(range.from, range.to, ...filters.map((f) => range[f]));
}

export const clickTotalsStatement = (db: D1Database, range: RollupRange, groups: readonly RollupGroup[]) =>
  rollupStatement(db, 'daily_click_stats', range, groups);

/** Conversion totals are always grouped by currency as well: money never adds across currencies. */
export const conversionTotalsStatement = (db: D1Database, range: RollupRange, groups: readonly RollupGroup[]) =>
  rollupStatement(db, 'daily_conversion_stats', range, groups);

/**
 * Click and conversion totals of a range in one batch (one consistent snapshot). Groups
 * without rows are left out; an ungrouped read of an empty range has no rows either.
 */
export async function readRollups(
  db: D1Database,
  range: RollupRange,
  groups: readonly RollupGroup[],
): Promise<{ clicks: Grouped<ClickTotals>[]; conversions: Grouped<ConversionTotals>[] }> {
  const [clicks, conversions] = await db.batch([
    clickTotalsStatement(db, range, groups),
    conversionTotalsStatement(db, range, groups),
  ]);
  return {
    // SUM over no rows is NULL: an ungrouped read of an empty range answers one row of NULLs.
    clicks: ((clicks?.results ?? []) as Grouped<ClickTotals>[]).filter((row) => row.clicks !== null),
    conversions: ((conversions?.results ?? []) as Grouped<ConversionTotals>[]).filter((row) => row.currency !== null),
  };
}
