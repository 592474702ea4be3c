// Writers of quarter_click_stats and quarter_conversion_stats (migration 0012): the 15-minute
// rollups that let reports serve any time zone. Called beside the daily rollup writers, in the
// same batch, so both count the same clicks and conversions exactly once. (Not triggers: D1
// counts a trigger's rows in meta.changes, which the conversion insert reads as its dedup verdict.)
import { STATS_COLUMNS, type StatsColumn, type StatsKey } from './conversions';

/** The 15-minute bucket of an instant: unixepoch / 900, as the SQL side computes it. */
export const QUARTER_MS = 900_000;
export const quarterOf = (ms: number) => Math.floor(ms / QUARTER_MS);

const ADD_CLICKS = `ON CONFLICT (quarter, offer_id, publisher_id) DO UPDATE SET
         clicks = clicks + excluded.clicks,
         unique_clicks = unique_clicks + excluded.unique_clicks,
         bot_clicks = bot_clicks + excluded.bot_clicks`;

/** Counts the D1 clicks one ingest batch inserted (the quarter twin of the daily rollup). */
export const quarterClicksOfBatchStatement = (db: D1Database, batchId: string) =>
  db
    .prepare(
      `INSERT INTO quarter_click_stats (quarter, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
       SELECT unixepoch(clicked_at) / 900, offer_id, publisher_id, SUM(is_bot = 0), SUM(is_unique), SUM(is_bot)
       FROM clicks WHERE ingest_batch = ? GROUP BY 1, 2, 3
       ${ADD_CLICKS}`,
    )
    .bind(batchId);

/**
 * Takes one unique click off the quarter of each click `demotedSql` selects (columns click_id,
 * clicked_at, offer_id, publisher_id; its one parameter ?1 is the batch id). Must run before the
 * demotion's UPDATE, like the daily one.
 */
export const quarterUnrollDemotedStatement = (db: D1Database, demotedSql: string, batchId: string) =>
  db
    .prepare(
      `INSERT INTO quarter_click_stats (quarter, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
       SELECT unixepoch(clicked_at) / 900, offer_id, publisher_id, 0, -COUNT(*), 0
       FROM (${demotedSql}) GROUP BY 1, 2, 3
       ON CONFLICT (quarter, offer_id, publisher_id) DO UPDATE SET
         unique_clicks = unique_clicks + excluded.unique_clicks`,
    )
    .bind(batchId);

const CONVERSION_COLUMNS = STATS_COLUMNS;

/**
 * The quarter twin of addConversionStatsStatement: adds `delta` to the conversion's quarter row,
 * only when the conversion `conversionId` exists (a duplicate insert counts nothing).
 */
export function addQuarterConversionStatsStatement(
  db: D1Database,
  key: Omit<StatsKey, 'day'> & { quarter: number },
  delta: Partial<Record<StatsColumn, number>>,
  conversionId: string,
): D1PreparedStatement {
  const columns = CONVERSION_COLUMNS.join(', ');
  return db
    .prepare(
      `INSERT INTO quarter_conversion_stats (quarter, offer_id, publisher_id, currency, ${columns})
       SELECT ?, ?, ?, ?, ${CONVERSION_COLUMNS.map(() => '?').join(', ')}
       WHERE EXISTS (SELECT 1 FROM conversions WHERE id = ?)
       ON CONFLICT (quarter, offer_id, publisher_id, currency) DO UPDATE SET
         ${CONVERSION_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(',\n         ')}`,
    )
    .bind(
      key.quarter,
      key.offer_id,
      key.publisher_id,
      key.currency,
      ...CONVERSION_COLUMNS.map((c) => delta[c] ?? 0),
      conversionId,
    );
}
