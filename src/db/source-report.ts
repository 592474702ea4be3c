// Reports by source (issue 23): conversions counted and summed per `source` ('server', 'browser',
// 'claim'), optionally per offer or publisher too, over a range of created_at. The rollups are not
// kept by source, so this reads the range of conversions_time (created_at): its cost grows with
// the conversions in the range, never with clicks or impressions.

export type SourceGroup = 'offer_id' | 'publisher_id';

/** At most this many groups are answered (sources x offers or publishers x currencies). */
export const SOURCE_REPORT_LIMIT = 5000;

export interface SourceRow {
  source: string;
  offer_id?: number;
  publisher_id?: number;
  currency: string;
  pending: number;
  approved: number;
  rejected: number;
  reversed: number;
  revenue: number;
  revenue_approved: number;
  payout: number;
  payout_approved: number;
}

export interface SourceReportQuery {
  groups: readonly SourceGroup[];
  /** created_at range [from, to), ISO. */
  from: string;
  to: string;
  offerId?: number;
  publisherId?: number;
  advertiserId?: number;
}

/** ?1..?2 created_at range, ?3 offer, ?4 publisher, ?5 advertiser (each NULL: any), ?6 limit. */
export function sourceReportSql(groups: readonly SourceGroup[]): string {
  const keys = ['source', ...groups, 'payout_currency'].join(', ');
  const extra = groups.map((g) => `${g}, `).join('');
  return `SELECT source, ${extra}payout_currency AS currency,
      SUM(status = 'pending') AS pending, SUM(status = 'approved') AS approved,
      SUM(status = 'rejected') AS rejected, SUM(status = 'reversed') AS reversed,
      SUM(CASE WHEN status IN ('pending', 'approved') THEN revenue ELSE 0 END) AS revenue,
      SUM(CASE WHEN status = 'approved' THEN revenue ELSE 0 END) AS revenue_approved,
      SUM(CASE WHEN status IN ('pending', 'approved') THEN payout ELSE 0 END) AS payout,
      SUM(CASE WHEN status = 'approved' THEN payout ELSE 0 END) AS payout_approved
    FROM conversions
    WHERE created_at >= ?1 AND created_at < ?2 AND (?3 IS NULL OR offer_id = ?3)
      AND (?4 IS NULL OR publisher_id = ?4) AND (?5 IS NULL OR advertiser_id = ?5)
    GROUP BY ${keys} ORDER BY ${keys} LIMIT ?6`;
}

export const sourceReportStatement = (db: D1Database, query: SourceReportQuery): D1PreparedStatement =>
  db
    .prepare(sourceReportSql(query.groups))
    .bind(
      query.from,
      query.to,
      query.offerId ?? null,
      query.publisherId ?? null,
      query.advertiserId ?? null,
      SOURCE_REPORT_LIMIT,
    );

export async function sourceReport(db: D1Database, query: SourceReportQuery): Promise<SourceRow[]> {
  return (await sourceReportStatement(db, query).all<SourceRow>()).results;
}
