// Waits for the local click pipeline (coalescing timer -> clicks Queue -> consumer -> D1) to
// land a number of clicks, so one run's trailing consumer work never lands in the next run.
import type { D1Database } from './runtime.ts';
import { epochNow, sleep } from './stats.ts';

/** One number from a `SELECT COUNT(...) AS n` query. */
export async function countRows(db: D1Database, sql: string): Promise<number> {
  const row = await db.prepare(sql).first<{ n: number }>();
  return Number(row?.n ?? 0);
}

/**
 * Clicks stored, in D1 or in their partitions (Durable Objects, which Node cannot count
 * directly): the daily rollups, which the consumer adds exactly once per stored click.
 */
export const clickCount = (db: D1Database): Promise<number> =>
  countRows(db, 'SELECT COALESCE(SUM(clicks + bot_clicks), 0) AS n FROM daily_click_stats');

export interface Drained {
  /** When the target was first reached (ms since the epoch), or null. */
  reachedAt: number | null;
  count: number;
  timedOut: boolean;
}

/**
 * Polls until at least `target` clicks are stored and the count has not moved for `quietMs`
 * (requests still in flight when a load run stops are clicks too).
 */
export async function waitForClicks(
  db: D1Database,
  target: number,
  { quietMs = 1_200, timeoutMs = 60_000, pollMs = 50 } = {},
): Promise<Drained> {
  const start = performance.now();
  let reachedAt: number | null = null;
  let last = -1;
  let stableSince = performance.now();
  for (;;) {
    const n = await clickCount(db);
    const now = performance.now();
    if (n !== last) {
      last = n;
      stableSince = now;
    }
    if (reachedAt === null && n >= target) reachedAt = epochNow();
    if (reachedAt !== null && now - stableSince >= quietMs) return { reachedAt, count: n, timedOut: false };
    if (now - start > timeoutMs) return { reachedAt, count: n, timedOut: true };
    await sleep(reachedAt === null ? pollMs : 200);
  }
}
