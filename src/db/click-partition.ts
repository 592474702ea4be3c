// The SQL of one click partition (a SQLite-backed Durable Object, src/clicks/partition.ts).
// One WITHOUT ROWID table keyed by (click time, click ID) plus one partial index for the
// unique-click rule: a stored click costs 2 rows written (1 for a bot click, which the index
// skips). The key serves both reads: a click by ID (its time is in the ID, see click-id.ts) and
// the newest-first list, walked along the key, with no third row per click for a time index.
// Times are integer milliseconds, 6 bytes instead of a 24-character ISO string.
import { clickIdPlacement } from '../click/click-id';
import { jsonChunks, jsonGroups } from '../lib/chunks';
import { CLICK_DATA_COLUMNS, type ClickRecord, type ClickRow } from './clicks';

const DAY_MS = 86_400_000;

export const PARTITION_SCHEMA = `
CREATE TABLE IF NOT EXISTS clicks (
  click_id TEXT NOT NULL,
  clicked_at INTEGER NOT NULL,
  offer_id INTEGER NOT NULL,
  publisher_id INTEGER NOT NULL,
  visitor_hash TEXT NOT NULL,
  is_bot INTEGER NOT NULL,
  is_unique INTEGER NOT NULL,
  batch INTEGER NOT NULL,
  sub1 TEXT, sub2 TEXT, sub3 TEXT, sub4 TEXT, sub5 TEXT, sub6 TEXT,
  creative_id INTEGER, creative_group_id INTEGER,
  deep_link TEXT, referrer TEXT, search_engine TEXT, search_phrase TEXT,
  country TEXT, region TEXT, city TEXT, colo TEXT, asn INTEGER,
  user_agent TEXT, device TEXT NOT NULL, ip_prefix TEXT,
  PRIMARY KEY (clicked_at, click_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clicks_visitor ON clicks (offer_id, publisher_id, visitor_hash, clicked_at) WHERE is_bot = 0;
-- A click loses its unique flag at most once (a click of the same visitor arrived late); the
-- batch that demoted it is kept so a redelivered batch reports the same rollup change.
CREATE TABLE IF NOT EXISTS demotions (
  click_id TEXT NOT NULL PRIMARY KEY,
  clicked_at INTEGER NOT NULL,
  batch INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Columns added after partitions already existed (partitions are never migrated as a whole:
 * each adds what it lacks on its first write, see upgradePartition).
 */
const ADDED_COLUMNS = [
  ['sub6', 'TEXT'],
  ['creative_id', 'INTEGER'],
  ['creative_group_id', 'INTEGER'],
] as const;

/** Adds the columns a partition created with an older PARTITION_SCHEMA lacks (one read when none). */
export function upgradePartition(sql: SqlStorage): void {
  const present = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM pragma_table_info('clicks')")
      .toArray()
      .map((c) => c.name),
  );
  for (const [name, type] of ADDED_COLUMNS) {
    if (!present.has(name)) sql.exec(`ALTER TABLE clicks ADD COLUMN ${name} ${type}`);
  }
}

/** A click handed to a partition, with the number of the queue message (batch) that carried it. */
export interface PartitionClick extends ClickRecord {
  batch: number;
}

// Types, not interfaces: SqlStorage row types must be index-compatible records.
/** What a partition reports about a batch's clicks: enough for exact rollup deltas. */
export type StoredFlags = {
  click_id: string;
  clicked_at: number;
  offer_id: number;
  publisher_id: number;
  batch: number;
  /** Unique when stored (a later demotion is reported separately). */
  was_unique: 0 | 1;
  is_bot: 0 | 1;
};

export type Demotion = {
  click_id: string;
  batch: number;
  clicked_at: number;
  offer_id: number;
  publisher_id: number;
};

/** One visitor/offer/publisher key and the time of a click of it. */
export interface VisitorClick {
  offer_id: number;
  publisher_id: number;
  visitor_hash: string;
  at: number;
  batch: number;
}

export const visitorKey = (c: { offer_id: number; publisher_id: number; visitor_hash: string }) =>
  `${c.offer_id}/${c.publisher_id}/${c.visitor_hash}`;

const COLUMNS = [
  'click_id',
  'clicked_at',
  'offer_id',
  'publisher_id',
  'visitor_hash',
  'is_bot',
  'batch',
  ...CLICK_DATA_COLUMNS,
] as const;

// Each click reaches the insert as a JSON array in COLUMNS order plus its `first` flag: SQLite
// reads ~30 fields of every row, and picking an array element is cheaper than finding an object
// key by name (a batch of 100 clicks took about a quarter less time in a throwaway run).
const col = (name: (typeof COLUMNS)[number]) => COLUMNS.indexOf(name);

const INSERT_SQL = `INSERT OR IGNORE INTO clicks (${COLUMNS.join(', ')}, is_unique)
  SELECT ${COLUMNS.map((_, i) => `j.value ->> ${i}`).join(', ')},
    CASE WHEN j.value ->> ${col('is_bot')} = 0 AND j.value ->> ${COLUMNS.length} = 1 AND NOT EXISTS (
      SELECT 1 FROM clicks c
      WHERE c.offer_id = j.value ->> ${col('offer_id')} AND c.publisher_id = j.value ->> ${col('publisher_id')}
        AND c.visitor_hash = j.value ->> ${col('visitor_hash')} AND c.is_bot = 0
        AND c.clicked_at > (j.value ->> ${col('clicked_at')}) - ${DAY_MS}
        AND c.clicked_at <= j.value ->> ${col('clicked_at')} AND c.click_id <> j.value ->> ${col('click_id')}
    ) THEN 1 ELSE 0 END
  FROM json_each(?) j
  RETURNING click_id, clicked_at, offer_id, publisher_id, visitor_hash, is_bot, is_unique, batch`;

// Clicks of the same visitor stored earlier that `at` precedes within 24 hours stop being unique.
const DEMOTE_SQL = `UPDATE clicks SET is_unique = 0
  WHERE offer_id = ? AND publisher_id = ? AND visitor_hash = ? AND is_bot = 0 AND is_unique = 1
    AND clicked_at > ? AND clicked_at <= ?
  RETURNING click_id, clicked_at`;

// Of the given clicks (JSON [offer, publisher, visitor, time, click ID] each), the positions of
// those with a unique click of their visitor stored after them within 24 hours: the only ones
// whose DEMOTE_SQL changes anything. One statement instead of one per click; when `fresh`, clicks
// already stored are left out (a redelivery demotes nothing).
const demotingSql = (fresh: boolean) => `SELECT j.key AS i FROM json_each(?) j
  WHERE EXISTS (
    SELECT 1 FROM clicks c
    WHERE c.offer_id = j.value ->> 0 AND c.publisher_id = j.value ->> 1 AND c.visitor_hash = j.value ->> 2
      AND c.is_bot = 0 AND c.clicked_at > j.value ->> 3 AND c.clicked_at <= (j.value ->> 3) + ${DAY_MS}
      AND c.is_unique = 1
  )${fresh ? ' AND NOT EXISTS (SELECT 1 FROM clicks s WHERE s.clicked_at = j.value ->> 3 AND s.click_id = j.value ->> 4)' : ''}
  ORDER BY j.key`;

type DemotingClick = VisitorClick & { click_id?: string };

/**
 * The clicks (in the given order) that would demote a stored click; see demotingSql. One
 * statement per chunk of the list (under the 2 MB string limit); j.key counts within its chunk.
 */
function demotingClicks<T extends DemotingClick>(sql: SqlStorage, clicks: T[], fresh: boolean): T[] {
  let start = 0;
  const keys = clicks.map((c) => [c.offer_id, c.publisher_id, c.visitor_hash, c.at, c.click_id ?? '']);
  return jsonGroups(keys).flatMap((group) => {
    const offset = start;
    start += group.items.length;
    return sql
      .exec<{ i: number }>(demotingSql(fresh), group.json)
      .toArray()
      .map(({ i }) => clicks[offset + i] as T);
  });
}

type InsertedClick = {
  click_id: string;
  clicked_at: number;
  offer_id: number;
  publisher_id: number;
  visitor_hash: string;
  is_bot: number;
  is_unique: number;
  batch: number;
};

/**
 * Stores a batch's clicks. `prior` holds, per visitor key, the latest non-bot click the previous
 * partition saw in its last 24 hours. Runs inside the caller's transaction; returns rows written.
 *
 * The batch's clicks demote the stored unique clicks they precede (arrived late) BEFORE the
 * insert, so the check never walks the batch's own rows (a busy visitor's batch would walk
 * n²/2 of them). That is the same outcome as demoting after the insert: a click of this batch
 * that another of its clicks precedes within 24 hours is stored not unique anyway, save one at
 * exactly 24 hours after it, which the insert's rule counts unique and the demotion then takes
 * back; those few are demoted after the insert, as before.
 */
export function insertClicks(sql: SqlStorage, clicks: PartitionClick[], prior: Record<string, number>): number {
  const sorted = clicks
    .map((click) => ({ ...click, clicked_at: Date.parse(click.clicked_at) }))
    .sort((a, b) => a.clicked_at - b.clicked_at);
  const lastSeen = new Map<string, number>(Object.entries(prior));
  const rows = sorted.map((click) => {
    const key = visitorKey(click);
    const previous = lastSeen.get(key);
    let first: 0 | 1 = 1;
    if (click.is_bot) first = 0;
    else {
      if (previous !== undefined && click.clicked_at - previous < DAY_MS) first = 0;
      lastSeen.set(key, click.clicked_at);
    }
    return { ...click, first };
  });
  // Clicks not stored yet are the ones the insert stores (the first copy of a repeated ID, which
  // sorts first, as in the insert), so they demote in the same order and for the same batch.
  const humans = rows.filter((c) => c.is_bot === 0).map((c) => ({ ...c, at: c.clicked_at }));
  let written = demoteEach(sql, demotingClicks(sql, humans, true));
  // In chunks under the 2 MB string limit, oldest first: a later chunk's rule sees the rows of
  // an earlier one, which its `first` flags already agree with.
  const inserted: InsertedClick[] = [];
  for (const json of jsonChunks(rows.map((row) => [...COLUMNS.map((c) => row[c] ?? null), row.first]))) {
    const cursor = sql.exec<InsertedClick>(INSERT_SQL, json);
    inserted.push(...cursor.toArray());
    written += cursor.rowsWritten;
  }
  const uniqueAt = new Set(inserted.filter((c) => c.is_unique === 1).map((c) => `${visitorKey(c)}@${c.clicked_at}`));
  if (uniqueAt.size > 0) {
    const boundary = inserted
      .filter((c) => c.is_bot === 0 && uniqueAt.has(`${visitorKey(c)}@${c.clicked_at + DAY_MS}`))
      .map((c) => ({ ...c, at: c.clicked_at }));
    written += demoteEach(sql, boundary);
  }
  return written;
}

/**
 * Demotes clicks that the given clicks precede within 24 hours, recording the demoting batch;
 * returns rows written.
 */
export function demoteAfter(sql: SqlStorage, clicks: VisitorClick[]): number {
  return demoteEach(sql, demotingClicks(sql, clicks, false));
}

/** DEMOTE_SQL for each click in order (the first to demote a click records its batch). */
function demoteEach(sql: SqlStorage, clicks: VisitorClick[]): number {
  let written = 0;
  for (const x of clicks) {
    const cursor = sql.exec<{ click_id: string; clicked_at: number }>(
      DEMOTE_SQL,
      x.offer_id,
      x.publisher_id,
      x.visitor_hash,
      x.at,
      x.at + DAY_MS,
    );
    for (const { click_id, clicked_at } of cursor.toArray()) {
      written += sql.exec(
        'INSERT OR IGNORE INTO demotions (click_id, clicked_at, batch) VALUES (?, ?, ?)',
        click_id,
        clicked_at,
        x.batch,
      ).rowsWritten;
    }
    written += cursor.rowsWritten;
  }
  return written;
}

/** [click time, click ID] of each v2 ID, as JSON arrays (the table's key) under the string limit. */
const keyPairs = (clickIds: string[]) =>
  jsonChunks(
    clickIds.flatMap((id) => {
      const at = clickIdPlacement(id)?.clickedAt;
      return at === undefined ? [] : [[at, id]];
    }),
  );

/** The stored flags of the given clicks (whichever batch stored them). */
export function storedFlags(sql: SqlStorage, clickIds: string[]): StoredFlags[] {
  return keyPairs(clickIds).flatMap((json) =>
    sql
      .exec<StoredFlags>(
        `SELECT c.click_id, c.clicked_at, c.offer_id, c.publisher_id, c.batch, c.is_bot,
           (c.is_unique = 1 OR d.click_id IS NOT NULL) AS was_unique
         FROM json_each(?) j JOIN clicks c ON c.clicked_at = j.value ->> 0 AND c.click_id = j.value ->> 1
         LEFT JOIN demotions d ON d.click_id = c.click_id`,
        json,
      )
      .toArray(),
  );
}

/** Demotions recorded for the given batches (rare rows: the scan stays small). */
export function demotionsBy(sql: SqlStorage, batches: number[]): Demotion[] {
  return jsonChunks(batches).flatMap((json) =>
    sql
      .exec<Demotion>(
        `SELECT d.click_id, d.batch, c.clicked_at, c.offer_id, c.publisher_id
         FROM demotions d JOIN clicks c ON c.clicked_at = d.clicked_at AND c.click_id = d.click_id
         WHERE d.batch IN (SELECT value FROM json_each(?))`,
        json,
      )
      .toArray(),
  );
}

/** Per visitor key, the latest non-bot click at or after `since`. */
export function latestVisits(
  sql: SqlStorage,
  keys: { offer_id: number; publisher_id: number; visitor_hash: string }[],
  since: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) {
    const row = sql
      .exec<{ at: number | null }>(
        `SELECT MAX(clicked_at) AS at FROM clicks
         WHERE offer_id = ? AND publisher_id = ? AND visitor_hash = ? AND is_bot = 0 AND clicked_at >= ?`,
        key.offer_id,
        key.publisher_id,
        key.visitor_hash,
        since,
      )
      .one();
    if (row.at !== null) out[visitorKey(key)] = row.at;
  }
  return out;
}

export type StoredRow = Omit<ClickRow, 'clicked_at' | 'ingest_batch'> & { clicked_at: number; batch: number };

/** A stored click in the shape of the D1 clicks table (ISO time), as every reader expects it. */
export function toClickRow({ batch, clicked_at, ...row }: StoredRow): ClickRow {
  return {
    ...row,
    // A partition not written since ADDED_COLUMNS came has no such columns: read as null.
    sub6: row.sub6 ?? null,
    creative_id: row.creative_id ?? null,
    creative_group_id: row.creative_group_id ?? null,
    clicked_at: new Date(clicked_at).toISOString(),
    ingest_batch: `b${batch}`,
  };
}

export function findClick(sql: SqlStorage, clickId: string): ClickRow | null {
  const at = clickIdPlacement(clickId)?.clickedAt;
  if (at === undefined) return null;
  const rows = sql.exec<StoredRow>('SELECT * FROM clicks WHERE clicked_at = ? AND click_id = ?', at, clickId).toArray();
  return rows[0] ? toClickRow(rows[0]) : null;
}

/** The stored clicks among `clickIds` (retention copies the converted ones out). */
export function findClicks(sql: SqlStorage, clickIds: string[]): ClickRow[] {
  return keyPairs(clickIds).flatMap((json) =>
    sql
      .exec<StoredRow>(
        'SELECT c.* FROM json_each(?) j JOIN clicks c ON c.clicked_at = j.value ->> 0 AND c.click_id = j.value ->> 1',
        json,
      )
      .toArray()
      .map(toClickRow),
  );
}

export interface PartitionStats {
  clicks: number;
  bytes: number;
}

export function partitionStats(sql: SqlStorage): PartitionStats {
  const { n } = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM clicks').one();
  return { clicks: n, bytes: sql.databaseSize };
}
