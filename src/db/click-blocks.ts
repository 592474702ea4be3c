// The block layout of a click partition (src/clicks/partition.ts), for partitions created since
// it came: a partition's clicks are kept many to a row, in blocks keyed by a 10-second bucket of
// the click time (v2 click IDs carry the time, so a lookup by ID reads one bucket, one query),
// and the unique-click rule reads a visitor log kept per visitor bucket and hour (click-visits.ts).
// A consumer batch writes about one block row per bucket it touches and one visitor row per
// visitor bucket and hour, instead of 2 rows per click (the row layout, click-partition.ts).
import { clickIdPlacement } from '../click/click-id';
import { jsonChunks } from '../lib/chunks';
import type { Demotion, StoredFlags } from './click-partition';
import { type PartCodec, PartedTable } from './click-parts';
import { CLICK_DATA_COLUMNS, type ClickRecord, type ClickRow } from './clicks';

/** Width of a block's time bucket: a busy shard's 10 seconds are a few hundred KB at most. */
export const BLOCK_MS = 10_000;
export const bucketOf = (at: number) => Math.floor(at / BLOCK_MS);

export const BLOCK_SCHEMA = `
CREATE TABLE IF NOT EXISTS blocks (
  bucket INTEGER NOT NULL,
  part INTEGER NOT NULL,
  n INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (bucket, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS visits (
  vb INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  part INTEGER NOT NULL,
  n INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (vb, slot, part)
) WITHOUT ROWID;
-- A click loses its unique flag at most once; the batch that demoted it is kept so a
-- redelivered batch reports the same rollup change (rare rows).
CREATE TABLE IF NOT EXISTS block_demotions (
  click_id TEXT NOT NULL PRIMARY KEY,
  clicked_at INTEGER NOT NULL,
  offer_id INTEGER NOT NULL,
  publisher_id INTEGER NOT NULL,
  batch INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** A stored click: an array, so the 29 field names are not repeated in every click. */
export type Rec = unknown[];
export const R = { id: 0, at: 1, offer: 2, publisher: 3, visitor: 4, bot: 5, unique: 6, wasUnique: 7, batch: 8 };
const DATA_AT = 9;
const NUMERIC = new Set<string>(['creative_id', 'creative_group_id', 'asn']);

export function toRec(
  click: Omit<ClickRecord, 'clicked_at' | 'is_bot'>,
  at: number,
  flags: { bot: 0 | 1; unique: 0 | 1; batch: number },
): Rec {
  return [
    click.click_id,
    at,
    click.offer_id,
    click.publisher_id,
    click.visitor_hash,
    flags.bot,
    flags.unique,
    flags.unique,
    flags.batch,
    // A text column keeps text (as SQLite's TEXT affinity did in the row layout): a number in
    // one would read back as a shared-value position (BLOCK_CODEC).
    ...CLICK_DATA_COLUMNS.map((c) => {
      const value = click[c] ?? null;
      return value === null || NUMERIC.has(c) || typeof value === 'string' ? value : String(value);
    }),
  ];
}

export function recToRow(rec: Rec): ClickRow {
  const row: Record<string, unknown> = {
    click_id: rec[R.id],
    clicked_at: new Date(rec[R.at] as number).toISOString(),
    offer_id: rec[R.offer],
    publisher_id: rec[R.publisher],
    visitor_hash: rec[R.visitor],
    is_bot: rec[R.bot],
    is_unique: rec[R.unique],
    ingest_batch: `b${rec[R.batch]}`,
  };
  CLICK_DATA_COLUMNS.forEach((c, i) => {
    row[c] = rec[DATA_AT + i] ?? null;
  });
  return row as unknown as ClickRow;
}

// Text columns whose values repeat from click to click (user agents, referrers, places): a
// block stores each distinct value once, and a click its position in that list. A text column
// holds a string or null, so a number there can only be such a position.
const SHARED_AT = CLICK_DATA_COLUMNS.flatMap((c, i) => (NUMERIC.has(c) ? [] : [DATA_AT + i]));
/** Shorter values cost no more inline than as a position. */
const SHARED_MIN_LENGTH = 4;

/**
 * A block as {"d": [distinct values], "c": [clicks]}; a plain JSON array (no shared values) is
 * read as well. Measured: 548 → … bytes per typical click in a partition (test/limits/partition-scale).
 */
export const BLOCK_CODEC: PartCodec = {
  encode(items) {
    const dict: string[] = [];
    const index = new Map<string, number>();
    const clicks = (items as Rec[]).map((rec) => {
      const out = rec.slice();
      for (const i of SHARED_AT) {
        const value = out[i];
        if (typeof value !== 'string' || value.length < SHARED_MIN_LENGTH) continue;
        let k = index.get(value);
        if (k === undefined) {
          k = dict.push(value) - 1;
          index.set(value, k);
        }
        out[i] = k;
      }
      return out;
    });
    return JSON.stringify({ d: dict, c: clicks });
  },
  decode(data) {
    const parsed = JSON.parse(data) as Rec[] | { d: string[]; c: Rec[] };
    if (Array.isArray(parsed)) return parsed;
    for (const rec of parsed.c) {
      for (const i of SHARED_AT) if (typeof rec[i] === 'number') rec[i] = parsed.d[rec[i] as number];
    }
    return parsed.c;
  },
};

export const blocksTable = (sql: SqlStorage) => new PartedTable(sql, 'blocks', ['bucket'], BLOCK_CODEC);

/** Loads the buckets of the given times (one range read per run of adjacent buckets). */
export function loadBuckets(blocks: PartedTable, times: number[]): void {
  const buckets = [...new Set(times.map(bucketOf))].filter((b) => !blocks.isLoaded([b])).sort((a, b) => a - b);
  let i = 0;
  while (i < buckets.length) {
    let j = i;
    while (j + 1 < buckets.length && (buckets[j + 1] as number) - (buckets[j] as number) <= 2) j++;
    blocks.loadRange([], buckets[i] as number, buckets[j] as number);
    i = j + 1;
  }
}

/** The stored records of the given v2 IDs, by ID. */
export function findRecs(blocks: PartedTable, clickIds: string[]): Map<string, Rec> {
  const wanted = new Map<string, number>();
  for (const id of clickIds) {
    const at = clickIdPlacement(id)?.clickedAt;
    if (at !== undefined) wanted.set(id, at);
  }
  loadBuckets(blocks, [...wanted.values()]);
  const found = new Map<string, Rec>();
  for (const [id, at] of wanted) {
    for (const part of blocks.parts([bucketOf(at)])) {
      for (const rec of part.items as Rec[]) if (rec[R.id] === id) found.set(id, rec);
    }
  }
  return found;
}

export function findBlockClick(sql: SqlStorage, clickId: string): ClickRow | null {
  const rec = findRecs(blocksTable(sql), [clickId]).get(clickId);
  return rec ? recToRow(rec) : null;
}

export function findBlockClicks(sql: SqlStorage, clickIds: string[]): ClickRow[] {
  return [...findRecs(blocksTable(sql), clickIds).values()].map(recToRow);
}

export function blockStoredFlags(sql: SqlStorage, clickIds: string[]): StoredFlags[] {
  return [...findRecs(blocksTable(sql), clickIds).values()].map((rec) => ({
    click_id: rec[R.id] as string,
    clicked_at: rec[R.at] as number,
    offer_id: rec[R.offer] as number,
    publisher_id: rec[R.publisher] as number,
    batch: rec[R.batch] as number,
    was_unique: rec[R.wasUnique] as 0 | 1,
    is_bot: rec[R.bot] as 0 | 1,
  }));
}

/** Demotions recorded for the given batches (rare rows: the scan stays small). */
export function blockDemotionsBy(sql: SqlStorage, batches: number[]): Demotion[] {
  return jsonChunks(batches).flatMap((json) =>
    sql
      .exec<Demotion>(
        `SELECT click_id, batch, clicked_at, offer_id, publisher_id FROM block_demotions
         WHERE batch IN (SELECT value FROM json_each(?))`,
        json,
      )
      .toArray(),
  );
}

export function blockStats(sql: SqlStorage): { clicks: number; bytes: number } {
  const { n } = sql.exec<{ n: number }>('SELECT COALESCE(SUM(n), 0) AS n FROM blocks').one();
  return { clicks: n, bytes: sql.databaseSize };
}
