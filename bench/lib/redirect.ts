// Section 1: the redirect under load (Clickhop vs the bare Worker, alternating runs) with
// workerd CPU per request, and the latency of the first request after a config change.
import { clickCount, waitForClicks } from './drain.mjs';
import { CLICK_HEADERS } from './fixtures.mjs';
import { runLoad } from './load.mjs';
import { cpuMicros } from './runtime.mjs';
import { median } from './stats.mjs';

export async function redirectSection(ctx) {
  const { opts, rt, fx, log } = ctx;
  const path = `/c/${fx.offer.id}/${fx.publisher.id}`;
  const targets = [
    { key: 'bare', origin: rt.urls.bare },
    { key: 'signed', origin: rt.urls.bare, path: `/s/${fx.offer.id}/${fx.publisher.id}` },
    { key: 'ours', origin: rt.urls.clickhop, ingests: true },
    { key: 'noIngest', origin: rt.urls['clickhop-b'] },
  ];
  let expectedClicks = await clickCount(rt.db);
  const runOne = async (target, seconds) => {
    const node0 = process.cpuUsage();
    const cpu0 = cpuMicros(rt.pid);
    const result = await runLoad(
      {
        origin: target.origin,
        path: target.path ?? path,
        headers: CLICK_HEADERS,
        connections: opts.connections,
        seconds,
      },
      ctx.loadContext,
    );
    const node = process.cpuUsage(node0);
    result.nodeCpuUs = node.user + node.system;
    if (target.ingests) {
      expectedClicks += result.status['302'] ?? 0;
      const drained = await waitForClicks(rt.db, expectedClicks);
      result.pipelineCpuUs = cpuMicros(rt.pid) - cpu0;
      result.drainTimedOut = drained.timedOut;
      expectedClicks = drained.count;
    }
    return result;
  };

  if (opts.warmupSeconds > 0) {
    for (const target of targets) await runOne(target, opts.warmupSeconds);
  }
  const runs = Object.fromEntries(targets.map((t) => [t.key, []]));
  for (let run = 1; run <= opts.runs; run++) {
    for (const target of targets) {
      const r = await runOne(target, opts.seconds);
      runs[target.key].push(r);
      log(
        `redirect run ${run}/${opts.runs} ${target.key}: ${Math.round(r.rps)} req/s, p99 ${r.latency.p99?.toFixed(2)} ms`,
      );
    }
  }
  const summary = {};
  for (const [key, list] of Object.entries(runs)) {
    summary[key] = {
      rps: median(list.map((r) => r.rps)),
      p50: median(list.map((r) => r.latency.p50)),
      p99: median(list.map((r) => r.latency.p99)),
      cpuUsPerRequest: median(list.map((r) => r.cpuUs / r.completed)),
      pipelineCpuUsPerClick: median(list.map((r) => (r.pipelineCpuUs ?? Number.NaN) / r.completed)),
      nodeCpuUsPerRequest: median(list.map((r) => r.nodeCpuUs / r.completed)),
      non3xx: list.reduce((n, r) => n + (r.completed - (r.status['302'] ?? 0)) + r.errors, 0),
      drainTimedOut: list.some((r) => r.drainTimedOut),
    };
  }
  // Ratios per run (each ours run against the bare run just before it), then their median.
  const pairRatios = runs.ours.map((r, i) => r.rps / runs.bare[i].rps);
  const noIngestRatios = runs.noIngest.map((r, i) => r.rps / runs.bare[i].rps);
  // The same against the Worker that only signs a click ID (the floor for any signed tracker).
  const signedRatios = runs.ours.map((r, i) => r.rps / runs.signed[i].rps);
  const noIngestSignedRatios = runs.noIngest.map((r, i) => r.rps / runs.signed[i].rps);
  return {
    path,
    runs,
    summary,
    ratio: median(pairRatios),
    ratioRange: [Math.min(...pairRatios), Math.max(...pairRatios)],
    noIngestRatio: median(noIngestRatios),
    signedBareRatio: median(runs.signed.map((r, i) => r.rps / runs.bare[i].rps)),
    signedRatio: median(signedRatios),
    noIngestSignedRatio: median(noIngestSignedRatios),
    ownCpuUsPerClick: summary.ours.pipelineCpuUsPerClick - summary.bare.cpuUsPerRequest,
    ownCpuUsRedirectOnly: summary.noIngest.cpuUsPerRequest - summary.bare.cpuUsPerRequest,
  };
}

async function timeOne(url) {
  const t0 = performance.now();
  const response = await fetch(url, {
    redirect: 'manual',
    headers: CLICK_HEADERS,
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return { ms: performance.now() - t0, status: response.status };
}

/**
 * First request to an offer just created through the admin API, three ways:
 * - same isolate: the admin write republished the offer into this isolate's cache and KV;
 * - another isolate whose KV already has it (isolate cache miss, KV hit) — the usual cold path
 *   on the edge after a config change;
 * - another isolate with nothing cached (isolate miss, KV miss, D1 read, KV write).
 * "Another isolate" is a second copy of the Worker (clickhop-b) with its own KV namespace and
 * the same D1; its publisher entry is warmed first so only the offer is cold.
 */
export async function coldSection(ctx) {
  const { opts, rt, fx } = ctx;
  const kvA = await rt.mf.getKVNamespace('CONFIG', 'clickhop');
  const kvB = await rt.mf.getKVNamespace('CONFIG', 'clickhop-b');
  const warmPath = `/c/${fx.offer.id}/${fx.publisher.id}`;
  const pub = fx.publisher.id;
  const rows = {
    bareWarm: [],
    oursWarm: [],
    sameIsolate: [],
    kvHit: [],
    kvHitSecond: [],
    kvMiss: [],
    kvMissSecond: [],
  };
  let kvKeyFound = true;
  const statuses = new Set();
  // Open keep-alive connections and warm the publisher entry in both isolates.
  for (const origin of [rt.urls.bare, rt.urls.clickhop, rt.urls['clickhop-b']]) await timeOne(origin + warmPath);
  for (let i = 0; i < opts.coldSamples; i++) {
    rows.bareWarm.push((await timeOne(rt.urls.bare + warmPath)).ms);
    rows.oursWarm.push((await timeOne(rt.urls.clickhop + warmPath)).ms);

    const a = await ctx.createOffer(`cold ${i}a`);
    const same = await timeOne(`${rt.urls.clickhop}/c/${a.id}/${pub}`);
    rows.sameIsolate.push(same.ms);
    statuses.add(same.status);

    const b = await ctx.createOffer(`cold ${i}b`);
    const stored = await kvA.get(`cfg:v1:offer:${b.id}`);
    if (stored !== null) {
      await kvB.put(`cfg:v1:offer:${b.id}`, stored);
      const first = await timeOne(`${rt.urls['clickhop-b']}/c/${b.id}/${pub}`);
      rows.kvHit.push(first.ms);
      statuses.add(first.status);
      rows.kvHitSecond.push((await timeOne(`${rt.urls['clickhop-b']}/c/${b.id}/${pub}`)).ms);
    } else kvKeyFound = false;

    const c = await ctx.createOffer(`cold ${i}c`);
    const miss = await timeOne(`${rt.urls['clickhop-b']}/c/${c.id}/${pub}`);
    rows.kvMiss.push(miss.ms);
    statuses.add(miss.status);
    rows.kvMissSecond.push((await timeOne(`${rt.urls['clickhop-b']}/c/${c.id}/${pub}`)).ms);
  }
  const stat = (list) => ({ median: median(list), max: list.length ? Math.max(...list) : Number.NaN, n: list.length });
  return {
    kvKeyFound,
    statuses: [...statuses],
    ...Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, stat(v)])),
  };
}
