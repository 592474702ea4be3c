// Section "terms": the redirect with program terms in force (a private offer with the
// publisher approved, a click cap and a conversion cap, neither reached) against the same
// redirect on an offer without terms, alternating runs, paired medians: req/s at full load and
// workerd CPU per redirect at a fixed rate. Measured on copy B, the redirect without the local
// ingest pipeline: the terms check is on the redirect, click caps are counted off it (after
// each consumer batch), and waiting for the local pipeline to drain between runs would make
// the pairs minutes apart. Issue 14 asks for at least 0.95. See docs/program-terms.md.
import type { BenchContext } from './context.ts';
import { type AdminClient, CLICK_HEADERS, LANDING_URL } from './fixtures.ts';
import { type LoadResult, pairedRatios, type RunsSummary, runLoad, summariseRuns } from './load.ts';
import { errorOf, type Outcome, okOf, skipped, table } from './report-format.ts';
import { fmt, median, ms } from './stats.ts';

const TARGETS = ['plain', 'terms'] as const;
type Target = (typeof TARGETS)[number];

export interface TermsResult {
  plainPath: string;
  termsPath: string;
  summary: Record<Target, RunsSummary>;
  /** Median paired req/s ratio terms / plain at full load, and its range over the runs. */
  ratio: number;
  ratioRange: [number, number];
  /**
   * Copy B at a fixed offered rate: workerd CPU per redirect without terms / with terms (the
   * capacity ratio of a CPU-bound Worker), median of paired runs. Less sensitive than req/s to
   * other processes on a shared machine.
   */
  cpu: { rate: number; plainUs: number; termsUs: number; ratio: number; range: [number, number] };
}

const FIXED_RATE = 800;

async function must(admin: AdminClient, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await admin.call(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status}: ${res.text.slice(0, 300)}`);
  return res.json;
}

/** A private offer open to the fixture's publisher, with two caps far from their limits. */
async function offerWithTerms(ctx: BenchContext): Promise<number> {
  const { fx } = ctx;
  const offer = await fx.createOffer('terms bench: private, approved, two caps');
  await must(fx.admin, 'PATCH', `/api/v1/offers/${offer.id}`, { visibility: 'private' });
  const application = (await must(fx.admin, 'POST', `/api/v1/offers/${offer.id}/applications`, {
    publisher_id: fx.publisher.id,
  })) as { id: number };
  await must(fx.admin, 'POST', `/api/v1/applications/${application.id}/approve`);
  await must(fx.admin, 'POST', `/api/v1/offers/${offer.id}/caps`, {
    metric: 'clicks',
    period: 'day',
    limit: 1_000_000_000,
  });
  await must(fx.admin, 'POST', `/api/v1/offers/${offer.id}/caps`, {
    metric: 'conversions',
    period: 'month',
    limit: 1_000_000,
  });
  return offer.id;
}

/** Every target answers a click with the landing page (terms in force, but not refusing). */
async function checkLanding(origin: string, path: string): Promise<void> {
  const response = await fetch(origin + path, { headers: CLICK_HEADERS, redirect: 'manual' });
  const location = response.headers.get('location') ?? '';
  if (response.status !== 302 || !location.startsWith(new URL(LANDING_URL).origin))
    throw new Error(`${origin}${path} answered ${response.status} ${location}: not the landing page`);
}

export async function termsSection(ctx: BenchContext): Promise<TermsResult> {
  const { opts, rt, fx, log } = ctx;
  const plain = await fx.createOffer('terms bench: public, no terms');
  const termsId = await offerWithTerms(ctx);
  const plainPath = `/c/${plain.id}/${fx.publisher.id}`;
  const termsPath = `/c/${termsId}/${fx.publisher.id}`;
  const copyB = rt.urls['clickhop-b'] as string;
  const paths: Record<Target, string> = { plain: plainPath, terms: termsPath };
  for (const path of Object.values(paths)) await checkLanding(copyB, path);

  const runOne = (key: Target, seconds: number): Promise<LoadResult> =>
    runLoad(
      { origin: copyB, path: paths[key], headers: CLICK_HEADERS, connections: opts.connections, seconds },
      ctx.loadContext,
    );

  if (opts.warmupSeconds > 0) for (const key of TARGETS) await runOne(key, opts.warmupSeconds);
  const runs: Record<Target, LoadResult[]> = { plain: [], terms: [] };
  for (let run = 1; run <= opts.runs; run++) {
    // Alternate which of the pair goes first, so a drift in the machine's load favours neither.
    const order = run % 2 === 1 ? TARGETS : ([...TARGETS].reverse() as readonly Target[]);
    for (const key of order) {
      const r = await runOne(key, opts.seconds);
      runs[key].push(r);
      log(`terms run ${run}/${opts.runs} ${key}: ${Math.round(r.rps)} req/s, p99 ${r.latency.p99?.toFixed(2)} ms`);
    }
  }
  // Fixed-rate pairs on copy B: CPU per redirect, the cost the terms check could add.
  const cpuPairs: { plain: number; terms: number }[] = [];
  const perRequest = (r: LoadResult) => r.cpuUs / Math.max(1, r.completed);
  for (let run = 1; run <= opts.runs * 2; run++) {
    const at = (path: string) =>
      runLoad(
        {
          origin: copyB,
          path,
          headers: CLICK_HEADERS,
          connections: opts.connections,
          seconds: opts.seconds,
          rate: FIXED_RATE,
        },
        ctx.loadContext,
      );
    const first = run % 2 === 1 ? plainPath : termsPath;
    const a = await at(first);
    const b = await at(first === plainPath ? termsPath : plainPath);
    const [plainRun, termsRun] = first === plainPath ? [a, b] : [b, a];
    cpuPairs.push({ plain: perRequest(plainRun), terms: perRequest(termsRun) });
    log(`terms cpu pair ${run}: ${fmt(perRequest(plainRun))} µs plain, ${fmt(perRequest(termsRun))} µs with terms`);
  }
  const cpuRatios = cpuPairs.map((p) => p.plain / p.terms);

  const ratios = pairedRatios(runs.terms, runs.plain);
  return {
    plainPath,
    termsPath,
    summary: {
      plain: summariseRuns(runs.plain, '302'),
      terms: summariseRuns(runs.terms, '302'),
    },
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    cpu: {
      rate: FIXED_RATE,
      plainUs: median(cpuPairs.map((p) => p.plain)),
      termsUs: median(cpuPairs.map((p) => p.terms)),
      ratio: median(cpuRatios),
      range: [Math.min(...cpuRatios), Math.max(...cpuRatios)],
    },
  };
}

const LABELS: Record<Target, string> = {
  plain: 'Public offer, no terms',
  terms: 'Private offer, publisher approved, 2 caps not reached',
};

/** The section in RESULTS.md: nothing when it did not run. */
export function termsReport(outcome: Outcome<TermsResult> | undefined): string[] {
  if (outcome === undefined) return [];
  const heading = '## Program terms: the redirect with terms in force against the same redirect without';
  const error = errorOf(outcome);
  const result = okOf(outcome);
  if (error || !result) return [heading, '', skipped('Program terms', error ?? 'no result'), ''];
  return [heading, '', ...termsText(result), ''];
}

function termsText(r: TermsResult): string[] {
  const range = ([a, b]: [number, number]) => `${a.toFixed(2)}–${b.toFixed(2)}`;
  return [
    table(
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/request', 'not 302'],
      TARGETS.map((t) => {
        const s = r.summary[t];
        return [LABELS[t], fmt(s.rps), ms(s.p50), ms(s.p99), fmt(s.cpuUsPerRequest), String(s.notOk)];
      }),
      { left: true },
    ),
    '',
    `Terms / no terms, req/s at full load (median of paired runs): **${r.ratio.toFixed(2)}** ` +
      `(runs ${range(r.ratioRange)}).`,
    '',
    `At a fixed ${fmt(r.cpu.rate)} redirects/s on copy B, workerd CPU per redirect: ${fmt(r.cpu.plainUs)} µs ` +
      `without terms, ${fmt(r.cpu.termsUs)} µs with them; capacity ratio (no-terms CPU / terms CPU, median of ` +
      `paired runs) **${r.cpu.ratio.toFixed(2)}** (runs ${range(r.cpu.range)}). Issue 14 asks for at least 0.95.`,
  ];
}
