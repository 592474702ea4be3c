// Runs the Worker the way the benchmark needs it: bundled by wrangler exactly as for a deploy,
// loaded into workerd through Miniflare's API (not `wrangler dev`, whose proxy Worker adds about
// 1 ms of CPU per request and hides our own costs), each Worker on its own direct workerd socket.
// The local KV, Queues and D1 simulators stay in the same workerd process, as in `wrangler dev`.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Miniflare, V4MiniflareOptions, V4WorkerOptions as WorkerOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from 'wrangler';

const run = promisify(execFile);

export const ROOT = resolve(import.meta.dirname, '../..');
const require = createRequire(join(ROOT, 'package.json'));
// The Miniflare copy wrangler itself depends on, so the options wrangler produces fit it.
const requireFromWrangler = createRequire(require.resolve('wrangler/package.json'));
export const miniflare = requireFromWrangler('miniflare') as typeof import('miniflare');

export const BENCH_SECRETS = {
  ADMIN_TOKEN: 'bench-admin-token-0123456789',
  CLICK_ID_SECRET: 'bench-click-id-secret-0123456789',
};

const packageVersion = (req: NodeJS.Require, name: string): string =>
  (req(`${name}/package.json`) as { version: string }).version;

/** workerd's version as the runtime reports it (the binary wrangler's Miniflare spawns). */
export async function workerdVersion(): Promise<string> {
  try {
    const bin = requireFromWrangler.resolve('workerd/bin/workerd');
    const { stdout } = await run(bin, ['--version'], { timeout: 10_000 });
    return stdout.trim();
  } catch {
    return `workerd ${packageVersion(requireFromWrangler, 'workerd')}`;
  }
}

export const versions = () => ({
  wrangler: packageVersion(require, 'wrangler'),
  miniflare: packageVersion(requireFromWrangler, 'miniflare'),
  autocannon: packageVersion(require, 'autocannon'),
});

/** The tree's wrangler config: wrangler.jsonc, or wrangler.toml in commits from before the move. */
export function wranglerConfig(root: string): string {
  const jsonc = join(root, 'wrangler.jsonc');
  return existsSync(jsonc) ? jsonc : join(root, 'wrangler.toml');
}

export interface WorkerModule {
  type: 'ESModule';
  path: string;
  contents: string;
}

export interface Bundle {
  modules: WorkerModule[];
  /** wrangler's own "Total Upload: X KiB / gzip: Y KiB" figures, in bytes (NaN if not printed). */
  uploadBytes: number;
  uploadGzipBytes: number;
}

const KIB = 1024;

/** `wrangler deploy --dry-run --outdir`: the same bundle a deploy would upload. */
export async function bundleWorker(outdir: string, root = ROOT): Promise<Bundle> {
  const bin = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  const { stdout } = await run(process.execPath, [bin, 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: root,
    timeout: 120_000,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
  }).catch((error: Error & { stdout?: string; stderr?: string }) => {
    // Name the first build error rather than the whole command line.
    const output = `${error.stderr ?? ''}\n${error.stdout ?? ''}`;
    const detail = /\[ERROR\][^\n]*(\n[^\n]+){0,3}/.exec(output)?.[0].replace(/\s+/g, ' ');
    throw new Error(`wrangler deploy --dry-run failed in ${root}: ${detail ?? error.message}`);
  });
  const upload = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(stdout);
  const files = (await readdir(outdir)).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'));
  // wrangler names the entry index.js; anything else it emits (chunks) is an extra ES module.
  const main = files.includes('index.js') ? 'index.js' : (files[0] as string);
  const ordered = [main, ...files.filter((f) => f !== main)];
  const modules = await Promise.all(
    ordered.map(
      async (f): Promise<WorkerModule> => ({
        type: 'ESModule',
        path: join(outdir, f),
        contents: await readFile(join(outdir, f), 'utf8'),
      }),
    ),
  );
  return {
    modules,
    uploadBytes: upload ? Number(upload[1]) * KIB : Number.NaN,
    uploadGzipBytes: upload ? Number(upload[2]) * KIB : Number.NaN,
  };
}

const direct = [{ host: '127.0.0.1', port: 0 }];

/**
 * Clickhop's worker options: bindings from the tree's wrangler config, the bench secrets, the
 * bundled modules, its own direct socket.
 */
export function clickhopWorker(modules: WorkerModule[], root = ROOT, allowPrivateDestinations = true): WorkerOptions {
  // Secrets come from BENCH_SECRETS below; wrangler's note about a developer's .dev.vars is noise.
  const logLevel = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = 'error';
  const { workerOptions } = unstable_getMiniflareWorkerOptions(wranglerConfig(root));
  if (logLevel === undefined) delete process.env.WRANGLER_LOG;
  else process.env.WRANGLER_LOG = logLevel;
  const { modulesRules: _rules, ...base } = workerOptions as WorkerOptions;
  return {
    ...base,
    name: 'clickhop',
    modules,
    modulesRoot: dirname((modules[0] as WorkerModule).path),
    bindings: {
      ...base.bindings,
      ...BENCH_SECRETS,
      ALLOW_PRIVATE_DESTINATIONS: allowPrivateDestinations ? 'true' : 'false',
    },
    unsafeDirectSockets: direct,
  } as WorkerOptions;
}

export interface WorkerLogs {
  counts: Record<string, number>;
  samples: Map<string, { level: string; count: number; example: string }>;
  /** The consumer's `clicks.stored` lines (rows written per batch), for the cost section. */
  stored: Record<string, number>[];
}

export interface Runtime {
  mf: Miniflare;
  urls: Record<string, string>;
  pid: number | undefined;
  db: D1Database;
  bareDb: D1Database;
  logs: WorkerLogs;
  stop: () => Promise<void>;
}

export interface RuntimeOptions {
  modules: WorkerModule[];
  persistDir: string;
  allowPrivateDestinations?: boolean;
  secondClickhop?: boolean;
  countingCopy?: boolean;
  /** Queues consumed by the counting copy instead of 'clickhop' (their work is counted). */
  countedQueues?: string[];
  inspectorPort?: number;
}

/**
 * Starts one workerd with the Clickhop Worker (bindings from wrangler.jsonc) and the bare Worker.
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
  countedQueues = [],
  inspectorPort,
}: RuntimeOptions): Promise<Runtime> {
  const base = clickhopWorker(modules, ROOT, allowPrivateDestinations);
  // Miniflare takes consumers as a record by queue name or a list of names.
  const listed = base.queueConsumers ?? {};
  const consumers: Record<string, unknown> = Array.isArray(listed)
    ? Object.fromEntries(listed.map((name: string) => [name, {}]))
    : (listed as Record<string, unknown>);
  const moved = Object.fromEntries(Object.entries(consumers).filter(([name]) => countedQueues.includes(name)));
  const clickhop = {
    ...base,
    queueConsumers: Object.fromEntries(Object.entries(consumers).filter(([name]) => !countedQueues.includes(name))),
  } as WorkerOptions;
  const workers: WorkerOptions[] = [
    clickhop,
    {
      name: 'bare',
      compatibilityDate: clickhop.compatibilityDate,
      compatibilityFlags: clickhop.compatibilityFlags,
      modules: [{ type: 'ESModule', path: join(ROOT, 'bench', 'bare-worker.js') }],
      modulesRoot: join(ROOT, 'bench'),
      d1Databases: { DB: { id: 'bench-bare-d1' } },
      unsafeDirectSockets: direct,
    } as WorkerOptions,
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
    } as WorkerOptions);
  }
  const logs: WorkerLogs = { counts: {}, samples: new Map(), stored: [] };
  if (countingCopy) {
    // bench/count-entry.js in front of the same bundle; same D1 and KV as 'clickhop', no queue
    // consumers of its own (the clicks it queues are consumed by 'clickhop').
    const entry = join(dirname((modules[0] as WorkerModule).path), 'bench-count-entry.js');
    await copyFile(join(ROOT, 'bench', 'count-entry.js'), entry);
    workers.push({
      ...clickhop,
      name: 'clickhop-counted',
      cronTriggers: [],
      queueConsumers: moved,
      modules: [{ type: 'ESModule', path: entry }, ...modules],
    } as WorkerOptions);
  }
  const { mf, pid } = await startMiniflare(workers, persistDir, logs, inspectorPort);
  try {
    const urls: Record<string, string> = {};
    for (const w of workers) {
      const name = w.name as string;
      urls[name] = (await mf.unsafeGetDirectURL(name)).href.replace(/\/$/, '');
    }
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

/**
 * One workerd through Miniflare's API, its pid found in /proc. The Worker's own console output
 * (structured JSON lines) is counted into `logs`, not printed: a run writes thousands. Warnings
 * and errors are kept (a few of each event) for the report.
 */
export async function startMiniflare(
  workers: WorkerOptions[],
  persistDir: string,
  logs: WorkerLogs,
  inspectorPort?: number,
): Promise<{ mf: Miniflare; pid: number | undefined }> {
  const handleStructuredLogs = ({ level, message }: { level: string; message: string }) => {
    logs.counts[level] = (logs.counts[level] ?? 0) + 1;
    if (message.includes('"event":"clicks.stored"')) {
      try {
        logs.stored.push(JSON.parse(message));
      } catch {}
    }
    if (level === 'info' || level === 'log' || level === 'debug') return;
    const event = /"event":"([^"]+)"/.exec(message)?.[1] ?? message.slice(0, 80);
    const seen = logs.samples.get(event);
    if (seen) seen.count++;
    else logs.samples.set(event, { level, count: 1, example: message.slice(0, 400) });
  };
  const options = miniflare.convertV4MiniflareOptions({
    workers,
    cf: false,
    log: new miniflare.Log(miniflare.LogLevel.WARN),
    handleStructuredLogs,
    resourcePersistencePath: persistDir,
    ...(inspectorPort !== undefined ? { inspectorPort } : {}),
  } as V4MiniflareOptions);
  const before = new Set(childPids());
  const mf = new miniflare.Miniflare(options);
  try {
    await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
  const pid = childPids().find((p) => !before.has(p) && commOf(p) === 'workerd');
  return { mf, pid };
}

/** Applies migrations/*.sql in order, as `wrangler d1 migrations apply` would. */
export async function applyMigrations(db: D1Database, root = ROOT): Promise<void> {
  const dir = join(root, 'migrations');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()) {
    const statements = unstable_splitSqlQuery(await readFile(join(dir, file), 'utf8'));
    await db.batch(statements.map((sql) => db.prepare(sql)));
  }
}

export type D1Database = Awaited<ReturnType<Miniflare['getD1Database']>>;

export const makeTempDir = (prefix: string): Promise<string> => mkdtemp(join(tmpdir(), prefix));
export const removeDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true });

// --- /proc readers (Linux): the workerd child of this process, its CPU time and memory.

function childPids(): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {}
  return out;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime+stime of a process, in microseconds (all its threads; 10 ms resolution). */
export function cpuMicros(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

/**
 * CPU time of a process summed over its threads from /proc/<pid>/task/<tid>/schedstat, in
 * microseconds with nanosecond resolution: fine enough for a single request, which the
 * 10 ms ticks of cpuMicros() are not. Threads that ended in between are not counted.
 */
export function preciseCpuMicros(pid: number | undefined): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {}
  }
  return ns / 1000;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
