// Section 1b: the latency of the first request to an offer just created through the admin API.
import type { BenchContext } from './context.ts';
import { CLICK_HEADERS, clickPath } from './fixtures.ts';
import { median } from './stats.ts';

async function timeOne(url: string): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  const response = await fetch(url, {
    redirect: 'manual',
    headers: CLICK_HEADERS,
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return { ms: performance.now() - t0, status: response.status };
}

const ROWS = ['bareWarm', 'oursWarm', 'sameIsolate', 'kvHit', 'kvHitSecond', 'kvMiss', 'kvMissSecond'] as const;
export type ColdRow = (typeof ROWS)[number];
export interface ColdStat {
  median: number;
  max: number;
  n: number;
}
export type ColdResult = Record<ColdRow, ColdStat> & { kvKeyFound: boolean; statuses: number[] };

/** The two KV calls used here (Miniflare's proxy types do not resolve outside workerd's types). */
interface ConfigKv {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
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
export async function coldSection(ctx: BenchContext): Promise<ColdResult> {
  const { opts, rt, fx } = ctx;
  const kvA = (await rt.mf.getKVNamespace('CONFIG', 'clickhop')) as unknown as ConfigKv;
  const kvB = (await rt.mf.getKVNamespace('CONFIG', 'clickhop-b')) as unknown as ConfigKv;
  const ours = rt.urls.clickhop as string;
  const other = rt.urls['clickhop-b'] as string;
  const bare = rt.urls.bare as string;
  const warmPath = clickPath(fx);
  const pub = fx.publisher.id;
  const rows = Object.fromEntries(ROWS.map((k) => [k, [] as number[]])) as Record<ColdRow, number[]>;
  let kvKeyFound = true;
  const statuses = new Set<number>();
  // Open keep-alive connections and warm the publisher entry in both isolates.
  for (const origin of [bare, ours, other]) await timeOne(origin + warmPath);
  for (let i = 0; i < opts.coldSamples; i++) {
    rows.bareWarm.push((await timeOne(bare + warmPath)).ms);
    rows.oursWarm.push((await timeOne(ours + warmPath)).ms);

    const a = await fx.createOffer(`cold ${i}a`);
    const same = await timeOne(`${ours}/c/${a.id}/${pub}`);
    rows.sameIsolate.push(same.ms);
    statuses.add(same.status);

    const b = await fx.createOffer(`cold ${i}b`);
    const stored = await kvA.get(`cfg:v1:offer:${b.id}`);
    if (stored !== null) {
      await kvB.put(`cfg:v1:offer:${b.id}`, stored);
      const first = await timeOne(`${other}/c/${b.id}/${pub}`);
      rows.kvHit.push(first.ms);
      statuses.add(first.status);
      rows.kvHitSecond.push((await timeOne(`${other}/c/${b.id}/${pub}`)).ms);
    } else kvKeyFound = false;

    const c = await fx.createOffer(`cold ${i}c`);
    const miss = await timeOne(`${other}/c/${c.id}/${pub}`);
    rows.kvMiss.push(miss.ms);
    statuses.add(miss.status);
    rows.kvMissSecond.push((await timeOne(`${other}/c/${c.id}/${pub}`)).ms);
  }
  const stat = (list: number[]): ColdStat => ({
    median: median(list),
    max: list.length ? Math.max(...list) : Number.NaN,
    n: list.length,
  });
  const stats = Object.fromEntries(ROWS.map((k) => [k, stat(rows[k])])) as Record<ColdRow, ColdStat>;
  return { ...stats, kvKeyFound, statuses: [...statuses] };
}
