// Reports by sub ID: a publisher's conversions and payout per value of one of sub1..sub6 (the
// tracking values the publisher put on its links). Clicks are not rolled up by sub ID, so these
// rows count conversions only, and revenue is never read: the report is the publisher's view.
// One range of conversions_publisher_time (publisher, created_at), grouped; its cost grows with
// the publisher's conversions in the range, never with clicks or with other parties' rows.
// Payout sums are exact at any size (exactSumSql, read back as bigints).
import { exactSumSql, minorOf } from './rollups';

export const SUB_KEYS = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'sub6'] as const;
export type SubKey = (typeof SUB_KEYS)[number];

export const isSubKey = (value: string): value is SubKey => (SUB_KEYS as readonly string[]).includes(value);

/** At most this many groups are answered (distinct sub values x offers x currencies). */
export const SUB_REPORT_LIMIT = 5000;

export interface SubIdRow {
  /** The sub value; null for conversions whose click carried none. */
  value: string | null;
  offer_id?: number;
  currency: string;
  pending: number;
  approved: number;
  rejected: number;
  reversed: number;
  /** Pending + approved payout, minor units of `currency`. */
  payout: bigint;
  payout_approved: bigint;
}

/**
 * ?1 publisher, ?2..?3 created_at range [from, to), ?4 offer or NULL, ?5 row limit. `sub` comes
 * from SUB_KEYS only (it names a column).
 */
export function subIdReportSql(sub: SubKey, byOffer: boolean): string {
  const offer = byOffer ? 'offer_id, ' : '';
  return `SELECT ${sub} AS value, ${offer}payout_currency AS currency,
      SUM(status = 'pending') AS pending, SUM(status = 'approved') AS approved,
      SUM(status = 'rejected') AS rejected, SUM(status = 'reversed') AS reversed,
      ${exactSumSql("CASE WHEN status IN ('pending', 'approved') THEN payout ELSE 0 END", 'payout')},
      ${exactSumSql("CASE WHEN status = 'approved' THEN payout ELSE 0 END", 'payout_approved')}
    FROM conversions
    WHERE publisher_id = ?1 AND created_at >= ?2 AND created_at < ?3 AND (?4 IS NULL OR offer_id = ?4)
    GROUP BY ${sub}, ${offer}payout_currency ORDER BY ${sub}, ${offer}payout_currency LIMIT ?5`;
}

export const subIdReportStatement = (
  db: D1Database,
  query: { sub: SubKey; byOffer: boolean; publisherId: number; from: string; to: string; offerId?: number },
): D1PreparedStatement =>
  db
    .prepare(subIdReportSql(query.sub, query.byOffer))
    .bind(query.publisherId, query.from, query.to, query.offerId ?? null, SUB_REPORT_LIMIT);

type SubIdText = Omit<SubIdRow, 'payout' | 'payout_approved'> & { payout: string; payout_approved: string };

export async function subIdReport(
  db: D1Database,
  query: Parameters<typeof subIdReportStatement>[1],
): Promise<SubIdRow[]> {
  const { results } = await subIdReportStatement(db, query).all<SubIdText>();
  return results.map((row) => ({
    ...row,
    payout: minorOf(row.payout),
    payout_approved: minorOf(row.payout_approved),
  }));
}
