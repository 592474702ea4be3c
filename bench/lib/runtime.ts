// Runs the Worker the way the benchmark needs it: bundled by wrangler exactly as for a deploy,
// loaded into workerd through Miniflare's API (not `wrangler dev`, whose proxy Worker adds about
// 1 ms of CPU per request and hides our own costs), each Worker on its own direct workerd socket.
// The local KV, Queues and D1 simulators stay in the same workerd process, as in `wrangler dev`.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = resolve(import.meta.dirname, '../..');
const require = createRequire(join(ROOT, 'package.json'));
const wrangler = require('wrangler');
// The Miniflare copy wrangler itself depends on, so the options wrangler produces fit it.
const requireFromWrangler = createRequire(require.resolve('wrangler/package.json'));
const miniflare = requireFromWrangler('miniflare');

export const BENCH_SECRETS = {
  ADMIN_TOKEN: 'bench-admin-token-0123456789',
  CLICK_ID_SECRET: 'bench-click-id-secret-0123456789',
};

/** workerd's version as the runtime reports it (the binary wrangler's Miniflare spawns). */
export async function workerdVersion() {
  try {
    const bin = requireFromWrangler.resolve('workerd/bin/workerd');
    const { stdout } = await run(bin, ['--version'], { timeout: 10_000 });
    return stdout.trim();
  } catch {
    return `workerd ${requireFromWrangler('workerd/package.json').version}`;
  }
}

export const versions = () => ({
  wrangler: require('wrangler/package.json').version,
  miniflare: requireFromWrangler('miniflare/package.json').version,
});

/** `wrangler deploy --dry-run --outdir`: the same bundle a deploy would upload. */
export async function bundleWorker(outdir) {
  const bin = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  await run(process.execPath, [bin, 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    timeout: 120_000,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
  });
  const files = (await readdir(outdir)).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'));
  // wrangler names the entry index.js; anything else it emits (chunks) is an extra ES module.
  const main = files.includes('index.js') ? 'index.js' : files[0];
  const ordered = [main, ...files.filter((f) => f !== main)];
  return Promise.all(
    ordered.map(async (f) => ({
      type: 'ESModule',
      path: join(outdir, f),
      contents: await readFile(join(outdir, f), 'utf8'),
    })),
  );
}

const direct = [{ host: '127.0.0.1', port: 0 }];

/**
 * Starts one workerd with the Clickhop Worker (bindings from wrangler.toml) and the bare Worker.
 * `secondClickhop`: also a second copy of Clickhop, 'clickhop-b' — its own isolate and KV
 * namespace, the same D1, and a clicks queue with no consumer (the redirect path without the
 * local ingest pipeline; also "another isolate" for the cold-path measurement).
 * Returns URLs, D1 handles, the workerd pid and stop().
 */
export async function startRuntime({
  modules,
  persistDir,
  allowPrivateDestinations = true,
  secondClickhop = false,
  countingCopy = false,
  inspectorPort,
}) {
  // Secrets come from BENCH_SECRETS below; wrangler's note about a developer's .dev.vars is noise.
  const logLevel = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = 'error';
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml'));
  if (logLevel === undefined) delete process.env.WRANGLER_LOG;
  else process.env.WRANGLER_LOG = logLevel;
  const { modulesRules: _rules, ...clickhopBase } = workerOptions;
  const bindings = {
    ...clickhopBase.bindings,
    ...BENCH_SECRETS,
    ALLOW_PRIVATE_DESTINATIONS: allowPrivateDestinations ? 'true' : 'false',
  };
  const clickhop = {
    ...clickhopBase,
    name: 'clickhop',
    modules,
    modulesRoot: dirname(modules[0].path),
    bindings,
    unsafeDirectSockets: direct,
  };
  const workers = [
    clickhop,
    {
      name: 'bare',
      compatibilityDate: clickhopBase.compatibilityDate,
      compatibilityFlags: clickhopBase.compatibilityFlags,
      modules: [{ type: 'ESModule', path: join(ROOT, 'bench', 'bare-worker.js') }],
      modulesRoot: join(ROOT, 'bench'),
      d1Databases: { DB: { id: 'bench-bare-d1' } },
      unsafeDirectSockets: direct,
    },
  ];
  if (secondClickhop) {
    workers.push({
      ...clickhop,
      name: 'clickhop-b',
      cronTriggers: [],
      queueProducers: { ...clickhop.queueProducers, CLICKS_QUEUE: { queueName: 'bench-clicks-no-consumer' } },
      queueConsumers: {},
      kvNamespaces: { CONFIG: { id: 'bench-clickhop-b-config' } },
      d1Databases: clickhop.d1Databases,
    });
  }
  // The Worker's own console output (structured JSON lines) is counted, not printed: a run
  // writes thousands. Warnings and errors are kept (a few of each event) for the report.
  const logs = { counts: {}, samples: new Map() };
  const handleStructuredLogs = ({ level, message }) => {
    logs.counts[level] = (logs.counts[level] ?? 0) + 1;
    if (level === 'info' || level === 'log' || level === 'debug') return;
    const event = /"event":"([^"]+)"/.exec(message)?.[1] ?? message.slice(0, 80);
    const seen = logs.samples.get(event);
    if (seen) seen.count++;
    else logs.samples.set(event, { level, count: 1, example: message.slice(0, 400) });
  };
  if (countingCopy) {
    // bench/count-entry.js in front of the same bundle; same D1 and KV as 'clickhop', no queue
    // consumers of its own (the clicks it queues are consumed by 'clickhop').
    const dir = dirname(modules[0].path);
    const entry = join(dir, 'bench-count-entry.js');
    await copyFile(join(ROOT, 'bench', 'count-entry.js'), entry);
    workers.push({
      ...clickhop,
      name: 'clickhop-counted',
      cronTriggers: [],
      queueConsumers: {},
      modules: [{ type: 'ESModule', path: entry }, ...modules],
    });
  }
  const options = miniflare.convertV4MiniflareOptions({
    workers,
    cf: false,
    log: new miniflare.Log(miniflare.LogLevel.WARN),
    handleStructuredLogs,
    resourcePersistencePath: persistDir,
    ...(inspectorPort !== undefined ? { inspectorPort } : {}),
  });
  const before = new Set(childPids());
  const mf = new miniflare.Miniflare(options);
  try {
    await mf.ready;
    const urls = {};
    for (const w of workers) urls[w.name] = (await mf.unsafeGetDirectURL(w.name)).href.replace(/\/$/, '');
    const pid = childPids().find((p) => !before.has(p) && commOf(p) === 'workerd');
    return {
      mf,
      urls,
      pid,
      db: await mf.getD1Database('DB', 'clickhop'),
      bareDb: await mf.getD1Database('DB', 'bare'),
      logs,
      stop: () => mf.dispose(),
    };
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
}

/** Applies migrations/*.sql in order, as `wrangler d1 migrations apply` would. */
export async function applyMigrations(db) {
  const dir = join(ROOT, 'migrations');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()) {
    const statements = wrangler.unstable_splitSqlQuery(await readFile(join(dir, file), 'utf8'));
    await db.batch(statements.map((sql) => db.prepare(sql)));
  }
}

export const makeTempDir = (prefix) => mkdtemp(join(tmpdir(), prefix));
export const removeDir = (dir) => rm(dir, { recursive: true, force: true });

// --- /proc readers (Linux): the workerd child of this process, its CPU time and memory.

function childPids() {
  const out = [];
  try {
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {}
  return out;
}

function commOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime+stime of a process, in microseconds (all its threads). */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
