// Worker upload size and the first request in a fresh isolate, for this tree and optionally a
// baseline commit: what a deploy uploads (wrangler's own "Total Upload" figures from
// `wrangler deploy --dry-run`), and what the first request to /api/openapi.json and to a click
// link costs in a workerd that has just started, next to the second request there.
import { join } from 'node:path';
import { createFixtures } from './fixtures.ts';
import {
  applyMigrations,
  type Bundle,
  bundleWorker,
  clickhopWorker,
  preciseCpuMicros,
  startMiniflare,
  type WorkerLogs,
} from './runtime.ts';
import { median, sleep } from './stats.ts';

const SETTLE_MS = 500;

export interface SizeResult {
  uploadBytes: number;
  uploadGzipBytes: number;
  modules: number;
  /** Bytes of the bundled modules as written to disk (without source maps). */
  bundleBytes: number;
}

export const bundleSize = (bundle: Bundle): SizeResult => ({
  uploadBytes: bundle.uploadBytes,
  uploadGzipBytes: bundle.uploadGzipBytes,
  modules: bundle.modules.length,
  bundleBytes: bundle.modules.reduce((n, m) => n + Buffer.byteLength(m.contents), 0),
});

export interface FirstRequest {
  /** workerd process CPU (all threads, ns resolution) from request sent to answer read, µs. */
  cpuUs: number;
  wallMs: number;
  status: number;
}

export interface StartupTarget {
  samples: number;
  readyMs: number;
  first: { cpuUs: number; wallMs: number };
  second: { cpuUs: number; wallMs: number };
  statuses: number[];
}

export interface StartupResult {
  openapi: StartupTarget;
  click: StartupTarget;
}

async function timed(pid: number | undefined, url: string, headers: Record<string, string>): Promise<FirstRequest> {
  const cpu0 = preciseCpuMicros(pid);
  const t0 = performance.now();
  const response = await fetch(url, { redirect: 'manual', headers, signal: AbortSignal.timeout(30_000) });
  await response.arrayBuffer();
  return { wallMs: performance.now() - t0, cpuUs: preciseCpuMicros(pid) - cpu0, status: response.status };
}

const CLICK_HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
};

/**
 * One tree: state seeded once (migrations, fixtures through the admin API, so the offer sits in
 * D1 and KV), then per sample and target a fresh workerd on that state, its first request and a
 * second one. Only the Clickhop Worker runs there (no bare Worker, no second copy).
 */
export async function measureStartup(
  bundle: Bundle,
  root: string,
  stateDir: string,
  samples: number,
): Promise<StartupResult> {
  const logs: WorkerLogs = { counts: {}, samples: new Map(), stored: [] };
  const start = () => startMiniflare([clickhopWorker(bundle.modules, root)], stateDir, logs);
  const urlOf = async (mf: Awaited<ReturnType<typeof start>>['mf']) =>
    (await mf.unsafeGetDirectURL('clickhop')).href.replace(/\/$/, '');

  const seed = await start();
  let clickPath: string;
  try {
    await applyMigrations(await seed.mf.getD1Database('DB', 'clickhop'), root);
    const fx = await createFixtures(await urlOf(seed.mf), 'startup');
    clickPath = `/c/${fx.offer.id}/${fx.publisher.id}`;
  } finally {
    await seed.mf.dispose();
  }

  const measure = async (path: string, headers: Record<string, string>): Promise<StartupTarget> => {
    const rows: { readyMs: number; first: FirstRequest; second: FirstRequest }[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      const { mf, pid } = await start();
      try {
        const readyMs = performance.now() - t0;
        const url = (await urlOf(mf)) + path;
        // Let start-up work in the simulators settle, and the first click's batch flush and be
        // consumed, so each window holds one request's work.
        await sleep(SETTLE_MS);
        const first = await timed(pid, url, headers);
        await sleep(SETTLE_MS * 4);
        const second = await timed(pid, url, headers);
        rows.push({ readyMs, first, second });
      } finally {
        await mf.dispose();
      }
    }
    const pick = (f: (r: (typeof rows)[number]) => number) => median(rows.map(f));
    return {
      samples: rows.length,
      readyMs: pick((r) => r.readyMs),
      first: { cpuUs: pick((r) => r.first.cpuUs), wallMs: pick((r) => r.first.wallMs) },
      second: { cpuUs: pick((r) => r.second.cpuUs), wallMs: pick((r) => r.second.wallMs) },
      statuses: [...new Set(rows.flatMap((r) => [r.first.status, r.second.status]))],
    };
  };
  return {
    openapi: await measure('/api/openapi.json', {}),
    click: await measure(clickPath, CLICK_HEADERS),
  };
}

export interface TreeMeasurement {
  label: string;
  commit: string;
  size?: SizeResult;
  startup?: StartupResult;
  error?: string;
}

/** Bundles one tree and measures what `want` asks for. */
export async function measureTree(
  label: string,
  commit: string,
  root: string,
  workDir: string,
  want: { size: boolean; startup: boolean; samples: number },
): Promise<TreeMeasurement> {
  const bundle = await bundleWorker(join(workDir, `dist-${label}`), root);
  return {
    label,
    commit,
    ...(want.size ? { size: bundleSize(bundle) } : {}),
    ...(want.startup
      ? { startup: await measureStartup(bundle, root, join(workDir, `state-startup-${label}`), want.samples) }
      : {}),
  };
}
