// npm run bench: Clickhop against a bare Worker on the same local workerd, side by side —
// redirect, postback, click ingest, notification delivery, CPU per click, isolate-cache memory,
// upload size, the first request in a fresh isolate and the portal's heaviest page — written to
// bench/RESULTS.md. See docs/benchmark.md for how to read it.
//
// Everything is bounded: each load run by time (and often by count), every wait by a timeout,
// the whole run by BENCH_MAX_SECONDS. Only 127.0.0.1 is contacted. On any exit the load
// generators and workerd processes this run started are stopped and its temp files removed.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { browserSection } from './lib/browser.ts';
import { callsSection } from './lib/calls.ts';
import { coldSection } from './lib/cold.ts';
import type { BenchContext } from './lib/context.ts';
import { costSection } from './lib/cost.ts';
import { profileSection } from './lib/cpu-profile.ts';
import { deliverySection } from './lib/delivery.ts';
import { createFixtures } from './lib/fixtures.ts';
import { ingestSection } from './lib/ingest.ts';
import { killLoadChildren } from './lib/load.ts';
import { memorySection } from './lib/memory.ts';
import { statementsSection, validationSection } from './lib/month.ts';
import { type Options, parseOptions, type Section, usage } from './lib/options.ts';
import { portalSection } from './lib/portal.ts';
import { postbackSection } from './lib/postback.ts';
import { postbackRulesSection } from './lib/postback-rules.ts';
import { redirectSection } from './lib/redirect.ts';
import { CAVEATS, type Environment, type ReportInput, renderReport } from './lib/report.ts';
import { readHeadline } from './lib/report-startup.ts';
import {
  applyMigrations,
  bundleWorker,
  makeTempDir,
  ROOT,
  type Runtime,
  type RuntimeOptions,
  removeDir,
  startRuntime,
  versions,
  workerdVersion,
} from './lib/runtime.ts';
import { scaleSection } from './lib/scale.ts';
import { measureTree, type TreeMeasurement } from './lib/startup.ts';
import { termsSection } from './lib/terms.ts';
import { addWorktree } from './lib/worktree.ts';

const started = performance.now();
const log = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);

const runtimes = new Set<Runtime>();
let workDir: string | null = null;
let cleaning: Promise<void> | null = null;
// Worktrees of baseline commits, removed on exit.
const cleanups: (() => Promise<void>)[] = [];
// Set by the time limit or a signal: the run is being torn down and must not write a report.
let aborted = false;

function cleanup() {
  cleaning ??= (async () => {
    killLoadChildren();
    for (const rt of runtimes) await rt.stop().catch(() => {});
    runtimes.clear();
    for (const clean of cleanups.splice(0)) await clean().catch(() => {});
    if (workDir) await removeDir(workDir).catch(() => {});
  })();
  return cleaning;
}

// Last resort if the process goes down before cleanup() finished (Miniflare's own signal
// handling exits the process at once): nothing we started may outlive us, no temp files stay.
process.on('exit', () => {
  killLoadChildren();
  for (const rt of runtimes) {
    try {
      if (rt.pid) process.kill(rt.pid, 'SIGKILL');
    } catch {}
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    aborted = true;
    log(`${signal}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

async function start(options: RuntimeOptions): Promise<Runtime> {
  const rt = await startRuntime(options);
  runtimes.add(rt);
  return rt;
}

async function stop(rt: Runtime): Promise<void> {
  runtimes.delete(rt);
  await rt.stop();
}

function environment(): Environment {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      return '';
    }
  };
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    memTotal: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    loadStart: (os.loadavg()[0] ?? 0).toFixed(2),
    uptimeStart: uptime(),
    node: process.version,
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    ...versions(),
  };
}

/** The load averages as `uptime` prints them. */
function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8', timeout: 5_000 })
      .trim()
      .replace(/^.*load average:\s*/, 'load average ');
  } catch {
    return os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(', ');
  }
}

type Results = Omit<ReportInput, 'env' | 'opts' | 'workerLogs' | 'caveats' | 'errors' | 'previous'>;

/** Runs one section; a failure is recorded in the report and never stops the others. */
async function section<K extends keyof Results>(
  name: K,
  results: Results,
  errors: string[],
  fn: () => Promise<NonNullable<Results[K]>>,
): Promise<void> {
  log(`${name}: start`);
  try {
    results[name] = await fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${name}: FAILED ${error instanceof Error ? error.stack : error}`);
    // Every section's outcome is a result or { error }; asserted, as the union of all sections'
    // result types is too large for the checker to expand here.
    results[name] = { error: message.split('\n')[0] ?? '' } as Results[K];
    errors.push(`${name}: ${message.split('\n')[0]}`);
  }
}

/** Upload size and first-request cost of this tree and, with --baseline, of another commit. */
async function measureTrees(opts: Options, dir: string, env: Environment): Promise<TreeMeasurement[]> {
  const want = { size: opts.sections.has('size'), startup: opts.sections.has('startup'), samples: opts.startupSamples };
  const trees = [await measureTree('this tree', env.commit + (env.dirty ? '+' : ''), ROOT, dir, want)];
  if (opts.baseline) {
    const worktree = await addWorktree(opts.baseline, join(dir, 'baseline'));
    cleanups.push(worktree.remove);
    log(`baseline ${worktree.commit} checked out in ${worktree.root}`);
    try {
      trees.push(await measureTree('baseline', worktree.commit, worktree.root, dir, want));
    } catch (error) {
      trees.push({ label: 'baseline', commit: worktree.commit, error: String(error).split('\n')[0] ?? '' });
    }
  }
  return trees;
}

async function main() {
  const parsed = parseOptions(process.argv.slice(2), process.env);
  if ('help' in parsed) {
    console.log(usage());
    return 0;
  }
  const opts = parsed;
  const watchdog = setTimeout(() => {
    aborted = true;
    log(`time limit of ${opts.maxSeconds} s reached: stopping (no report written)`);
    cleanup().finally(() => process.exit(2));
  }, opts.maxSeconds * 1000);
  // Only a bound: an early failure must not leave the process waiting for it.
  watchdog.unref();

  const env = environment();
  env.workerd = await workerdVersion();
  const results: Results = {};
  const errors: string[] = [];
  const workerLogs: ReportInput['workerLogs'] = [];
  const dir = await makeTempDir('clickhop-bench-');
  workDir = dir;
  const wants = (name: Section) => opts.sections.has(name);
  const out = resolve(ROOT, opts.out);
  let previous: string | null = null;
  try {
    previous = readFileSync(out, 'utf8');
  } catch {}

  if (wants('scale')) {
    log(`scale: one partition at 10^4 and ${opts.scaleClicks} stored clicks (vitest in workerd)`);
    await section('scale', results, errors, () => scaleSection(opts.scaleClicks, opts.maxSeconds * 1000));
  }
  if (wants('size') || wants('startup')) {
    log('upload size and first request in a fresh isolate');
    await section('trees', results, errors, () => measureTrees(opts, dir, env));
  }

  const runtimeSections = [
    'redirect',
    'cold',
    'postback',
    'postback-rules',
    'ingest',
    'delivery',
    'calls',
    'memory',
    'terms',
    'portal',
    'browser',
    'validation',
    'statements',
    'cost',
  ] as const;
  const profiling = wants('profile') && opts.profileSeconds > 0;
  const bundle = async () => {
    log('bundling the Worker (wrangler deploy --dry-run)');
    return bundleWorker(join(dir, 'dist'));
  };
  const { modules } = runtimeSections.some(wants) || profiling ? await bundle() : { modules: [] };
  const bundlePath = modules[0]?.path ?? '';

  const makeContext = async (rt: Runtime): Promise<BenchContext> => {
    await applyMigrations(rt.db);
    await rt.bareDb.exec(
      'CREATE TABLE IF NOT EXISTS bare_conversions (order_id TEXT PRIMARY KEY, created_at TEXT NOT NULL)',
    );
    const fx = await createFixtures(rt.urls.clickhop as string);
    return { opts, rt, fx, log, bundlePath, workDir: dir, loadContext: { workDir: dir, workerdPid: rt.pid } };
  };

  if (
    (
      ['redirect', 'cold', 'postback', 'postback-rules', 'ingest', 'delivery', 'terms', 'browser', 'cost'] as const
    ).some(wants)
  ) {
    log('starting workerd (Clickhop, Clickhop copy B, bare Worker)');
    const rt = await start({ modules, persistDir: join(dir, 'state-main'), secondClickhop: true });
    log(
      `workerd pid ${rt.pid}: ${Object.entries(rt.urls)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    const ctx = await makeContext(rt);
    if (wants('redirect')) await section('redirect', results, errors, () => redirectSection(ctx));
    if (wants('cold')) await section('cold', results, errors, () => coldSection(ctx));
    if (wants('postback')) await section('postback', results, errors, () => postbackSection(ctx));
    if (wants('postback-rules')) await section('postbackRules', results, errors, () => postbackRulesSection(ctx));
    if (wants('ingest')) await section('ingest', results, errors, () => ingestSection(ctx));
    if (wants('cost')) await section('cost', results, errors, () => costSection(ctx));
    if (wants('delivery')) await section('delivery', results, errors, () => deliverySection(ctx));
    if (wants('terms')) await section('terms', results, errors, () => termsSection(ctx));
    if (wants('browser')) await section('browser', results, errors, () => browserSection(ctx));
    workerLogs.push({ runtime: 'main', ...rt.logs });
    await stop(rt);
  }
  if (profiling || wants('memory') || wants('calls')) {
    log('starting a second workerd with the V8 inspector (profile, platform calls, cache memory)');
    const rt = await start({
      modules,
      persistDir: join(dir, 'state-inspect'),
      inspectorPort: 0,
      countingCopy: true,
    });
    const ctx = await makeContext(rt);
    if (wants('profile') && opts.profileSeconds > 0)
      await section('profile', results, errors, () => profileSection(ctx));
    if (wants('calls')) await section('calls', results, errors, () => callsSection(ctx));
    if (wants('memory')) await section('memory', results, errors, () => memorySection(ctx));
    workerLogs.push({ runtime: 'inspector', ...rt.logs });
    await stop(rt);
  }
  if (wants('portal')) {
    // Its own workerd and D1: the seeded network is all the overview reads, whatever ran before.
    log('starting a workerd for the portal overview (Clickhop, bare Worker, counting copy)');
    const rt = await start({ modules, persistDir: join(dir, 'state-portal'), countingCopy: true });
    const ctx = await makeContext(rt);
    await section('portal', results, errors, () => portalSection(ctx));
    workerLogs.push({ runtime: 'portal', ...rt.logs });
    await stop(rt);
  }

  if (wants('validation') || wants('statements')) {
    // Its own workerd and D1; the counting copy consumes the validations Queue, so the
    // background chunks' D1 rows are counted with the request that started them.
    log('starting a workerd for closing the month (Clickhop, counting copy consuming clickhop-validations)');
    const rt = await start({
      modules,
      persistDir: join(dir, 'state-month'),
      countingCopy: true,
      countedQueues: ['clickhop-validations'],
    });
    const ctx = await makeContext(rt);
    if (wants('validation')) await section('validation', results, errors, () => validationSection(ctx));
    if (wants('statements')) await section('statements', results, errors, () => statementsSection(ctx));
    workerLogs.push({ runtime: 'month', ...rt.logs });
    await stop(rt);
  }

  env.loadEnd = (os.loadavg()[0] ?? 0).toFixed(2);
  env.uptimeEnd = uptime();
  env.totalSeconds = (performance.now() - started) / 1000;
  if (aborted) return 2;
  const report = renderReport({
    env,
    opts,
    ...results,
    workerLogs,
    caveats: CAVEATS,
    errors,
    previous: previous === null ? null : readHeadline(previous),
  });
  await writeFile(out, report);
  clearTimeout(watchdog);
  log(`wrote ${out}`);
  return errors.length ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exitCode = code;
  })
  .catch(async (error) => {
    log(`FAILED: ${error.stack ?? error}`);
    await cleanup();
    process.exitCode = 1;
  });
