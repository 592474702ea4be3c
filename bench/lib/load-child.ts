// One autocannon run in its own Node process, so the load generator's CPU never competes with
// the Miniflare side of the harness for one event loop. Reads a JSON job (argv[2], see LoadJob in
// load.ts), prints one JSON result line. Latency percentiles are computed here from every
// response's own timing (ms, fractional); autocannon's histogram rounds to whole milliseconds.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { ChildResult, LoadJob } from './load.ts';

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as LoadJob;
const ids = job.idsFile ? readFileSync(job.idsFile, 'utf8').split('\n').filter(Boolean) : [];
const dynamic = /\{(n|id|offer|publisher)\}/.test(job.path);

/**
 * The n-th of many distinct offer/publisher pairs, in blocks of `block` offers: within a block
 * every offer is paired with publisher 1, then all again with publisher 2, and so on. Concurrent
 * requests thus rarely ask for the same unseen id at once, and a block's ids stay well inside
 * the isolate cache while it is being walked, so each id misses about once.
 */
function pairAt(pairs: NonNullable<LoadJob['pairs']>, i: number) {
  const { offerBase, publisherBase, publishers, block, start = 0 } = pairs;
  const k = start + i;
  const perBlock = block * publishers;
  const b = Math.floor(k / perBlock);
  const r = k % perBlock;
  return { offer: offerBase + b * block + (r % block), publisher: publisherBase + Math.floor(r / block) };
}
const limit = job.limit ?? (job.path.includes('{id}') ? ids.length : undefined);

let n = 0;
const latencies = new Float64Array(Math.max(1024, Math.min(8_000_000, (limit ?? 4_000_000) + 1024)));
let recorded = 0;
const clickIds: string[] = [];

const request: NonNullable<Parameters<typeof autocannon>[0]['requests']>[number] = { method: 'GET', path: job.path };
if (dynamic) {
  request.setupRequest = (req) => {
    const i = n++;
    let path = job.path.replaceAll('{n}', String(i)).replaceAll('{id}', ids[i % Math.max(1, ids.length)] ?? '');
    if (job.pairs) {
      const pair = pairAt(job.pairs, i);
      path = path.replaceAll('{offer}', String(pair.offer)).replaceAll('{publisher}', String(pair.publisher));
    }
    req.path = path;
    return req;
  };
}
if (job.collectClickIds) {
  request.onResponse = (_status, _body, _context, headers) => {
    const location = headers.location ?? headers.Location;
    const match = typeof location === 'string' ? /[?&]click_id=([^&#]+)/.exec(location) : null;
    if (match) clickIds.push(decodeURIComponent(match[1] as string));
  };
}

const startedAt = process.hrtime.bigint();
const epochNow = () => performance.timeOrigin + performance.now();
const startedEpoch = epochNow();
let lastResponseEpoch = 0;
const instance = autocannon(
  {
    url: job.origin,
    // autocannon refuses more connections than requests.
    connections: limit !== undefined ? Math.max(1, Math.min(job.connections, limit)) : job.connections,
    duration: job.seconds,
    ...(limit !== undefined ? { amount: limit } : {}),
    ...(job.rate ? { overallRate: job.rate } : {}),
    headers: job.headers ?? {},
    requests: [request],
    timeout: 10,
    // Check the stop conditions every 100 ms rather than every second.
    sampleInt: 100,
  },
  (error, result) => {
    const elapsed = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const endedEpoch = epochNow();
    if (error) {
      // stdout is a pipe: exit only once the line is written, or a long line is cut short.
      process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`, () => process.exit(1));
      return;
    }
    const sorted = latencies.subarray(0, recorded).sort();
    const pct = (p: number) =>
      recorded ? (sorted[Math.min(recorded - 1, Math.floor((p / 100) * recorded))] ?? null) : null;
    const completed = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
    // From the first request to the last answer: autocannon notices the end of a run only at its
    // next sampling tick, so its own duration can run long.
    const seconds =
      lastResponseEpoch > startedEpoch ? (lastResponseEpoch - startedEpoch) / 1000 : result.duration || elapsed;
    const out: ChildResult = {
      seconds,
      startedEpoch,
      endedEpoch: lastResponseEpoch || endedEpoch,
      completed,
      limitReached: limit !== undefined && completed >= limit,
      status: Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count])),
      errors: result.errors,
      timeouts: result.timeouts,
      rps: completed / seconds,
      latency: { p50: pct(50), p90: pct(90), p99: pct(99), max: recorded ? (sorted[recorded - 1] ?? null) : null },
    };
    if (job.collectClickIds) out.clickIds = clickIds;
    process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
  },
);
instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
  if (recorded < latencies.length) latencies[recorded++] = responseTime;
  lastResponseEpoch = epochNow();
});
// amount (limit) takes precedence over duration in autocannon: enforce the time bound too.
if (limit !== undefined) setTimeout(() => instance.stop(), job.seconds * 1000).unref();
