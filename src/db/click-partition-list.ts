// The newest-first list of one click partition (src/clicks/list.ts walks the partitions).

import { BLOCK_CODEC, bucketOf, R, type Rec, recToRow } from './click-blocks';
import { type StoredRow, toClickRow } from './click-partition';
import type { ClickFilters, ClickRow } from './clicks';

/** A position in the newest-first list: the (time, ID) of the last click shown. */
export interface ListPosition {
  at: number;
  clickId: string;
}

const SUB_FILTERS = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5'] as const;

/**
 * One page of this partition's clicks, newest first, after `before` (the key order, so the
 * walk reads along the primary key and stops at `limit` matches).
 */
export function listClicks(
  sql: SqlStorage,
  filters: ClickFilters,
  before: ListPosition | undefined,
  limit: number,
): ClickRow[] {
  const where: string[] = [];
  const binds: (string | number)[] = [];
  const add = (clause: string, value: string | number) => {
    where.push(clause);
    binds.push(value);
  };
  if (filters.offer_id !== undefined) add('offer_id = ?', filters.offer_id);
  if (filters.publisher_id !== undefined) add('publisher_id = ?', filters.publisher_id);
  if (filters.from) add('clicked_at >= ?', Date.parse(filters.from));
  if (filters.to) add('clicked_at < ?', Date.parse(filters.to));
  if (filters.unique !== undefined) add('is_unique = ?', filters.unique ? 1 : 0);
  if (filters.bot !== undefined) add('is_bot = ?', filters.bot ? 1 : 0);
  if (filters.country) add('country = ?', filters.country);
  for (const sub of SUB_FILTERS) {
    const value = filters[sub];
    if (value !== undefined) add(`${sub} = ?`, value);
  }
  if (before) {
    where.push('(clicked_at, click_id) < (?, ?)');
    binds.push(before.at, before.clickId);
  }
  return sql
    .exec<StoredRow>(
      `SELECT * FROM clicks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY clicked_at DESC, click_id DESC LIMIT ?`,
      ...binds,
      limit,
    )
    .toArray()
    .map(toClickRow);
}

/**
 * The same page from a block-layout partition (click-blocks.ts): buckets are read newest first
 * and the walk stops at the first bucket that fills the page (a bucket's clicks are all newer
 * than the bucket before it).
 */
export function listBlockClicks(
  sql: SqlStorage,
  filters: ClickFilters,
  before: ListPosition | undefined,
  limit: number,
): ClickRow[] {
  const from = filters.from ? Date.parse(filters.from) : Number.NEGATIVE_INFINITY;
  const to = filters.to ? Date.parse(filters.to) : Number.POSITIVE_INFINITY;
  const top = Math.min(to, before ? before.at + 1 : Number.POSITIVE_INFINITY);
  const topBucket = Number.isFinite(top) ? bucketOf(top) : Number.MAX_SAFE_INTEGER;
  const bottomBucket = Number.isFinite(from) ? bucketOf(from) : Number.MIN_SAFE_INTEGER;
  const match = (rec: Rec) => {
    const at = rec[R.at] as number;
    const row = recToRow(rec);
    if (at < from || at >= to) return null;
    if (before && (at > before.at || (at === before.at && (rec[R.id] as string) >= before.clickId))) return null;
    if (filters.offer_id !== undefined && row.offer_id !== filters.offer_id) return null;
    if (filters.publisher_id !== undefined && row.publisher_id !== filters.publisher_id) return null;
    if (filters.unique !== undefined && row.is_unique !== (filters.unique ? 1 : 0)) return null;
    if (filters.bot !== undefined && row.is_bot !== (filters.bot ? 1 : 0)) return null;
    if (filters.country && row.country !== filters.country) return null;
    for (const sub of SUB_FILTERS) if (filters[sub] !== undefined && row[sub] !== filters[sub]) return null;
    return row;
  };
  const rows: ClickRow[] = [];
  let bucket: number | null = null;
  let pending: ClickRow[] = [];
  const close = () => {
    pending.sort((a, b) =>
      b.clicked_at < a.clicked_at ? -1 : b.clicked_at > a.clicked_at ? 1 : b.click_id < a.click_id ? -1 : 1,
    );
    rows.push(...pending);
    pending = [];
  };
  const cursor = sql.exec<{ bucket: number; data: string }>(
    'SELECT bucket, data FROM blocks WHERE bucket BETWEEN ? AND ? ORDER BY bucket DESC, part DESC',
    bottomBucket,
    topBucket,
  );
  for (const { bucket: b, data } of cursor) {
    if (b !== bucket) {
      close();
      if (rows.length >= limit) break;
      bucket = b;
    }
    for (const rec of BLOCK_CODEC.decode(data) as Rec[]) {
      const row = match(rec);
      if (row) pending.push(row);
    }
  }
  close();
  return rows.slice(0, limit);
}
