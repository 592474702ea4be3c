// Section 4: memory of the isolate config cache under many distinct offer/publisher pairs
// (unknown ids, which are cached as null entries too), on a second workerd started with the V8
// inspector (so the inspector cannot touch the numbers of the main runtime).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import { CLICK_HEADERS } from './fixtures.ts';
import { connectInspector } from './inspector.ts';
import { type LoadResult, runLoad } from './load.ts';
import { ROOT, rssBytes } from './runtime.ts';
import { mergeStatuses, sleep } from './stats.ts';

/** The cache bound as the Worker's source declares it (for the report), or null. */
function declaredCacheBound(): number | null {
  try {
    const text = readFileSync(join(ROOT, 'src', 'click', 'config.ts'), 'utf8');
    const match = /ISOLATE_MAX_ENTRIES\s*=\s*([\d_]+)/.exec(text);
    return match ? Number((match[1] as string).replaceAll('_', '')) : null;
  } catch {
    return null;
  }
}

const OFFER_BASE = 1_000_000;
const PUBLISHER_BASE = 3_000_000;
const CHECKPOINTS = 4;

export interface MemoryPoint {
  label: string;
  pairs: number;
  keys: number;
  rss: number;
  heapUsed: number;
}

export interface MemoryResult {
  pairsRequested: number;
  pairs: number;
  offers: number;
  publishers: number;
  distinctKeys: number;
  bound: number | null;
  seconds: number;
  statuses: Record<string, number>;
  timedOut: boolean;
  points: MemoryPoint[];
}

export async function memorySection(ctx: BenchContext): Promise<MemoryResult> {
  const { opts, rt, log } = ctx;
  const inspector = await connectInspector(rt.mf, 'clickhop');
  try {
    const publishers = Math.min(opts.cachePublishers, opts.cachePairs);
    const offers = Math.ceil(opts.cachePairs / publishers);
    const block = Math.min(2_000, offers);
    const perBlock = block * publishers;
    // Distinct ids touched after `pairs` pairs: offers walked so far plus the publishers.
    const keysAfter = (pairs: number) =>
      pairs === 0
        ? 0
        : Math.min(offers, Math.floor(pairs / perBlock) * block + Math.min(block, pairs % perBlock)) + publishers;
    const points: MemoryPoint[] = [];
    const measure = async (label: string, pairs: number) => {
      await sleep(500);
      const heap = await inspector.heapAfterGc();
      points.push({ label, pairs, keys: keysAfter(pairs), rss: rssBytes(rt.pid), heapUsed: heap.usedSize });
    };
    const results: LoadResult[] = [];
    // One request first, so the isolate exists and has loaded the Worker's code.
    await fetch(`${rt.urls.clickhop}/c/1/1`, { redirect: 'manual' }).then((r) => r.arrayBuffer());
    await measure('start', 0);
    // Control: as many requests as one step, all to one unknown pair (cached after the first),
    // so workerd's memory growth from serving requests at all is paid before the walk.
    const controlRequests = Math.round(opts.cachePairs / CHECKPOINTS);
    const control = await runLoad(
      {
        origin: rt.urls.clickhop as string,
        path: '/c/999999999/999999999',
        headers: CLICK_HEADERS,
        connections: opts.connections,
        seconds: 60,
        limit: controlRequests,
      },
      ctx.loadContext,
    );
    results.push(control);
    log(`cache: control ${control.completed} requests to one pair, ${Math.round(control.rps)} req/s`);
    await measure(`control: ${control.completed.toLocaleString('en-US')} requests to one cached pair`, 0);

    const started = performance.now();
    let done = 0;
    let timedOut = false;
    for (let i = 1; i <= CHECKPOINTS; i++) {
      const target = Math.round((opts.cachePairs * i) / CHECKPOINTS);
      const left = opts.cacheSeconds - (performance.now() - started) / 1000;
      if (left < 1) {
        timedOut = true;
        break;
      }
      const r = await runLoad(
        {
          origin: rt.urls.clickhop as string,
          path: '/c/{offer}/{publisher}',
          headers: CLICK_HEADERS,
          connections: opts.connections,
          seconds: Math.max(1, left / (CHECKPOINTS - i + 1)),
          limit: target - done,
          pairs: { offerBase: OFFER_BASE, publisherBase: PUBLISHER_BASE, publishers, block, start: done },
        },
        ctx.loadContext,
      );
      done += r.completed;
      results.push(r);
      if (done < target) timedOut = true;
      log(`cache: ${done} pairs, ${Math.round(r.rps)} req/s`);
      await measure('distinct pairs', done);
    }
    return {
      pairsRequested: opts.cachePairs,
      pairs: done,
      offers: keysAfter(done) - publishers,
      publishers,
      distinctKeys: keysAfter(done),
      bound: declaredCacheBound(),
      seconds: (performance.now() - started) / 1000,
      statuses: mergeStatuses(results),
      timedOut,
      points,
    };
  } finally {
    inspector.close();
  }
}
