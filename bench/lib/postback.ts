// Section 2: advertiser postbacks under load — accepted (a fresh click ID and order ID each)
// and replays (one order ID again and again) — against the bare Worker's one D1 INSERT; and
// section 3b: notification deliveries to a local receiver.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clickCount, waitForClicks } from './drain.mjs';
import { CLICK_HEADERS } from './fixtures.mjs';
import { runLoad } from './load.mjs';
import { startReceiver } from './receiver.mjs';
import { epochNow, median, sleep } from './stats.mjs';

const MAX_MINTED = 200_000;

/** Is /postback routed at all? (Hono's notFound answers 404 "No route for ...".) */
export async function postbackAvailable(origin) {
  const response = await fetch(`${origin}/postback`, { signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  if (response.status === 404 && /No route for/i.test(text))
    return { ok: false, reason: 'GET /postback answers 404 (route not built yet)' };
  return { ok: true };
}

/** Click IDs minted by real redirects: the click_id of each 302's Location. */
export async function mintClickIds(ctx, count) {
  const { rt, fx, opts } = ctx;
  const before = await clickCount(rt.db);
  const r = await runLoad(
    {
      origin: rt.urls.clickhop,
      path: `/c/${fx.offer.id}/${fx.publisher.id}`,
      headers: CLICK_HEADERS,
      connections: opts.connections,
      seconds: 120,
      limit: count,
      collectClickIds: true,
    },
    ctx.loadContext,
  );
  await waitForClicks(rt.db, before + r.clickIds.length);
  return r.clickIds;
}

export function postbackUrl(fx, clickId, orderId) {
  return `/postback?click_id=${encodeURIComponent(clickId)}&key=${encodeURIComponent(fx.advertiser.postback_key)}&order_id=${encodeURIComponent(orderId)}`;
}

export async function writeIds(ctx, ids, name) {
  const file = join(ctx.workDir, `${name}.txt`);
  await writeFile(file, ids.join('\n'));
  return file;
}

export async function postbackSection(ctx) {
  const { opts, rt, fx, log } = ctx;
  const available = await postbackAvailable(rt.urls.clickhop);
  if (!available.ok) return { available: false, reason: available.reason };

  // Check one accepted postback and one replay answer as the contract says.
  const [probeId, replayId] = await mintClickIds(ctx, 2);
  const first = await fetch(rt.urls.clickhop + postbackUrl(fx, probeId, 'bench-probe'));
  const firstBody = await first.json().catch(() => null);
  if (first.status !== 200 || firstBody?.status !== 'ok') {
    return {
      available: false,
      reason: `a valid postback answered ${first.status} ${JSON.stringify(firstBody).slice(0, 200)}`,
    };
  }
  const replayPath = postbackUrl(fx, replayId, 'bench-replay');
  await fetch(rt.urls.clickhop + replayPath).then((r) => r.arrayBuffer());
  const again = await fetch(rt.urls.clickhop + replayPath);
  const againBody = await again.json().catch(() => null);
  const replayOk = again.status === 200 && againBody?.duplicate === true;
  await fetch(`${rt.urls.bare}/postback?order_id=bench-replay`).then((r) => r.arrayBuffer());

  // Calibrate: how many click IDs will the timed runs use up?
  const calibration = await mintClickIds(ctx, 2_000);
  const calibrationFile = await writeIds(ctx, calibration, 'ids-calibration');
  const warm = await runLoad(
    {
      origin: rt.urls.clickhop,
      path: `/postback?click_id={id}&key=${encodeURIComponent(fx.advertiser.postback_key)}&order_id=bench-warm-{n}`,
      idsFile: calibrationFile,
      connections: opts.connections,
      seconds: Math.max(1, opts.warmupSeconds),
    },
    ctx.loadContext,
  );
  const perRun = Math.min(
    Math.floor(MAX_MINTED / opts.runs),
    Math.ceil(Math.max(warm.rps, 200) * opts.postbackSeconds * 1.3),
  );
  log(`postback: calibration ${Math.round(warm.rps)}/s; minting ${perRun * opts.runs} click IDs`);
  const minted = await mintClickIds(ctx, perRun * opts.runs);

  const runs = { bareUnique: [], accepted: [], bareReplay: [], replay: [] };
  for (let run = 1; run <= opts.runs; run++) {
    const ids = minted.slice((run - 1) * perRun, run * perRun);
    const jobs = {
      bareUnique: { origin: rt.urls.bare, path: `/postback?order_id=bench-bare-${run}-{n}` },
      accepted: {
        origin: rt.urls.clickhop,
        path: `/postback?click_id={id}&key=${encodeURIComponent(fx.advertiser.postback_key)}&order_id=bench-${run}-{n}`,
        idsFile: await writeIds(ctx, ids, `ids-run-${run}`),
      },
      bareReplay: { origin: rt.urls.bare, path: '/postback?order_id=bench-replay' },
      replay: { origin: rt.urls.clickhop, path: replayPath },
    };
    for (const [key, job] of Object.entries(jobs)) {
      const r = await runLoad(
        { ...job, connections: opts.connections, seconds: opts.postbackSeconds },
        ctx.loadContext,
      );
      runs[key].push(r);
      log(`postback run ${run}/${opts.runs} ${key}: ${Math.round(r.rps)}/s, p99 ${r.latency.p99?.toFixed(2)} ms`);
    }
  }
  const accepted200 = runs.accepted.reduce((n, r) => n + (r.status['200'] ?? 0), 0);
  const stored = await rt.db
    .prepare("SELECT COUNT(*) AS n FROM conversions WHERE order_id GLOB 'bench-[0-9]*'")
    .first()
    .then((row) => Number(row?.n ?? 0))
    .catch(() => null);
  const summary = Object.fromEntries(
    Object.entries(runs).map(([key, list]) => [
      key,
      {
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.latency.p50)),
        p99: median(list.map((r) => r.latency.p99)),
        cpuUsPerRequest: median(list.map((r) => r.cpuUs / r.completed)),
        non200: list.reduce((n, r) => n + (r.completed - (r.status['200'] ?? 0)) + r.errors, 0),
        statuses: mergeStatuses(list),
        ranOutOfIds: list.some((r) => r.limitReached),
      },
    ]),
  );
  return {
    available: true,
    replayOk,
    runs,
    summary,
    accepted200,
    stored,
    ratioAccepted: median(runs.accepted.map((r, i) => r.rps / runs.bareUnique[i].rps)),
    ratioReplay: median(runs.replay.map((r, i) => r.rps / runs.bareReplay[i].rps)),
  };
}

function mergeStatuses(list) {
  const out = {};
  for (const r of list) for (const [k, v] of Object.entries(r.status)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Deliveries of `conversion.created` to a Node receiver on 127.0.0.1, as fast as they come. */
export async function deliverySection(ctx) {
  const { opts, rt, fx, log } = ctx;
  const available = await postbackAvailable(rt.urls.clickhop);
  if (!available.ok) return { available: false, reason: `needs /postback: ${available.reason}` };
  const receiver = await startReceiver();
  try {
    const created = await ctx.admin.call('POST', '/api/v1/endpoints', {
      publisher_id: fx.publisher.id,
      url: receiver.url,
      method: 'POST',
      format: 'json',
      events: ['conversion.created'],
    });
    if (created.status === 404)
      return { available: false, reason: 'POST /api/v1/endpoints answers 404 (not built yet)' };
    if (created.status !== 200 && created.status !== 201) {
      return {
        available: false,
        reason: `POST /api/v1/endpoints answered ${created.status}: ${created.text.slice(0, 200)}`,
      };
    }
    const ids = await mintClickIds(ctx, opts.deliveries);
    // Postbacks from here (fetch, 10 at a time) so each conversion's answer time is known.
    const answered = new Map();
    const statuses = {};
    let next = 0;
    const t0 = epochNow();
    const worker = async () => {
      while (next < ids.length && epochNow() - t0 < 120_000) {
        const i = next++;
        const response = await fetch(rt.urls.clickhop + postbackUrl(fx, ids[i], `bench-dlv-${i}`), {
          signal: AbortSignal.timeout(30_000),
        });
        const body = await response.json().catch(() => null);
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (response.status === 200 && body?.conversion_id) answered.set(body.conversion_id, epochNow());
      }
    };
    await Promise.all(Array.from({ length: Math.min(10, ids.length) }, worker));
    const tLoaded = epochNow();
    const accepted = answered.size;
    log(`delivery: ${accepted} conversions in ${((tLoaded - t0) / 1000).toFixed(1)} s; waiting for deliveries`);
    const deadline = epochNow() + 120_000;
    let lastCount = -1;
    let lastChange = epochNow();
    while (receiver.ids.size < accepted && epochNow() < deadline) {
      if (receiver.ids.size !== lastCount) {
        lastCount = receiver.ids.size;
        lastChange = epochNow();
      }
      // Give up early when nothing arrives for 30 s (no consumer, or deliveries failing).
      if (epochNow() - lastChange > 30_000) break;
      await sleep(100);
    }
    const arrivals = receiver.arrivals;
    const received = receiver.ids.size;
    const first = arrivals[0];
    const last = arrivals[arrivals.length - 1];
    const latencies = [];
    for (const [conversionId, at] of receiver.byConversion) {
      const sent = answered.get(conversionId);
      if (sent !== undefined) latencies.push(at - sent);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p) =>
      latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : Number.NaN;
    const postbackRps = accepted / ((tLoaded - t0) / 1000);
    const deliveriesPerSecond = received > 1 ? (received - 1) / ((last - first) / 1000) : Number.NaN;
    return {
      available: true,
      conversions: accepted,
      statuses,
      postbackRps,
      received,
      requests: arrivals.length,
      deliveriesPerSecond,
      // Deliveries finished within ~1.5 s (the queue's batch timeout) of the last conversion:
      // the consumer kept up, so its capacity is at least the conversion rate, not measured past it.
      keptPace: received >= accepted && last - tLoaded < 1_500,
      endToEndPerSecond: received ? received / ((last - t0) / 1000) : Number.NaN,
      latency: { matched: latencies.length, p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1) ?? Number.NaN },
      lagAfterLastPostbackMs: received ? last - tLoaded : Number.NaN,
      complete: received >= accepted,
    };
  } finally {
    await receiver.close();
  }
}
