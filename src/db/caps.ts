// caps and cap_counters tables: SQL and row types. A conversion cap is counted by one statement
// in the conversion's own batch (countConversionStatement); the counter's CHECK aborts that
// batch when the conversion would take a cap past its limit (isCapExceededError).
import type { CapPeriod, ClickCountParts } from '../terms/periods';

export type CapMetric = 'clicks' | 'conversions' | 'payout' | 'revenue';

export interface CapRow {
  id: number;
  offer_id: number;
  publisher_id: number | null;
  goal_id: number | null;
  metric: CapMetric;
  period: CapPeriod;
  /** A count, or minor units of the offer currency for payout and revenue. */
  cap_limit: number;
  created_at: string;
}

/** A cap with its goal key and its counter in the current period. */
export interface CapUsageRow extends CapRow {
  goal_key: string | null;
  period_key: string;
  used: number;
  rejected: number;
  reached_at: string | null;
}

/** The counter key of each period now (src/terms/periods.ts), bound as ?day ?week ?month. */
export type PeriodKeys = Record<CapPeriod, string>;

// The counter key of cap `c` among the bound keys.
const PERIOD_KEY_SQL = (day: string, week: string, month: string) =>
  `CASE c.period WHEN 'day' THEN ${day} WHEN 'week' THEN ${week} WHEN 'month' THEN ${month} ELSE 'lifetime' END`;

export async function insertCap(db: D1Database, cap: Omit<CapRow, 'id'>): Promise<CapRow> {
  const row = await db
    .prepare(
      `INSERT INTO caps (offer_id, publisher_id, goal_id, metric, period, cap_limit, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .bind(cap.offer_id, cap.publisher_id, cap.goal_id, cap.metric, cap.period, cap.cap_limit, cap.created_at)
    .first<CapRow>();
  if (!row) throw new Error('cap insert returned no row');
  return row;
}

export const getCap = (db: D1Database, id: number): Promise<CapRow | null> =>
  db.prepare('SELECT * FROM caps WHERE id = ?').bind(id).first<CapRow>();

/** The caps of an offer with what each counted in its current period, oldest first. */
export async function capsWithUsage(db: D1Database, offerId: number, keys: PeriodKeys): Promise<CapUsageRow[]> {
  const { results } = await db
    .prepare(
      `SELECT c.*, g.key AS goal_key, ${PERIOD_KEY_SQL('?2', '?3', '?4')} AS period_key,
              COALESCE(k.value, 0) AS used, COALESCE(k.rejected, 0) AS rejected, k.reached_at
       FROM caps c LEFT JOIN goals g ON g.id = c.goal_id
       LEFT JOIN cap_counters k ON k.cap_id = c.id AND k.period_key = ${PERIOD_KEY_SQL('?2', '?3', '?4')}
       WHERE c.offer_id = ?1 ORDER BY c.id`,
    )
    .bind(offerId, keys.day, keys.week, keys.month)
    .all<CapUsageRow>();
  return results;
}

/** A cap and its counters go together; conversions it refused keep its id. */
export const deleteCapStatements = (db: D1Database, id: number): D1PreparedStatement[] => [
  db.prepare('DELETE FROM cap_counters WHERE cap_id = ?').bind(id),
  db.prepare('DELETE FROM caps WHERE id = ?').bind(id),
];

/** What a new conversion adds to caps: its offer, publisher, goal, money and id. */
export interface CountedConversion {
  id: string;
  offer_id: number;
  publisher_id: number;
  goal_id: number;
  payout: number;
  revenue: number;
}

const CAPS_OF_CONVERSION = `FROM caps c
  WHERE c.offer_id = ?1 AND c.metric <> 'clicks'
    AND (c.publisher_id IS NULL OR c.publisher_id = ?2) AND (c.goal_id IS NULL OR c.goal_id = ?3)`;
const ADDS = `CASE c.metric WHEN 'conversions' THEN 1 WHEN 'payout' THEN ?7 ELSE ?8 END`;

/**
 * Adds a conversion created in the same batch to every cap it falls under, if it was created
 * counted (pending or approved: a duplicate inserted nothing, a rejected one counts for no cap).
 * A cap it would take past its limit fails the counter's CHECK, which aborts the whole batch.
 * RETURNING tells which caps it met exactly.
 */
export function countConversionStatement(db: D1Database, cv: CountedConversion, keys: PeriodKeys): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO cap_counters (cap_id, period_key, value, cap_limit)
       SELECT c.id, ${PERIOD_KEY_SQL('?4', '?5', '?6')}, ${ADDS}, c.cap_limit
       ${CAPS_OF_CONVERSION}
         AND EXISTS (SELECT 1 FROM conversions WHERE id = ?9 AND status IN ('pending', 'approved'))
       ON CONFLICT (cap_id, period_key) DO UPDATE SET value = value + excluded.value, cap_limit = excluded.cap_limit
       RETURNING cap_id, value, cap_limit`,
    )
    .bind(cv.offer_id, cv.publisher_id, cv.goal_id, keys.day, keys.week, keys.month, cv.payout, cv.revenue, cv.id);
}

export function isCapExceededError(error: unknown): boolean {
  return error instanceof Error && /CHECK constraint failed: cap_within_limit/.test(error.message);
}

/** The first cap (by id) that the conversion would take past its limit now, or null. */
export async function exceededCap(
  db: D1Database,
  cv: CountedConversion,
  keys: PeriodKeys,
): Promise<{ id: number; period_key: string } | null> {
  return db
    .prepare(
      `SELECT c.id, ${PERIOD_KEY_SQL('?4', '?5', '?6')} AS period_key ${CAPS_OF_CONVERSION}
         AND COALESCE((SELECT value FROM cap_counters WHERE cap_id = c.id AND period_key = ${PERIOD_KEY_SQL('?4', '?5', '?6')}), 0)
           + ${ADDS} > c.cap_limit
       ORDER BY c.id LIMIT 1`,
    )
    .bind(cv.offer_id, cv.publisher_id, cv.goal_id, keys.day, keys.week, keys.month, cv.payout, cv.revenue)
    .first<{ id: number; period_key: string }>();
}

/**
 * What an adjustment moves on caps: the conversion's offer, publisher, goal and creation time
 * (which caps counted it, in which period) and how much its payout and revenue change.
 */
export interface AdjustedConversion {
  offer_id: number;
  publisher_id: number;
  goal_id: number;
  created_at: string;
  payout_delta: number;
  revenue_delta: number;
}

// The money caps that counted the conversion: those it falls under that existed when it was
// created (a cap created later never counted it, so an adjustment does not move it either).
const MONEY_CAPS_OF_CONVERSION = `FROM caps c
  WHERE c.offer_id = ?1 AND c.metric IN ('payout', 'revenue')
    AND (c.publisher_id IS NULL OR c.publisher_id = ?2) AND (c.goal_id IS NULL OR c.goal_id = ?3)
    AND c.created_at <= ?9`;
const MOVES = `CASE c.metric WHEN 'payout' THEN ?7 ELSE ?8 END`;
const adjustedBinds = (cv: AdjustedConversion, keys: PeriodKeys) =>
  [
    cv.offer_id,
    cv.publisher_id,
    cv.goal_id,
    keys.day,
    keys.week,
    keys.month,
    cv.payout_delta,
    cv.revenue_delta,
    cv.created_at,
  ] as const;

/**
 * Moves the payout and revenue caps that counted an adjusted conversion by its differences, in
 * the period it was counted in (`keys`: those of its creation), in the adjustment's own batch.
 * A raise that would take a cap past its limit fails the counter's CHECK and aborts the batch,
 * exactly as a new conversion's count does; a cut gives the capacity back (never below zero).
 * RETURNING names the counters it moved.
 */
export function adjustCapsStatement(db: D1Database, cv: AdjustedConversion, keys: PeriodKeys): D1PreparedStatement {
  const periodKey = PERIOD_KEY_SQL('?4', '?5', '?6');
  return db
    .prepare(
      `INSERT INTO cap_counters (cap_id, period_key, value, cap_limit)
       SELECT c.id, ${periodKey}, ${MOVES}, c.cap_limit
       ${MONEY_CAPS_OF_CONVERSION} AND ${MOVES} <> 0
         AND (${MOVES} > 0 OR EXISTS (SELECT 1 FROM cap_counters WHERE cap_id = c.id AND period_key = ${periodKey}))
       ON CONFLICT (cap_id, period_key) DO UPDATE SET value = MAX(0, value + excluded.value), cap_limit = excluded.cap_limit
       RETURNING cap_id, value, cap_limit`,
    )
    .bind(...adjustedBinds(cv, keys));
}

/** The first cap (by id) an adjustment would take past its limit now, with its terms and use; or null. */
export async function capExceededByAdjustment(
  db: D1Database,
  cv: AdjustedConversion,
  keys: PeriodKeys,
): Promise<(CapRow & { period_key: string; used: number }) | null> {
  const periodKey = PERIOD_KEY_SQL('?4', '?5', '?6');
  const used = `COALESCE((SELECT value FROM cap_counters WHERE cap_id = c.id AND period_key = ${periodKey}), 0)`;
  return db
    .prepare(
      `SELECT c.*, ${periodKey} AS period_key, ${used} AS used
       ${MONEY_CAPS_OF_CONVERSION} AND ${MOVES} > 0 AND ${used} + ${MOVES} > c.cap_limit
       ORDER BY c.id LIMIT 1`,
    )
    .bind(...adjustedBinds(cv, keys))
    .first<CapRow & { period_key: string; used: number }>();
}

/**
 * For a conversion stored rejected by cap `capId` in the same batch: names the cap on the
 * conversion, and counts the refusal and marks the period reached on the cap's counter.
 */
export function refusedByCapStatements(
  db: D1Database,
  conversionId: string,
  cap: { id: number; period_key: string },
  now: string,
): D1PreparedStatement[] {
  return [
    db.prepare('UPDATE conversions SET cap_id = ? WHERE id = ?').bind(cap.id, conversionId),
    db
      .prepare(
        `INSERT INTO cap_counters (cap_id, period_key, value, cap_limit, rejected, reached_at)
         SELECT id, ?2, 0, cap_limit, 1, ?3 FROM caps WHERE id = ?1
           AND EXISTS (SELECT 1 FROM conversions WHERE id = ?4)
         ON CONFLICT (cap_id, period_key) DO UPDATE SET rejected = rejected + 1, reached_at = COALESCE(reached_at, ?3)`,
      )
      .bind(cap.id, cap.period_key, now, conversionId),
  ];
}

/** Caps of an offer that are reached in their current period: who they close it to. */
export async function reachedCaps(
  db: D1Database,
  offerId: number,
  keys: PeriodKeys,
): Promise<Pick<CapRow, 'id' | 'publisher_id' | 'period'>[]> {
  const { results } = await reachedCapsStatement(db, offerId, keys).all<
    Pick<CapRow, 'id' | 'publisher_id' | 'period'>
  >();
  return results;
}

export const reachedCapsStatement = (db: D1Database, offerId: number, keys: PeriodKeys): D1PreparedStatement =>
  db
    .prepare(
      `SELECT c.id, c.publisher_id, c.period FROM caps c
       JOIN cap_counters k ON k.cap_id = c.id AND k.period_key = ${PERIOD_KEY_SQL('?2', '?3', '?4')}
       WHERE c.offer_id = ?1 AND (k.reached_at IS NOT NULL OR k.value >= k.cap_limit)`,
    )
    .bind(offerId, keys.day, keys.week, keys.month);

/** Click caps of these offers (null: all) not yet reached in their current period. */
export async function openClickCaps(db: D1Database, offerIds: number[] | null, keys: PeriodKeys): Promise<CapRow[]> {
  const { results } = await db
    .prepare(
      `SELECT c.* FROM caps c
       LEFT JOIN cap_counters k ON k.cap_id = c.id AND k.period_key = ${PERIOD_KEY_SQL('?2', '?3', '?4')}
       WHERE c.metric = 'clicks' AND (?1 IS NULL OR c.offer_id IN (SELECT value FROM json_each(?1)))
         AND k.reached_at IS NULL
       ORDER BY c.id`,
    )
    .bind(offerIds && JSON.stringify(offerIds), keys.day, keys.week, keys.month)
    .all<CapRow>();
  return results;
}

/**
 * Clicks a cap counted in its period, exactly in the operator's zone: the whole UTC days inside
 * the period from daily_click_stats and its edge quarter hours from quarter_click_stats
 * (`parts` from src/terms/periods.ts; null = lifetime, every day). Each part is a range of its
 * table's primary key. Exported as SQL so tests can check the query plan.
 */
export const CLICKS_IN_PERIOD_SQL = `SELECT
  (SELECT COALESCE(SUM(clicks), 0) FROM daily_click_stats
     WHERE day >= ?3 AND day < ?4 AND offer_id = ?1 AND (?2 IS NULL OR publisher_id = ?2))
  + (SELECT COALESCE(SUM(clicks), 0) FROM quarter_click_stats
     WHERE quarter >= ?5 AND quarter < ?6 AND offer_id = ?1 AND (?2 IS NULL OR publisher_id = ?2))
  + (SELECT COALESCE(SUM(clicks), 0) FROM quarter_click_stats
     WHERE quarter >= ?7 AND quarter < ?8 AND offer_id = ?1 AND (?2 IS NULL OR publisher_id = ?2)) AS n`;

export async function clicksInPeriod(db: D1Database, cap: CapRow, parts: ClickCountParts | null): Promise<number> {
  const days = parts === null ? ['0000-00-00', '9999-99-99'] : (parts.days ?? ['', '']);
  const [first = [0, 0], second = [0, 0]] = parts?.quarters ?? [];
  const row = await db
    .prepare(CLICKS_IN_PERIOD_SQL)
    .bind(cap.offer_id, cap.publisher_id, ...days, ...first, ...second)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Records a click cap's count for its period (never above the limit: the CHECK); marks the period
 * reached once the count meets the limit. Returns true when this call newly marked it reached.
 */
export async function storeClickCount(
  db: D1Database,
  cap: CapRow,
  periodKey: string,
  clicks: number,
  now: string,
): Promise<boolean> {
  const reached = clicks >= cap.cap_limit;
  const row = await db
    .prepare(
      `INSERT INTO cap_counters (cap_id, period_key, value, cap_limit, reached_at) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (cap_id, period_key) DO UPDATE SET value = excluded.value, cap_limit = excluded.cap_limit,
         reached_at = COALESCE(reached_at, excluded.reached_at)
       RETURNING reached_at`,
    )
    .bind(cap.id, periodKey, Math.min(clicks, cap.cap_limit), cap.cap_limit, reached ? now : null)
    .first<{ reached_at: string | null }>();
  return reached && row?.reached_at === now;
}
