// Section 1: the redirect under load (Clickhop vs the bare Worker, alternating runs) with
// workerd CPU per request, and the latency of the first request after a config change.
import type { BenchContext } from './context.ts';
import { clickCount, waitForClicks } from './drain.ts';
import { CLICK_HEADERS, clickPath } from './fixtures.ts';
import { type LoadResult, pairedRatio, pairedRatios, type RunsSummary, runLoad, summariseRuns } from './load.ts';
import { cpuMicros } from './runtime.ts';
import { median } from './stats.ts';

const TARGETS = ['bare', 'signed', 'ours', 'noIngest'] as const;
type Target = (typeof TARGETS)[number];

export interface RedirectRun extends LoadResult {
  nodeCpuUs: number;
  pipelineCpuUs?: number;
  drainTimedOut?: boolean;
}

export interface RedirectSummary extends RunsSummary {
  pipelineCpuUsPerClick: number;
  nodeCpuUsPerRequest: number;
  drainTimedOut: boolean;
}

export interface RedirectResult {
  path: string;
  runs: Record<Target, RedirectRun[]>;
  summary: Record<Target, RedirectSummary>;
  ratio: number;
  ratioRange: [number, number];
  noIngestRatio: number;
  signedBareRatio: number;
  signedRatio: number;
  noIngestSignedRatio: number;
  ownCpuUsPerClick: number;
  ownCpuUsRedirectOnly: number;
}

export async function redirectSection(ctx: BenchContext): Promise<RedirectResult> {
  const { opts, rt, fx, log } = ctx;
  const path = clickPath(fx);
  const targets: Record<Target, { origin: string; path?: string; ingests?: boolean }> = {
    bare: { origin: rt.urls.bare as string },
    signed: { origin: rt.urls.bare as string, path: `/s/${fx.offer.id}/${fx.publisher.id}` },
    ours: { origin: rt.urls.clickhop as string, ingests: true },
    noIngest: { origin: rt.urls['clickhop-b'] as string },
  };
  let expectedClicks = await clickCount(rt.db);
  const runOne = async (key: Target, seconds: number): Promise<RedirectRun> => {
    const target = targets[key];
    const node0 = process.cpuUsage();
    const cpu0 = cpuMicros(rt.pid);
    const load = await runLoad(
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
    const result: RedirectRun = { ...load, nodeCpuUs: node.user + node.system };
    if (target.ingests) {
      expectedClicks += load.status['302'] ?? 0;
      const drained = await waitForClicks(rt.db, expectedClicks);
      result.pipelineCpuUs = cpuMicros(rt.pid) - cpu0;
      result.drainTimedOut = drained.timedOut;
      expectedClicks = drained.count;
    }
    return result;
  };

  if (opts.warmupSeconds > 0) {
    for (const key of TARGETS) await runOne(key, opts.warmupSeconds);
  }
  const runs: Record<Target, RedirectRun[]> = { bare: [], signed: [], ours: [], noIngest: [] };
  for (let run = 1; run <= opts.runs; run++) {
    for (const key of TARGETS) {
      const r = await runOne(key, opts.seconds);
      runs[key].push(r);
      log(`redirect run ${run}/${opts.runs} ${key}: ${Math.round(r.rps)} req/s, p99 ${r.latency.p99?.toFixed(2)} ms`);
    }
  }
  const summarise = (list: RedirectRun[]): RedirectSummary => ({
    ...summariseRuns(list, '302'),
    pipelineCpuUsPerClick: median(list.map((r) => (r.pipelineCpuUs ?? Number.NaN) / r.completed)),
    nodeCpuUsPerRequest: median(list.map((r) => r.nodeCpuUs / r.completed)),
    drainTimedOut: list.some((r) => r.drainTimedOut),
  });
  const summary = {
    bare: summarise(runs.bare),
    signed: summarise(runs.signed),
    ours: summarise(runs.ours),
    noIngest: summarise(runs.noIngest),
  };
  const oursToBare = pairedRatios(runs.ours, runs.bare);
  return {
    path,
    runs,
    summary,
    ratio: median(oursToBare),
    ratioRange: [Math.min(...oursToBare), Math.max(...oursToBare)],
    noIngestRatio: pairedRatio(runs.noIngest, runs.bare),
    // The same against the Worker that only signs a click ID (the floor for any signed tracker).
    signedBareRatio: pairedRatio(runs.signed, runs.bare),
    signedRatio: pairedRatio(runs.ours, runs.signed),
    noIngestSignedRatio: pairedRatio(runs.noIngest, runs.signed),
    ownCpuUsPerClick: summary.ours.pipelineCpuUsPerClick - summary.bare.cpuUsPerRequest,
    ownCpuUsRedirectOnly: summary.noIngest.cpuUsPerRequest - summary.bare.cpuUsPerRequest,
  };
}
