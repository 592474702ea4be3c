// The visitor log of a block-layout partition: the unique-click rule (same visitor, offer and
// publisher within 24 hours → not unique) needs the times of every non-bot click of a visitor
// key. They are kept as [key, time] items in rows per (visitor bucket, hour), VISITOR_BUCKETS
// buckets, so a consumer batch writes at most one row per bucket and hour it touches, whatever
// its number of clicks, and the rule compares whole keys (exact; no hash stands in for a key).
import { type Part, PartedTable } from './click-parts';

/** Rows a batch may write per hour touched; also how finely reads are split by key. */
export const VISITOR_BUCKETS = 4;
export const SLOT_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const slotOf = (at: number) => Math.floor(at / SLOT_MS);

/** FNV-1a of the key, so buckets fill evenly. */
export function visitorBucket(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % VISITOR_BUCKETS;
}

export class VisitLog {
  private readonly table: PartedTable;
  /** Sorted times of each key of interest, from the loaded rows and this call's additions. */
  private readonly times = new Map<string, number[]>();
  private readonly loaded = new Map<number, [number, number]>();

  constructor(sql: SqlStorage, cache?: Map<string, Part[]>) {
    this.table = new PartedTable(sql, 'visits', ['vb', 'slot'], undefined, cache);
  }

  /** Loads what is known of `keys` between `from` and `to` (times in ms). */
  load(keys: Iterable<string>, from: number, to: number): void {
    const byBucket = new Map<number, Set<string>>();
    for (const key of keys) {
      const vb = visitorBucket(key);
      byBucket.set(vb, (byBucket.get(vb) ?? new Set()).add(key));
      if (!this.times.has(key)) this.times.set(key, []);
    }
    for (const [vb, wanted] of byBucket) {
      const [lo, hi] = [slotOf(from), slotOf(to)];
      const had = this.loaded.get(vb);
      // Rows already read stay in the table; a range is read from storage only when it grows.
      if (!had || had[0] > lo || had[1] < hi) {
        this.table.loadRange([vb], lo, hi);
        this.loaded.set(vb, [Math.min(lo, had?.[0] ?? lo), Math.max(hi, had?.[1] ?? hi)]);
      }
      const next = new Map<string, Set<number>>();
      for (let slot = lo; slot <= hi; slot++) {
        for (const part of this.table.parts([vb, slot])) {
          for (const item of part.items as [string, number][]) {
            if (!wanted.has(item[0])) continue;
            let set = next.get(item[0]);
            if (!set) {
              set = new Set(this.times.get(item[0]));
              next.set(item[0], set);
            }
            set.add(item[1]);
          }
        }
      }
      for (const [key, set] of next)
        this.times.set(
          key,
          [...set].sort((a, b) => a - b),
        );
    }
  }

  /** Times of the key in (from, to], from what was loaded. */
  between(key: string, from: number, to: number): number[] {
    return (this.times.get(key) ?? []).filter((t) => t > from && t <= to);
  }

  /** Records a non-bot click of the key (its row must have been loaded). */
  add(key: string, at: number): void {
    const vb = visitorBucket(key);
    if (!this.table.isLoaded([vb, slotOf(at)])) this.table.loadRange([vb], slotOf(at), slotOf(at));
    this.table.append([vb, slotOf(at)], [key, at]);
    const list = this.times.get(key) ?? [];
    let i = list.length;
    while (i > 0 && (list[i - 1] as number) > at) i--;
    list.splice(i, 0, at);
    this.times.set(key, list);
  }

  /** Latest time of each key at or after `since`. */
  latest(keys: string[], since: number): Record<string, number> {
    this.load(keys, since, since + 2 * DAY_MS);
    const out: Record<string, number> = {};
    for (const key of keys) {
      const list = (this.times.get(key) ?? []).filter((t) => t >= since);
      if (list.length > 0) out[key] = list[list.length - 1] as number;
    }
    return out;
  }

  flush(): number {
    return this.table.flush();
  }
}
