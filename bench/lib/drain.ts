// Waits for the local click pipeline (coalescing timer -> clicks Queue -> consumer -> D1) to
// land a number of clicks, so one run's trailing consumer work never lands in the next run.
import { epochNow, sleep } from './stats.mjs';

export async function clickCount(db) {
  const row = await db.prepare('SELECT COUNT(*) AS n FROM clicks').first();
  return Number(row?.n ?? 0);
}

/**
 * Polls until at least `target` clicks are stored and the count has not moved for `quietMs`
 * (requests still in flight when a load run stops are clicks too). Returns the time the
 * target was first reached (epochNow(), ms since the epoch) and the final count.
 */
export async function waitForClicks(db, target, { quietMs = 1_200, timeoutMs = 60_000, pollMs = 50 } = {}) {
  const start = performance.now();
  let reachedAt = null;
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
