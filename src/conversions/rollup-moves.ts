// A conversion's two rollup rows (daily, and quarter-hour for zoned reports) moved by a delta,
// for the batch that changes the conversion: its creation, a status change, an adjustment, or
// the hold its landed click decides (src/clicks/completion.ts).
import { addConversionStatsStatement, type ConversionRow, type StatsColumn, type StatsKey } from '../db/conversions';
import { addQuarterConversionStatsStatement, quarterOf } from '../db/quarter-stats';
import { utcDay } from '../lib/time';

type Keyed = Pick<ConversionRow, 'id' | 'created_at' | 'offer_id' | 'publisher_id' | 'payout_currency'>;

const statsKey = (cv: Keyed): StatsKey => ({
  day: utcDay(cv.created_at),
  offer_id: cv.offer_id,
  publisher_id: cv.publisher_id,
  currency: cv.payout_currency,
});

/** Both rollup rows moved by `delta`, in the caller's batch, and only if the conversion exists. */
export const rollupStatements = (
  db: D1Database,
  cv: Keyed,
  delta: Partial<Record<StatsColumn, number>>,
): D1PreparedStatement[] => {
  const key = statsKey(cv);
  return [
    addConversionStatsStatement(db, key, delta, cv.id),
    addQuarterConversionStatsStatement(db, { ...key, quarter: quarterOf(Date.parse(cv.created_at)) }, delta, cv.id),
  ];
};
