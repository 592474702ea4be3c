// Section 2: advertiser postbacks under load — accepted (a fresh click ID and order ID each)
// and replays (one order ID again and again) — against the bare Worker's one D1 INSERT.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import { clickCount, countRows, waitForClicks } from './drain.ts';
import { postbackPath } from './fixtures.ts';
import {
  clickLoad,
  type LoadJob,
  type LoadResult,
  pairedRatio,
  type RunsSummary,
  runLoad,
  summariseRuns,
} from './load.ts';

const MAX_MINTED = 200_000;
// The bare Worker's one-insert path gets about a third cheaper after some 15,000 requests (1,200
// down to 770 µs of workerd CPU each, measured alone on this machine: the runtime's D1 simulator
// code tiering up). Warmed past that once per runtime, so a postback section that runs later in
// the same process is not compared with a faster baseline than one that ran earlier.
const BARE_WARM_REQUESTS = 25_000;
const warmedBare = new WeakSet<object>();

export type Availability = { ok: true } | { ok: false; reason: string };

/** Is /postback routed at all? (Hono's notFound answers 404 "No route for ...".) */
export async function postbackAvailable(origin: string): Promise<Availability> {
  const response = await fetch(`${origin}/postback`, { signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  if (response.status === 404 && /No route for/i.test(text))
    return { ok: false, reason: 'GET /postback answers 404 (route not built yet)' };
  return { ok: true };
}

/** Click IDs minted by real redirects: the click_id of each 302's Location. */
export async function mintClickIds(ctx: BenchContext, count: number): Promise<string[]> {
  const before = await clickCount(ctx.rt.db);
  const r = await clickLoad(ctx, { seconds: 120, limit: count, collectClickIds: true });
  const ids = r.clickIds ?? [];
  await waitForClicks(ctx.rt.db, before + ids.length);
  return ids;
}

/** Writes click IDs one a line, for a load job's idsFile. */
export async function writeIds(ctx: BenchContext, ids: readonly string[], name: string): Promise<string> {
  const file = join(ctx.workDir, `${name}.txt`);
  await writeFile(file, ids.join('\n'));
  return file;
}

const RUN_KEYS = ['bareUnique', 'accepted', 'bareReplay', 'replay'] as const;
type RunKey = (typeof RUN_KEYS)[number];

export interface PostbackSummary extends RunsSummary {
  ranOutOfIds: boolean;
}

export type PostbackResult =
  | { available: false; reason: string }
  | {
      available: true;
      replayOk: boolean;
      runs: Record<RunKey, LoadResult[]>;
      summary: Record<RunKey, PostbackSummary>;
      accepted200: number;
      stored: number | null;
      ratioAccepted: number;
      ratioReplay: number;
    };

interface PostbackAnswer {
  status?: string;
  duplicate?: boolean;
  conversion_id?: string;
}

export const readAnswer = (response: Response): Promise<PostbackAnswer | null> =>
  response.json().then(
    (body: unknown) => body as PostbackAnswer,
    () => null,
  );

/** `orders` prefixes the order IDs, so two postback sections in one run count only their own. */
export async function postbackSection(ctx: BenchContext, orders = 'bench'): Promise<PostbackResult> {
  const { opts, rt, fx, log } = ctx;
  const ours = rt.urls.clickhop as string;
  const bare = rt.urls.bare as string;
  const available = await postbackAvailable(ours);
  if (!available.ok) return { available: false, reason: available.reason };

  // Check one accepted postback and one replay answer as the contract says.
  const [probeId = '', replayId = ''] = await mintClickIds(ctx, 2);
  const first = await fetch(ours + postbackPath(fx, probeId, `${orders}-probe`));
  const firstBody = await readAnswer(first);
  if (first.status !== 200 || firstBody?.status !== 'ok') {
    return {
      available: false,
      reason: `a valid postback answered ${first.status} ${JSON.stringify(firstBody).slice(0, 200)}`,
    };
  }
  const replayPath = postbackPath(fx, replayId, `${orders}-replay`);
  await fetch(ours + replayPath).then((r) => r.arrayBuffer());
  const again = await fetch(ours + replayPath);
  const replayOk = again.status === 200 && (await readAnswer(again))?.duplicate === true;
  await fetch(`${bare}/postback?order_id=bench-replay`).then((r) => r.arrayBuffer());

  const load = (job: Omit<LoadJob, 'connections' | 'seconds'>, seconds: number) =>
    runLoad({ ...job, connections: opts.connections, seconds }, ctx.loadContext);

  if (!warmedBare.has(rt)) {
    warmedBare.add(rt);
    const warmBare = await load(
      { origin: bare, path: '/postback?order_id=bench-bare-warm-{n}', limit: BARE_WARM_REQUESTS },
      40,
    );
    log(`postback: bare Worker warmed with ${warmBare.completed} inserts`);
  }

  // Calibrate: how many click IDs will the timed runs use up?
  const calibration = await mintClickIds(ctx, 2_000);
  const warm = await load(
    {
      origin: ours,
      path: postbackPath(fx, '{id}', `${orders}-warm-{n}`),
      idsFile: await writeIds(ctx, calibration, 'ids-calibration'),
    },
    Math.max(1, opts.warmupSeconds),
  );
  const perRun = Math.min(
    Math.floor(MAX_MINTED / opts.runs),
    Math.ceil(Math.max(warm.rps, 200) * opts.postbackSeconds * 1.3),
  );
  log(`postback: calibration ${Math.round(warm.rps)}/s; minting ${perRun * opts.runs} click IDs`);
  const minted = await mintClickIds(ctx, perRun * opts.runs);

  const runs: Record<RunKey, LoadResult[]> = { bareUnique: [], accepted: [], bareReplay: [], replay: [] };
  for (let run = 1; run <= opts.runs; run++) {
    const ids = minted.slice((run - 1) * perRun, run * perRun);
    const jobs: Record<RunKey, Omit<LoadJob, 'connections' | 'seconds'>> = {
      bareUnique: { origin: bare, path: `/postback?order_id=${orders}-bare-${run}-{n}` },
      accepted: {
        origin: ours,
        path: postbackPath(fx, '{id}', `${orders}-${run}-{n}`),
        idsFile: await writeIds(ctx, ids, `ids-run-${run}`),
      },
      bareReplay: { origin: bare, path: '/postback?order_id=bench-replay' },
      replay: { origin: ours, path: replayPath },
    };
    for (const key of RUN_KEYS) {
      const r = await load(jobs[key], opts.postbackSeconds);
      runs[key].push(r);
      log(`postback run ${run}/${opts.runs} ${key}: ${Math.round(r.rps)}/s, p99 ${r.latency.p99?.toFixed(2)} ms`);
    }
  }
  const accepted200 = runs.accepted.reduce((n, r) => n + (r.status['200'] ?? 0), 0);
  const stored = await countRows(
    rt.db,
    `SELECT COUNT(*) AS n FROM conversions WHERE order_id GLOB '${orders}-[0-9]*'`,
  ).catch(() => null);
  const summarise = (list: LoadResult[]): PostbackSummary => ({
    ...summariseRuns(list, '200'),
    ranOutOfIds: list.some((r) => r.limitReached),
  });
  return {
    available: true,
    replayOk,
    runs,
    summary: {
      bareUnique: summarise(runs.bareUnique),
      accepted: summarise(runs.accepted),
      bareReplay: summarise(runs.bareReplay),
      replay: summarise(runs.replay),
    },
    accepted200,
    stored,
    ratioAccepted: pairedRatio(runs.accepted, runs.bareUnique),
    ratioReplay: pairedRatio(runs.replay, runs.bareReplay),
  };
}
