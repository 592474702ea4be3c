// npm run bench: Clickhop against a bare Worker on the same local workerd, side by side —
// redirect, postback, click ingest, notification delivery, CPU per click and isolate-cache
// memory — written to bench/RESULTS.md. See docs/benchmark.md for how to read it.
//
// Everything is bounded: each load run by time (and often by count), every wait by a timeout,
// the whole run by BENCH_MAX_SECONDS. Only 127.0.0.1 is contacted. On any exit the load
// generators and workerd processes this run started are stopped and its temp files removed.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { callsSection } from './lib/calls.mjs';
import { createFixtures, LANDING_URL } from './lib/fixtures.mjs';
import { ingestSection } from './lib/ingest.mjs';
import { killLoadChildren } from './lib/load.mjs';
import { memorySection, profileSection } from './lib/memory.mjs';
import { parseOptions, usage } from './lib/options.mjs';
import { deliverySection, postbackSection } from './lib/postback.mjs';
import { coldSection, redirectSection } from './lib/redirect.mjs';
import { CAVEATS, renderReport } from './lib/report.mjs';
import {
  applyMigrations,
  bundleWorker,
  makeTempDir,
  ROOT,
  removeDir,
  startRuntime,
  versions,
  workerdVersion,
} from './lib/runtime.mjs';

const started = performance.now();
const log = (message) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);

const runtimes = new Set();
let workDir = null;
let cleaning = null;
// Set by the time limit or a signal: the run is being torn down and must not write a report.
let aborted = false;

function cleanup() {
  cleaning ??= (async () => {
    killLoadChildren();
    for (const rt of runtimes) await rt.stop().catch(() => {});
    runtimes.clear();
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
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    aborted = true;
    log(`${signal}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

async function start(options) {
  const rt = await startRuntime(options);
  runtimes.add(rt);
  return rt;
}

async function stop(rt) {
  runtimes.delete(rt);
  await rt.stop();
}

function environment() {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      return '';
    }
  };
  const require = createRequire(join(ROOT, 'package.json'));
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    memTotal: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    loadStart: os.loadavg()[0].toFixed(2),
    node: process.version,
    autocannon: require('autocannon/package.json').version,
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    ...versions(),
  };
}

/** Runs one section; a failure is recorded in the report and never stops the others. */
async function section(name, results, errors, fn) {
  log(`${name}: start`);
  try {
    results[name] = await fn();
  } catch (error) {
    log(`${name}: FAILED ${error.stack ?? error}`);
    results[name] = { error: String(error.message ?? error).split('\n')[0] };
    errors.push(`${name}: ${String(error.message ?? error).split('\n')[0]}`);
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2), process.env);
  if (opts.help) {
    console.log(usage());
    return;
  }
  const watchdog = setTimeout(() => {
    aborted = true;
    log(`time limit of ${opts.maxSeconds} s reached: stopping (no report written)`);
    cleanup().finally(() => process.exit(2));
  }, opts.maxSeconds * 1000);

  const env = environment();
  env.workerd = await workerdVersion();
  const results = {};
  const errors = [];
  const workerLogs = [];
  workDir = await makeTempDir('clickhop-bench-');

  log('bundling the Worker (wrangler deploy --dry-run)');
  const modules = await bundleWorker(join(workDir, 'dist'));
  const bundlePath = modules[0].path;
  const wants = (name) => opts.sections.has(name);

  const makeContext = async (rt) => {
    await applyMigrations(rt.db);
    await rt.bareDb.exec(
      'CREATE TABLE IF NOT EXISTS bare_conversions (order_id TEXT PRIMARY KEY, created_at TEXT NOT NULL)',
    );
    const fx = await createFixtures(rt.urls.clickhop);
    return {
      opts,
      rt,
      fx,
      admin: fx.admin,
      log,
      bundlePath,
      workDir,
      loadContext: { workDir, workerdPid: rt.pid },
      createOffer: (name) =>
        fx.admin.create('/api/v1/offers', {
          advertiser_id: fx.advertiser.id,
          name,
          landing_url: LANDING_URL,
          currency: 'EUR',
          goals: [{ key: 'lead', revenue: '5.00', payout: '2.00' }],
        }),
    };
  };

  if (['redirect', 'cold', 'postback', 'ingest', 'delivery'].some(wants)) {
    log('starting workerd (Clickhop, Clickhop copy B, bare Worker)');
    const rt = await start({ modules, persistDir: join(workDir, 'state-main'), secondClickhop: true });
    log(
      `workerd pid ${rt.pid}: ${Object.entries(rt.urls)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    const ctx = await makeContext(rt);
    if (wants('redirect')) await section('redirect', results, errors, () => redirectSection(ctx));
    if (wants('cold')) await section('cold', results, errors, () => coldSection(ctx));
    if (wants('postback')) await section('postback', results, errors, () => postbackSection(ctx));
    if (wants('ingest')) await section('ingest', results, errors, () => ingestSection(ctx));
    if (wants('delivery')) await section('delivery', results, errors, () => deliverySection(ctx));
    workerLogs.push({ runtime: 'main', ...rt.logs });
    await stop(rt);
  }
  if ((wants('profile') && opts.profileSeconds > 0) || wants('memory') || wants('calls')) {
    log('starting a second workerd with the V8 inspector (profile, platform calls, cache memory)');
    const rt = await start({
      modules,
      persistDir: join(workDir, 'state-inspect'),
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

  env.loadEnd = os.loadavg()[0].toFixed(2);
  env.totalSeconds = (performance.now() - started) / 1000;
  if (aborted) return 2;
  const report = renderReport({ env, opts, ...results, workerLogs, caveats: CAVEATS, errors });
  const out = resolve(ROOT, opts.out);
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
