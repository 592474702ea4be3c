// The block layout of a click partition (src/clicks/partition.ts), for partitions created since
// it came: a partition's clicks are kept many to a row, in blocks keyed by a 10-second bucket of
// the click time (v2 click IDs carry the time, so a lookup by ID reads one bucket, one query),
// and the unique-click rule reads a visitor log kept per visitor bucket and hour (click-visits.ts).
// A consumer batch writes about one block row per bucket it touches and one visitor row per
// visitor bucket and hour, instead of 2 rows per click (the row layout, click-partition.ts).
import { clickIdPlacement } from '../click/click-id';
import { jsonChunks } from '../lib/chunks';
import type { Demotion, StoredFlags } from './click-partition';
import { PartedTable } from './click-parts';
import { CLICK_DATA_COLUMNS, type ClickRow } from './clicks';

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

export function toRec(
  click: Record<string, unknown> & { click_id: string; offer_id: number; publisher_id: number; visitor_hash: string },
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
    ...CLICK_DATA_COLUMNS.map((c) => click[c] ?? null),
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

export const blocksTable = (sql: SqlStorage) => new PartedTable(sql, 'blocks', ['bucket']);

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
