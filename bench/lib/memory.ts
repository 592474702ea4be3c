// Section 4b: memory of the isolate config cache under many distinct offer/publisher pairs
// (unknown ids, which are cached as null entries too), and section 5: a CPU profile of the
// redirect, both on a second workerd started with the V8 inspector (so the inspector cannot
// touch the numbers of the main runtime).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLICK_HEADERS } from './fixtures.mjs';
import { connectInspector } from './inspector.mjs';
import { runLoad } from './load.mjs';
import { mintClickIds, postbackAvailable, writeIds } from './postback.mjs';
import { summariseProfile } from './profile.mjs';
import { cpuMicros, ROOT, rssBytes } from './runtime.mjs';
import { sleep } from './stats.mjs';

/** The cache bound as the Worker's source declares it (for the report), or null. */
function declaredCacheBound() {
  try {
    const text = readFileSync(join(ROOT, 'src', 'click', 'config.ts'), 'utf8');
    const match = /ISOLATE_MAX_ENTRIES\s*=\s*([\d_]+)/.exec(text);
    return match ? Number(match[1].replaceAll('_', '')) : null;
  } catch {
    return null;
  }
}

const OFFER_BASE = 1_000_000;
const PUBLISHER_BASE = 3_000_000;
const CHECKPOINTS = 4;

export async function memorySection(ctx) {
  const { opts, rt, log } = ctx;
  const inspector = await connectInspector(rt.mf, 'clickhop');
  try {
    const publishers = Math.min(opts.cachePublishers, opts.cachePairs);
    const offers = Math.ceil(opts.cachePairs / publishers);
    const block = Math.min(2_000, offers);
    const perBlock = block * publishers;
    // Distinct ids touched after `pairs` pairs: offers walked so far plus the publishers.
    const keysAfter = (pairs) =>
      pairs === 0
        ? 0
        : Math.min(offers, Math.floor(pairs / perBlock) * block + Math.min(block, pairs % perBlock)) + publishers;
    const points = [];
    const measure = async (label, pairs) => {
      await sleep(500);
      const heap = await inspector.heapAfterGc();
      points.push({ label, pairs, keys: keysAfter(pairs), rss: rssBytes(rt.pid), heapUsed: heap.usedSize });
    };
    const statuses = {};
    const count = (r) => {
      for (const [k, v] of Object.entries(r.status)) statuses[k] = (statuses[k] ?? 0) + v;
    };
    // One request first, so the isolate exists and has loaded the Worker's code.
    await fetch(`${rt.urls.clickhop}/c/1/1`, { redirect: 'manual' }).then((r) => r.arrayBuffer());
    await measure('start', 0);
    // Control: as many requests as one step, all to one unknown pair (cached after the first),
    // so workerd's memory growth from serving requests at all is paid before the walk.
    const controlRequests = Math.round(opts.cachePairs / CHECKPOINTS);
    const control = await runLoad(
      {
        origin: rt.urls.clickhop,
        path: '/c/999999999/999999999',
        headers: CLICK_HEADERS,
        connections: opts.connections,
        seconds: 60,
        limit: controlRequests,
      },
      ctx.loadContext,
    );
    count(control);
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
          origin: rt.urls.clickhop,
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
      count(r);
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
      statuses,
      timedOut,
      points,
    };
  } finally {
    inspector.close();
  }
}

/** Profiles the isolate while `job` runs; the profile also covers 1.5 s of trailing queue work. */
async function profileWhile(ctx, inspector, job) {
  const { rt, bundlePath } = ctx;
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.setSamplingInterval', { interval: 100 });
  await inspector.send('Profiler.start');
  const cpu0 = cpuMicros(rt.pid);
  const load = await runLoad(job, ctx.loadContext);
  await sleep(1_500);
  const cpuUs = cpuMicros(rt.pid) - cpu0;
  const { profile } = await inspector.send('Profiler.stop');
  const summary = summariseProfile(profile, { bundlePath, requests: load.completed });
  return {
    rps: load.rps,
    requests: load.completed,
    status: load.status,
    cpuUsPerRequest: cpuUs / load.completed,
    ...summary,
  };
}

export async function profileSection(ctx) {
  const { opts, rt, fx } = ctx;
  const inspector = await connectInspector(rt.mf, 'clickhop');
  try {
    const path = `/c/${fx.offer.id}/${fx.publisher.id}`;
    const base = { origin: rt.urls.clickhop, headers: CLICK_HEADERS, connections: opts.connections };
    await runLoad({ ...base, path, seconds: 1 }, ctx.loadContext);
    // A fixed, moderate rate leaves CPU for V8's sampling thread on a small machine (at full load
    // it samples irregularly and the profile is less faithful).
    const out = {
      redirect: await profileWhile(ctx, inspector, {
        ...base,
        path,
        seconds: opts.profileSeconds,
        rate: opts.profileRate,
      }),
    };
    if ((await postbackAvailable(rt.urls.clickhop)).ok) {
      const ids = await mintClickIds(ctx, 3_000);
      const idsFile = await writeIds(ctx, ids, 'ids-profile');
      out.postback = await profileWhile(ctx, inspector, {
        ...base,
        path: `/postback?click_id={id}&key=${encodeURIComponent(fx.advertiser.postback_key)}&order_id=bench-profile-{n}`,
        idsFile,
        seconds: opts.profileSeconds,
        rate: Math.max(5, Math.round(opts.profileRate / 20)),
      });
    }
    return out;
  } finally {
    inspector.close();
  }
}
