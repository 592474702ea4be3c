// The newest-first list of one click partition (src/clicks/list.ts walks the partitions).

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
