// Writing a batch into a block-layout partition (click-blocks.ts): each new click is decided in
// time order against the visitor log (unique when no non-bot click of its visitor key is in the
// 24 hours up to it; a click exactly 24 h later is unique again), demotes the stored unique
// clicks of its key in the 24 hours after it (it arrived late), and is appended to its bucket's
// block. One row written per block part and visitor row changed, plus one per demotion.

import { blocksTable, bucketOf, loadBuckets, R, type Rec, toRec } from './click-blocks';
import type { PartitionClick, VisitorClick } from './click-partition';
import { visitorKey } from './click-partition';
import type { Part, PartedTable } from './click-parts';
import { VisitLog } from './click-visits';

const DAY_MS = 86_400_000;

const keyOfRec = (rec: Rec) => `${rec[R.offer]}/${rec[R.publisher]}/${rec[R.visitor]}`;

/**
 * Takes the unique flag off the stored clicks of `key` in (at, at + 24 h), recording the
 * demoting batch; returns rows written for the demotion records (blocks are flushed by the caller).
 */
function demoteLater(sql: SqlStorage, blocks: PartedTable, visits: VisitLog, key: string, at: number, batch: number) {
  const later = visits.between(key, at, at + DAY_MS - 1);
  if (later.length === 0) return 0;
  loadBuckets(blocks, later);
  let written = 0;
  for (const t of new Set(later)) {
    for (const part of blocks.parts([bucketOf(t)])) {
      for (const rec of part.items as Rec[]) {
        if (rec[R.at] !== t || rec[R.unique] !== 1 || rec[R.bot] !== 0 || keyOfRec(rec) !== key) continue;
        rec[R.unique] = 0;
        part.dirty = true;
        written += sql.exec(
          `INSERT OR IGNORE INTO block_demotions (click_id, clicked_at, offer_id, publisher_id, batch)
           VALUES (?, ?, ?, ?, ?)`,
          rec[R.id] as string,
          t,
          rec[R.offer] as number,
          rec[R.publisher] as number,
          batch,
        ).rowsWritten;
      }
    }
  }
  return written;
}

/**
 * Stores a batch's clicks (idempotent on the click ID); `prior` holds, per visitor key, the
 * latest non-bot click the previous partition saw in its last 24 hours. Runs inside the
 * caller's transaction; returns rows written.
 */
export function insertBlockClicks(
  sql: SqlStorage,
  clicks: PartitionClick[],
  prior: Record<string, number>,
  visitCache?: Map<string, Part[]>,
): number {
  const sorted = clicks.map((click) => ({ click, at: Date.parse(click.clicked_at) })).sort((a, b) => a.at - b.at);
  if (sorted.length === 0) return 0;
  const blocks = blocksTable(sql);
  loadBuckets(
    blocks,
    sorted.map((c) => c.at),
  );
  const stored = new Set<string>();
  for (const { at } of sorted) {
    for (const part of blocks.parts([bucketOf(at)]))
      for (const rec of part.items as Rec[]) stored.add(rec[R.id] as string);
  }
  const fresh = sorted.filter(({ click }) => {
    if (stored.has(click.click_id)) return false;
    stored.add(click.click_id);
    return true;
  });
  const visits = new VisitLog(sql, visitCache);
  const humans = fresh.filter(({ click }) => click.is_bot === 0);
  if (humans.length > 0) {
    visits.load(
      humans.map(({ click }) => visitorKey(click)),
      (humans[0]?.at as number) - DAY_MS,
      (humans[humans.length - 1]?.at as number) + DAY_MS,
    );
  }
  let written = 0;
  for (const { click, at } of fresh) {
    let unique: 0 | 1 = 0;
    if (click.is_bot === 0) {
      const key = visitorKey(click);
      const before = prior[key];
      const seen =
        (before !== undefined && before > at - DAY_MS && before <= at) ||
        visits.between(key, at - DAY_MS, at).length > 0;
      unique = seen ? 0 : 1;
      written += demoteLater(sql, blocks, visits, key, at, click.batch);
      visits.add(key, at);
    }
    blocks.append([bucketOf(at)], toRec(click, at, { bot: click.is_bot, unique, batch: click.batch }));
  }
  return written + blocks.flush() + visits.flush();
}

/** Demotes clicks here that the given clicks (of the previous partition) precede within 24 hours. */
export function demoteBlockClicks(sql: SqlStorage, clicks: VisitorClick[], visitCache?: Map<string, Part[]>): number {
  if (clicks.length === 0) return 0;
  const blocks = blocksTable(sql);
  const visits = new VisitLog(sql, visitCache);
  const sorted = [...clicks].sort((a, b) => a.at - b.at);
  visits.load(
    sorted.map(visitorKey),
    (sorted[0] as VisitorClick).at,
    (sorted[sorted.length - 1] as VisitorClick).at + DAY_MS,
  );
  let written = 0;
  for (const c of sorted) written += demoteLater(sql, blocks, visits, visitorKey(c), c.at, c.batch);
  return written + blocks.flush();
}

export const latestBlockVisits = (
  sql: SqlStorage,
  keys: { offer_id: number; publisher_id: number; visitor_hash: string }[],
  since: number,
  visitCache?: Map<string, Part[]>,
) => new VisitLog(sql, visitCache).latest(keys.map(visitorKey), since);
