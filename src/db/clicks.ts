// clicks and daily_click_stats tables: the batch insert used by the clicks consumer (and the
// direct-write fallback), plus reads used by attribution and the admin API.
import { jsonChunks } from '../lib/chunks';
import { quarterClicksOfBatchStatement, quarterUnrollDemotedStatement } from './quarter-stats';

/** A click as it travels through the clicks Queue: ready to insert, no raw IP. */
export interface ClickRecord {
  click_id: string;
  clicked_at: string;
  offer_id: number;
  publisher_id: number;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  // Optional: clicks queued by a Worker version before migration 0007's columns lack them.
  sub6?: string | null;
  /** Awin's bannerId and groupId, from the link's creative_id / creative_group_id. */
  creative_id?: number | null;
  creative_group_id?: number | null;
  deep_link: string | null;
  referrer: string | null;
  search_engine: string | null;
  search_phrase: string | null;
  country: string | null;
  region: string | null;
  city: string | null;
  colo: string | null;
  asn: number | null;
  user_agent: string | null;
  device: string;
  ip_prefix: string | null;
  visitor_hash: string;
  is_bot: 0 | 1;
}

export interface ClickRow extends ClickRecord {
  is_unique: 0 | 1;
  ingest_batch: string;
}

/** What a click records about itself, in the order both click stores keep it (D1 and partitions). */
export const CLICK_DATA_COLUMNS = [
  'sub1',
  'sub2',
  'sub3',
  'sub4',
  'sub5',
  'sub6',
  'creative_id',
  'creative_group_id',
  'deep_link',
  'referrer',
  'search_engine',
  'search_phrase',
  'country',
  'region',
  'city',
  'colo',
  'asn',
  'user_agent',
  'device',
  'ip_prefix',
] as const;

const FIELDS = [
  'click_id',
  'clicked_at',
  'offer_id',
  'publisher_id',
  ...CLICK_DATA_COLUMNS,
  'visitor_hash',
  'is_bot',
] as const;

/**
 * One INSERT per chunk of the batch (D1 binds at most 100 parameters, so the rows travel as a
 * JSON parameter, split under SQL_JSON_PARAM_BYTES since D1 refuses a string over 2 MB), then
 * one rollup of exactly the rows these statements inserted, in one transaction. A click is
 * unique when it is not a bot and no non-bot click of the same visitor reached the same offer and
 * publisher in the 24 hours before it (a click exactly 24 h later is unique again; of two in the
 * same millisecond, the one stored first is); `first_in_batch` carries that decision for clicks
 * of one statement, which cannot see each other's rows (a later chunk sees an earlier one's rows,
 * which `first_in_batch` already agrees with). Last,
 * clicks stored earlier that this batch's clicks precede within 24 hours stop being unique.
 */
export function ingestStatements(db: D1Database, clicks: (ClickRecord & { first_in_batch: 0 | 1 })[], batchId: string) {
  const columns = FIELDS.join(', ');
  const values = FIELDS.map((f) => `j.value ->> '${f}'`).join(', ');
  const insertSql = `INSERT OR IGNORE INTO clicks (${columns}, is_unique, ingest_batch)
       SELECT ${values},
         CASE WHEN j.value ->> 'is_bot' = 0 AND j.value ->> 'first_in_batch' = 1 AND NOT EXISTS (
           SELECT 1 FROM clicks c
           WHERE c.offer_id = j.value ->> 'offer_id' AND c.publisher_id = j.value ->> 'publisher_id'
             AND c.visitor_hash = j.value ->> 'visitor_hash' AND c.is_bot = 0
             AND c.clicked_at > strftime('%Y-%m-%dT%H:%M:%fZ', j.value ->> 'clicked_at', '-1 day')
             AND c.clicked_at <= j.value ->> 'clicked_at' AND c.click_id <> j.value ->> 'click_id'
         ) THEN 1 ELSE 0 END,
         ?2
       FROM json_each(?1) j`;
  const inserts = jsonChunks(clicks).map((json) => db.prepare(insertSql).bind(json, batchId));
  const rollup = db
    .prepare(
      `INSERT INTO daily_click_stats (day, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
       SELECT substr(clicked_at, 1, 10), offer_id, publisher_id, SUM(is_bot = 0), SUM(is_unique), SUM(is_bot)
       FROM clicks WHERE ingest_batch = ? GROUP BY 1, 2, 3
       ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET
         clicks = clicks + excluded.clicks,
         unique_clicks = unique_clicks + excluded.unique_clicks,
         bot_clicks = bot_clicks + excluded.bot_clicks`,
    )
    .bind(batchId);
  // A click that arrives after a later click of the same visitor (a retried message) makes that
  // later click a repeat: it loses its unique flag, and its day's rollup loses one unique click.
  // Driven by the batch's visitor keys (one range scan each), not by every batch row: a visitor
  // with many clicks in one batch must not make this quadratic.
  const demoted = `SELECT y.click_id, y.clicked_at, y.offer_id, y.publisher_id
       FROM (SELECT offer_id, publisher_id, visitor_hash, MIN(clicked_at) AS first_at, MAX(clicked_at) AS last_at
             FROM clicks WHERE ingest_batch = ?1 AND is_bot = 0 GROUP BY 1, 2, 3) b
       JOIN clicks y
         ON y.offer_id = b.offer_id AND y.publisher_id = b.publisher_id AND y.visitor_hash = b.visitor_hash
        AND y.clicked_at > b.first_at
        AND y.clicked_at <= strftime('%Y-%m-%dT%H:%M:%fZ', b.last_at, '+1 day')
       WHERE y.is_unique = 1 AND y.ingest_batch <> ?1 AND EXISTS (
         SELECT 1 FROM clicks x
         WHERE x.offer_id = y.offer_id AND x.publisher_id = y.publisher_id AND x.visitor_hash = y.visitor_hash
           AND x.clicked_at < y.clicked_at
           AND x.clicked_at >= strftime('%Y-%m-%dT%H:%M:%fZ', y.clicked_at, '-1 day')
           AND x.ingest_batch = ?1 AND x.is_bot = 0)`;
  const unrollDemoted = db
    .prepare(
      `INSERT INTO daily_click_stats (day, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
       SELECT substr(clicked_at, 1, 10), offer_id, publisher_id, 0, -COUNT(*), 0
       FROM (${demoted}) GROUP BY 1, 2, 3
       ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET
         unique_clicks = unique_clicks + excluded.unique_clicks`,
    )
    .bind(batchId);
  const demote = db
    .prepare(`UPDATE clicks SET is_unique = 0 WHERE click_id IN (SELECT click_id FROM (${demoted}))`)
    .bind(batchId);
  // The quarter-hour twins of both rollup statements (zoned reports, src/db/quarter-stats.ts).
  const quarters = [quarterClicksOfBatchStatement(db, batchId), quarterUnrollDemotedStatement(db, demoted, batchId)];
  return [...inserts, rollup, unrollDemoted, ...quarters, demote];
}

/**
 * Copies stored clicks (from a partition about to be dropped) into the D1 table as they are,
 * flags included; a click already there is left alone, so a repeated copy is a no-op.
 */
export function copyClicksStatements(db: D1Database, rows: ClickRow[]): D1PreparedStatement[] {
  const columns = [...FIELDS, 'is_unique', 'ingest_batch'];
  const sql = `INSERT OR IGNORE INTO clicks (${columns.join(', ')})
     SELECT ${columns.map((f) => `j.value ->> '${f}'`).join(', ')} FROM json_each(?) j`;
  return jsonChunks(rows).map((json) => db.prepare(sql).bind(json));
}

/** IDs of clicks from [from, to) that led to a conversion (conversions_click_time). */
export async function convertedClickIds(db: D1Database, from: string, to: string): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT DISTINCT click_id FROM conversions
       WHERE click_id IS NOT NULL AND click_time >= ? AND click_time < ?`,
    )
    .bind(from, to)
    .all<{ click_id: string }>();
  return results.map((r) => r.click_id);
}

export const getClick = (db: D1Database, clickId: string) =>
  db.prepare('SELECT * FROM clicks WHERE click_id = ?').bind(clickId).first<ClickRow>();

export interface ClickFilters {
  offer_id?: number;
  publisher_id?: number;
  /** clicked_at >= from */
  from?: string;
  /** clicked_at < to */
  to?: string;
  unique?: boolean;
  bot?: boolean;
  country?: string;
  sub1?: string;
  sub2?: string;
  sub3?: string;
  sub4?: string;
  sub5?: string;
}

/** A listed click with its rowid, the tie-break of the list order. */
export type ListedClickRow = ClickRow & { rowid: number };

const SUB_FILTERS = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5'] as const;

/**
 * The SELECT of one clicks page, newest first; `before` is the (clicked_at, rowid) of the last
 * row of the previous page. The rowid breaks ties between clicks of the same millisecond: every
 * index carries it, so clicks_time, clicks_publisher_time and clicks_offer_time (0004) each serve
 * the whole ORDER BY, and a page reads its own rows plus those the other filters skip.
 */
export function clickListSql(
  filters: ClickFilters,
  before: { clicked_at: string; rowid: number } | undefined,
  limit: number,
): { sql: string; binds: unknown[] } {
  const where: string[] = [];
  const binds: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    where.push(sql);
    binds.push(value);
  };
  if (filters.offer_id !== undefined) add('offer_id = ?', filters.offer_id);
  if (filters.publisher_id !== undefined) add('publisher_id = ?', filters.publisher_id);
  if (filters.from) add('clicked_at >= ?', filters.from);
  if (filters.to) add('clicked_at < ?', filters.to);
  if (filters.unique !== undefined) add('is_unique = ?', filters.unique ? 1 : 0);
  if (filters.bot !== undefined) add('is_bot = ?', filters.bot ? 1 : 0);
  if (filters.country) add('country = ?', filters.country);
  for (const sub of SUB_FILTERS) {
    const value = filters[sub];
    if (value !== undefined) add(`${sub} = ?`, value);
  }
  if (before) {
    where.push('(clicked_at, rowid) < (?, ?)');
    binds.push(before.clicked_at, before.rowid);
  }
  return {
    sql: `SELECT rowid, * FROM clicks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY clicked_at DESC, rowid DESC LIMIT ?`,
    binds: [...binds, limit],
  };
}

export async function listClicks(
  db: D1Database,
  filters: ClickFilters,
  before: { clicked_at: string; rowid: number } | undefined,
  limit: number,
): Promise<ListedClickRow[]> {
  const { sql, binds } = clickListSql(filters, before, limit);
  const { results } = await db
    .prepare(sql)
    .bind(...binds)
    .all<ListedClickRow>();
  return results;
}

const SNAPSHOT_CLICK_FIELDS = ['referrer', 'search_engine', 'search_phrase', 'country', 'device', 'deep_link'] as const;

/**
 * The click fields a new event snapshot of a conversion copies: from the D1 click row (v1 IDs)
 * or else from the conversion's latest snapshot that has them. Partitioned clicks (v2) and
 * clicks dropped by retention are not in D1; the conversion's creation already froze their
 * data, so a status change needs no partition read and works after the click is gone.
 */
export const snapshotClickOf = (db: D1Database, cv: { id: string; click_id: string }) =>
  snapshotClickStatement(db, cv).first<Pick<ClickRow, (typeof SNAPSHOT_CLICK_FIELDS)[number]>>();

/** snapshotClickOf's read, for a caller's own batch (bulk validation reads a chunk's at once). */
export const snapshotClickStatement = (db: D1Database, cv: { id: string; click_id: string }) =>
  db
    .prepare(
      `SELECT ${SNAPSHOT_CLICK_FIELDS.join(', ')} FROM clicks WHERE click_id = ?1
       UNION ALL
       SELECT * FROM (
         SELECT ${SNAPSHOT_CLICK_FIELDS.map((f) => `snapshot ->> '$.click.${f}' AS ${f}`).join(', ')}
         FROM conversion_events
         WHERE conversion_id = ?2 AND json_type(snapshot, '$.click') = 'object'
         ORDER BY created_at DESC, rowid DESC LIMIT 1)
       LIMIT 1`,
    )
    .bind(cv.click_id, cv.id);

/** The click row by id, for a caller's own read batch (getClick runs the same read alone). */
export const selectClickStatement = (db: D1Database, clickId: string): D1PreparedStatement =>
  db.prepare('SELECT * FROM clicks WHERE click_id = ?').bind(clickId);

/**
 * Deletes up to `limit` clicks from before `cutoff` that led to no conversion (attribution
 * disputes need those); run it again while it deletes a full `limit`.
 */
export const purgeClicksStatement = (db: D1Database, cutoff: string, limit: number): D1PreparedStatement =>
  db
    .prepare(
      `DELETE FROM clicks WHERE click_id IN (
         SELECT click_id FROM clicks k WHERE k.clicked_at < ?
           AND NOT EXISTS (SELECT 1 FROM conversions v WHERE v.click_id = k.click_id)
         LIMIT ?)`,
    )
    .bind(cutoff, limit);
