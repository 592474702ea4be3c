// Section 3a: click ingest into D1.
// - end to end: N clicks through GET /c at full speed, timed until all N rows are in D1;
// - consumer alone: N clicks put on the clicks Queue directly (100 clicks per message, the shape
//   the redirect path sends), timed until all N rows are in D1.
import { randomBytes } from 'node:crypto';
import type { BenchContext } from './context.ts';
import { clickCount, countRows, waitForClicks } from './drain.ts';
import { CLICK_HEADERS, type Fixtures } from './fixtures.ts';
import { clickLoad } from './load.ts';
import { cpuMicros } from './runtime.ts';
import { epochNow } from './stats.ts';

const CLICKS_PER_MESSAGE = 100;

export interface IngestResult {
  endToEnd: {
    clicks: number;
    redirectRps: number;
    seconds: number;
    lagMs: number;
    cpuUsPerClick: number;
    complete: boolean;
    stored: number;
    clicksPerSecond: number;
  };
  consumer: {
    clicks: number;
    messages: number;
    sendMs: number;
    seconds: number;
    stored: number;
    complete: boolean;
    d1Batches: number;
    cpuUsPerClick: number;
    clicksPerSecond: number;
    /** What the consumer's CPU cost alone would allow on one core. */
    cpuBoundClicksPerSecond: number;
  };
}

export async function ingestSection(ctx: BenchContext): Promise<IngestResult> {
  const { opts, rt, fx, log } = ctx;
  const n = opts.ingestClicks;

  // End to end.
  const base = await clickCount(rt.db);
  const cpu0 = cpuMicros(rt.pid);
  const load = await clickLoad(ctx, { seconds: 120, limit: n });
  const t0 = load.startedEpoch;
  const tLoaded = load.endedEpoch;
  const clicks = load.status['302'] ?? 0;
  const e2e = await waitForClicks(rt.db, base + clicks, { timeoutMs: 120_000 });
  const seconds = ((e2e.reachedAt ?? epochNow()) - t0) / 1000;
  const endToEnd = {
    clicks,
    redirectRps: load.rps,
    seconds,
    lagMs: e2e.reachedAt === null ? Number.NaN : e2e.reachedAt - tLoaded,
    cpuUsPerClick: (cpuMicros(rt.pid) - cpu0) / Math.max(1, clicks),
    complete: e2e.reachedAt !== null,
    stored: e2e.count - base,
    clicksPerSecond: e2e.reachedAt !== null ? clicks / seconds : Number.NaN,
  };
  log(`ingest end to end: ${clicks} clicks in ${endToEnd.seconds.toFixed(2)} s`);

  // Consumer alone.
  const producer = await rt.mf.getQueueProducer('CLICKS_QUEUE', 'clickhop');
  const messages = buildMessages(n, fx);
  const base2 = await clickCount(rt.db);
  const cpu1 = cpuMicros(rt.pid);
  const t1 = epochNow();
  // sendBatch in groups under the 256 KB batch limit (a message of 100 clicks is about 50 KB).
  for (let i = 0; i < messages.length; i += 4) {
    await producer.sendBatch(messages.slice(i, i + 4).map((body) => ({ body, contentType: 'json' })));
  }
  const tSent = epochNow();
  const done = await waitForClicks(rt.db, base2 + n, { timeoutMs: 120_000 });
  const batches = await countRows(
    rt.db,
    "SELECT COUNT(DISTINCT ingest_batch) AS n FROM clicks WHERE click_id LIKE 'bench-q-%'",
  );
  const consumerSeconds = ((done.reachedAt ?? epochNow()) - t1) / 1000;
  const cpuUsPerClick = (cpuMicros(rt.pid) - cpu1) / n;
  const consumer = {
    clicks: n,
    messages: messages.length,
    sendMs: tSent - t1,
    seconds: consumerSeconds,
    stored: done.count - base2,
    complete: done.reachedAt !== null,
    d1Batches: batches,
    cpuUsPerClick,
    clicksPerSecond: done.reachedAt !== null ? n / consumerSeconds : Number.NaN,
    cpuBoundClicksPerSecond: 1e6 / cpuUsPerClick,
  };
  log(`ingest consumer alone: ${n} clicks in ${consumer.seconds.toFixed(2)} s`);
  return { endToEnd, consumer };
}

type QueuedClick = Record<string, string | number | null>;

/** Click records as the redirect path queues them (no raw IP; a keyed visitor hash). */
function buildMessages(n: number, fx: Fixtures) {
  const now = Date.now();
  const messages: { v: 1; clicks: QueuedClick[] }[] = [];
  for (let i = 0; i < n; i += CLICKS_PER_MESSAGE) {
    const clicks: QueuedClick[] = [];
    for (let k = i; k < Math.min(n, i + CLICKS_PER_MESSAGE); k++) {
      clicks.push({
        click_id: `bench-q-${k}-${randomBytes(12).toString('base64url')}`.slice(0, 48),
        clicked_at: new Date(now - (n - k)).toISOString(),
        offer_id: fx.offer.id,
        publisher_id: fx.publisher.id,
        sub1: k % 3 === 0 ? `s${k % 97}` : null,
        sub2: null,
        sub3: null,
        sub4: null,
        sub5: null,
        deep_link: null,
        referrer: CLICK_HEADERS.referer,
        search_engine: null,
        search_phrase: null,
        country: 'DE',
        region: null,
        city: null,
        colo: 'FRA',
        asn: 3320,
        user_agent: CLICK_HEADERS['user-agent'],
        device: 'desktop',
        ip_prefix: '203.0.113.0/24',
        // Every fourth click repeats an earlier visitor, so the uniqueness check finds matches.
        visitor_hash: randomBytes(16)
          .toString('base64url')
          .slice(0, k % 4 === 0 ? 4 : 22),
        is_bot: 0,
      });
    }
    messages.push({ v: 1, clicks });
  }
  return messages;
}
