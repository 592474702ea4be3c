// Rejected conversions split by reason and by the cap that refused them (cap_reached): the read
// model behind the reports' rejection columns and the dashboard's capped-conversions table.
// Rejections are a small share of conversions, so both reads walk an index range of
// conversions_status_time (status = 'rejected', created_at in range), never the whole table.

/** What a rejection counts under when no rule named a reason (the operator or advertiser rejected). */
export const NO_REASON = 'none';

export type RejectionGroup = 'day' | 'offer_id' | 'publisher_id';

/** A span of UTC seconds [from, to) during which the report's zone keeps one offset (seconds). */
export interface ZoneSpan {
  from: number;
  to: number;
  offset: number;
}

export interface RejectionRange {
  /** UTC instants (ISO) the range starts at and ends before. */
  from: string;
  to: string;
  offer_id?: number;
  publisher_id?: number;
  /** The advertiser's offers only (conversions carry advertiser_id). */
  advertiser_id?: number;
  /** Offsets of the report's zone over the range; day groups are local days. Default: UTC. */
  spans?: readonly ZoneSpan[];
}

export interface RejectionRow {
  day?: string;
  offer_id?: number;
  publisher_id?: number;
  currency: string;
  reason: string;
  cap_id: number | null;
  conversions: number;
}

/** The local day of a conversion: its instant plus the zone's offset then. */
function localDaySql(spans: readonly ZoneSpan[]): string {
  const at = 'unixepoch(created_at)';
  const last = spans.at(-1)?.offset ?? 0;
  const offset =
    spans.length <= 1
      ? String(last)
      : `CASE ${spans
          .slice(0, -1)
          .map((s) => `WHEN ${at} < ${Math.trunc(s.to)} THEN ${Math.trunc(s.offset)}`)
          .join(' ')} ELSE ${Math.trunc(last)} END`;
  return `date(${at} + ${offset}, 'unixepoch')`;
}

/**
 * Rejected conversions created in [?1, ?2) by group, payout currency, reason and cap; then one
 * numbered parameter per filter. Exported so tests can check the query plan.
 */
export function rejectionsSql(
  groups: readonly RejectionGroup[],
  filters: readonly ('offer_id' | 'publisher_id' | 'advertiser_id')[],
  spans: readonly ZoneSpan[] = [],
): string {
  const columns = groups.map((g) => (g === 'day' ? `${localDaySql(spans)} AS day` : g));
  const where = [
    "status = 'rejected' AND created_at >= ?1 AND created_at < ?2",
    ...filters.map((f, i) => `${f} = ?${i + 3}`),
  ];
  const keys = [...groups, 'payout_currency', 'reason', 'cap_id'];
  return `SELECT ${[...columns, 'payout_currency AS currency'].join(', ')},
      COALESCE(reason, '${NO_REASON}') AS reason, cap_id, COUNT(*) AS conversions
    FROM conversions WHERE ${where.join(' AND ')} GROUP BY ${keys.join(', ')}`;
}

export function rejectionsStatement(
  db: D1Database,
  range: RejectionRange,
  groups: readonly RejectionGroup[],
): D1PreparedStatement {
  const filters = (['offer_id', 'publisher_id', 'advertiser_id'] as const).filter((f) => range[f] !== undefined);
  return db
    .prepare(rejectionsSql(groups, filters, range.spans))
    .bind(range.from, range.to, ...filters.map((f) => range[f]));
}

export async function readRejections(
  db: D1Database,
  range: RejectionRange,
  groups: readonly RejectionGroup[],
): Promise<RejectionRow[]> {
  return (await rejectionsStatement(db, range, groups).all<RejectionRow>()).results;
}

/** A cap with the conversions it refused in a window, for the operator's overview. */
export interface CappedConversionsRow {
  cap_id: number;
  offer_id: number;
  offer_name: string | null;
  /** The offer's currency: payout and revenue limits are minor units of it. */
  offer_currency: string | null;
  /** Null: the cap applies to all publishers together; also null for a deleted cap. */
  publisher_id: number | null;
  goal_key: string | null;
  /** Null when the cap was deleted since (its refusals keep its id). */
  metric: string | null;
  period: string | null;
  cap_limit: number | null;
  conversions: number;
  last_at: string;
}

/** ?1 = the instant the window starts (ISO). Exported so tests can check the query plan. */
export const cappedConversionsSql = (limit: number) =>
  `SELECT r.cap_id, r.offer_id, o.name AS offer_name, o.currency AS offer_currency, k.publisher_id,
      g.key AS goal_key, k.metric, k.period, k.cap_limit, r.conversions, r.last_at
    FROM (SELECT cap_id, offer_id, COUNT(*) AS conversions, MAX(created_at) AS last_at FROM conversions
          WHERE status = 'rejected' AND created_at >= ?1 AND reason = 'cap_reached' AND cap_id IS NOT NULL
          GROUP BY cap_id, offer_id) r
    LEFT JOIN caps k ON k.id = r.cap_id
    LEFT JOIN offers o ON o.id = r.offer_id
    LEFT JOIN goals g ON g.id = k.goal_id
    ORDER BY r.last_at DESC, r.cap_id LIMIT ${Math.trunc(limit)}`;

export const cappedConversionsStatement = (db: D1Database, since: string, limit: number): D1PreparedStatement =>
  db.prepare(cappedConversionsSql(limit)).bind(since);

export async function cappedConversions(db: D1Database, since: string, limit: number): Promise<CappedConversionsRow[]> {
  return (await cappedConversionsStatement(db, since, limit).all<CappedConversionsRow>()).results;
}
