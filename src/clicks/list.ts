// The admin clicks list across both stores: clicks in partitions (v2 IDs) and clicks still in
// the D1 table (v1 IDs, and converted clicks retention moved there), merged newest first. At
// one click time, partition clicks come before D1 clicks; inside each, the store's own order
// (click ID in partitions, rowid in D1). A cursor names the last click shown by that order:
// "time|rowid" for a D1 click (the form this list handed out before partitions, still valid),
// "time|clickId" for a partition click.
import { CLICK_ID_LENGTH } from '../click/click-id';
import { partitionsBetween } from '../db/click-partition-ledger';
import type { ListPosition } from '../db/click-partition-list';
import { type ClickFilters, type ClickRow, listClicks } from '../db/clicks';
import { type PartitionKey, periodOf } from './partition-key';
import { partitionStub } from './store';

export type ClickListCursor = { clicked_at: string; rowid: number } | { clicked_at: string; click_id: string };

/** A listed click with the cursor that continues the list after it. */
export type ListedClick = ClickRow & { cursor: string };

const CLICK_ID = new RegExp(`^[A-Za-z0-9_-]{${CLICK_ID_LENGTH}}$`);

/** The cursor of a "time|key" pair, or null when the key is neither a rowid nor a click ID. */
export function clickListCursor(time: string, key: string): ClickListCursor | null {
  if (/^\d{1,16}$/.test(key) && Number.isSafeInteger(Number(key))) return { clicked_at: time, rowid: Number(key) };
  if (CLICK_ID.test(key)) return { clicked_at: time, click_id: key };
  return null;
}

/** Up to `limit` clicks after `cursor`, newest first, from both stores. */
export async function listAllClicks(
  env: Env,
  filters: ClickFilters,
  cursor: ClickListCursor | undefined,
  limit: number,
): Promise<ListedClick[]> {
  // After a partition click at time t, every D1 click of time t is still to come.
  const d1Before =
    cursor === undefined
      ? undefined
      : 'rowid' in cursor
        ? cursor
        : { clicked_at: cursor.clicked_at, rowid: Number.MAX_SAFE_INTEGER };
  // After a D1 click at time t, only partition clicks older than t are.
  const partitionBefore =
    cursor === undefined
      ? undefined
      : { at: Date.parse(cursor.clicked_at), clickId: 'rowid' in cursor ? '' : cursor.click_id };
  const [legacy, partitioned] = await Promise.all([
    listClicks(env.DB, filters, d1Before, limit),
    listPartitionedClicks(env, filters, partitionBefore, limit),
  ]);
  const rows: (ListedClick & { tier: number; key: string | number })[] = [
    ...partitioned.map((row) => ({ ...row, tier: 1, key: row.click_id, cursor: `${row.clicked_at}|${row.click_id}` })),
    ...legacy.map(({ rowid, ...row }) => ({ ...row, tier: 0, key: rowid, cursor: `${row.clicked_at}|${rowid}` })),
  ];
  rows.sort(
    (a, b) =>
      compare(b.clicked_at, a.clicked_at) ||
      b.tier - a.tier ||
      compare(String(b.key).padStart(16), String(a.key).padStart(16)),
  );
  return rows.slice(0, limit).map(({ tier: _tier, key: _key, ...row }) => row);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Up to `limit` partitioned clicks after `before`, newest first. Walks the registered weeks
 * newest first, asking all shards of a week at once; a week's clicks are all newer than the
 * week before's, so the walk stops at the first week that fills the page.
 */
export async function listPartitionedClicks(
  env: Env,
  filters: ClickFilters,
  before: ListPosition | undefined,
  limit: number,
): Promise<ClickRow[]> {
  const newest = Math.min(
    before?.at ?? Number.POSITIVE_INFINITY,
    filters.to ? Date.parse(filters.to) : Number.POSITIVE_INFINITY,
  );
  const maxPeriod = Number.isFinite(newest) ? periodOf(newest) : 2 ** 31;
  const minPeriod = filters.from ? periodOf(Date.parse(filters.from)) : -(2 ** 31);
  const partitions = await partitionsBetween(env.DB, minPeriod, maxPeriod);
  const weeks = new Map<number, PartitionKey[]>();
  for (const key of partitions) weeks.set(key.period, [...(weeks.get(key.period) ?? []), key]);
  const rows: ClickRow[] = [];
  for (const keys of weeks.values()) {
    const pages = await Promise.all(keys.map((key) => partitionStub(env, key).list(filters, before, limit)));
    rows.push(...pages.flat());
    if (rows.length >= limit) break;
  }
  rows.sort((a, b) => compare(b.clicked_at, a.clicked_at) || compare(b.click_id, a.click_id));
  return rows.slice(0, limit);
}
