// Drives one load run (autocannon in a child process) and reads workerd's CPU time around it.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext, LoadContext } from './context.ts';
import { CLICK_HEADERS, clickPath } from './fixtures.ts';
import { cpuMicros } from './runtime.ts';
import { median, mergeStatuses } from './stats.ts';

/**
 * One load run, as load-child.ts reads it.
 *   path     may contain {n} (a per-run sequence number: 0, 1, 2 ...), {id} (line n of idsFile),
 *            {offer} and {publisher} (the n-th pair of `pairs`, see pairAt there).
 *   limit    stop after this many requests (or when `seconds` is up, whichever comes first).
 *   collectClickIds  collect the click_id of every 302's Location (for postback fixtures).
 */
export interface LoadJob {
  origin: string;
  path: string;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  limit?: number;
  /** A fixed offered rate (requests/s over all connections) instead of as fast as possible. */
  rate?: number;
  idsFile?: string;
  pairs?: { offerBase: number; publisherBase: number; publishers: number; block: number; start?: number };
  collectClickIds?: boolean;
}

/** What load-child.ts prints. */
export interface ChildResult {
  seconds: number;
  /** Wall-clock bounds of the load (ms since the epoch), for timing against other processes. */
  startedEpoch: number;
  endedEpoch: number;
  completed: number;
  limitReached: boolean;
  status: Record<string, number>;
  errors: number;
  timeouts: number;
  rps: number;
  latency: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  clickIds?: string[];
}

export interface LoadResult extends ChildResult {
  /** CPU time (user+system, all threads) workerd spent between start and end of the run. */
  cpuUs: number;
}

const CHILD = join(import.meta.dirname, 'load-child.ts');
const children = new Set<ReturnType<typeof spawn>>();

/** Kills any load generator still running (used on error and on exit). */
export function killLoadChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

let jobCounter = 0;

/** Runs one job (see load-child.ts) against `origin`. */
export async function runLoad(job: LoadJob, { workDir, workerdPid }: LoadContext): Promise<LoadResult> {
  const file = join(workDir, `job-${++jobCounter}.json`);
  await writeFile(file, JSON.stringify(job));
  const cpuBefore = workerdPid ? cpuMicros(workerdPid) : null;
  const result = await new Promise<ChildResult>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    // Hard bound: the run's own duration plus generous slack for start-up and draining.
    const timer = setTimeout(() => child.kill('SIGKILL'), (job.seconds + 30) * 1000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      try {
        const parsed = JSON.parse(stdout.trim().split('\n').pop() || '{}') as ChildResult & { error?: string };
        if (parsed.error || code !== 0)
          reject(new Error(`load generator failed (${code ?? signal}): ${parsed.error ?? stdout.slice(0, 500)}`));
        else resolve(parsed);
      } catch {
        reject(new Error(`load generator printed no result (${code ?? signal})`));
      }
    });
  });
  const cpuUs = cpuBefore === null ? Number.NaN : cpuMicros(workerdPid) - cpuBefore;
  return { ...result, cpuUs };
}

/** Browser clicks on the fixture's link at Clickhop, with the run's connection count. */
export const clickLoad = (ctx: BenchContext, job: Omit<LoadJob, 'origin' | 'path' | 'connections'>) =>
  runLoad(
    {
      origin: ctx.rt.urls.clickhop as string,
      path: clickPath(ctx.fx),
      headers: CLICK_HEADERS,
      connections: ctx.opts.connections,
      ...job,
    },
    ctx.loadContext,
  );

export interface RunsSummary {
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number;
  /** Answers other than `ok`, plus connection errors, over all runs. */
  notOk: number;
  statuses: Record<string, number>;
}

/** Medians over repeated runs of one target; `ok` is the status every answer should have. */
export function summariseRuns(list: readonly LoadResult[], ok: '200' | '302'): RunsSummary {
  return {
    rps: median(list.map((r) => r.rps)),
    p50: median(list.map((r) => r.latency.p50 ?? Number.NaN)),
    p99: median(list.map((r) => r.latency.p99 ?? Number.NaN)),
    cpuUsPerRequest: median(list.map((r) => r.cpuUs / r.completed)),
    notOk: list.reduce((n, r) => n + (r.completed - (r.status[ok] ?? 0)) + r.errors, 0),
    statuses: mergeStatuses(list),
  };
}

/** The median of run-by-run ratios a[i] / b[i] (each run against the one just before it). */
export const pairedRatio = (a: readonly LoadResult[], b: readonly LoadResult[]): number => median(pairedRatios(a, b));

export const pairedRatios = (a: readonly LoadResult[], b: readonly LoadResult[]): number[] =>
  a.map((r, i) => r.rps / (b[i]?.rps ?? Number.NaN));
