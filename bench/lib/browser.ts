// Section "browser": impression and pixel hits under load against the bare Worker (alternating
// runs), and what an impression costs in D1: impressions are coalesced in the isolate and counted
// once per clicks Queue message, so rows written grow with messages, never with hits. Rows
// written per message are read from D1's own meta.rows_written, running the consumer's statements
// (src/db/impressions.ts) for a message of the shape the load produced, beside those one
// partitioned click message costs in D1 (src/db/click-partition-ledger.ts).
import { registerHooks } from 'node:module';
import type { BenchContext } from './context.ts';
import { countRows } from './drain.ts';
import { CLICK_HEADERS, LANDING_URL } from './fixtures.ts';
import { type LoadResult, pairedRatio, type RunsSummary, runLoad, summariseRuns } from './load.ts';
import { errorOf, type Outcome, okOf, ratio, skipped, table } from './report-format.ts';
import { fmt, ms, sleep } from './stats.ts';

const TARGETS = ['bare', 'impression', 'pixel'] as const;
type Target = (typeof TARGETS)[number];

export interface BrowserResult {
  paths: Record<Target, string>;
  summary: Record<Target, RunsSummary>;
  impressionRatio: number;
  pixelRatio: number;
  impressions: { hits: number; counted: number; messages: number; perMessage: number };
  /** D1 rows written by the consumer for one impressions message, and per hit under this load. */
  rowsPerImpressionMessage: number;
  rowsPerImpressionHit: number;
  /** D1 rows written for one partitioned click message's rollups (the clicks themselves: 2 rows each in partitions). */
  rowsPerClickMessage: number;
}

type Db = BenchContext['rt']['db'];
type Statement = Parameters<Db['batch']>[0][number];

/**
 * The consumer's own statement builders, loaded from src/ at run time (Node strips their types),
 * so the rows counted are those of the SQL the Worker runs.
 */
interface StatementModules {
  impressions: { countImpressionsOnceStatements(db: Db, batches: unknown[]): Statement[] };
  ledger: { rollupOnceStatements(db: Db, messages: unknown[]): Statement[] };
}

let resolvingSrc = false;

/**
 * src/ imports its modules without an extension (as the bundler and TypeScript resolve them);
 * Node does not, so relative imports inside src/ are resolved to their .ts file here.
 */
function resolveSrcImports(): void {
  if (resolvingSrc) return;
  resolvingSrc = true;
  const src = new URL('../../src/', import.meta.url).href;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier.startsWith('.') && !/\.[cm]?[jt]s$/.test(specifier) && context.parentURL?.startsWith(src)) {
        return next(`${specifier}.ts`, context);
      }
      return next(specifier, context);
    },
  });
}

async function statementModules(): Promise<StatementModules> {
  resolveSrcImports();
  const load = (name: string) => import(new URL(`../../src/db/${name}.ts`, import.meta.url).href);
  return { impressions: await load('impressions'), ledger: await load('click-partition-ledger') };
}

async function rowsWritten(statements: Statement[], db: Db): Promise<number> {
  const results: { meta: { rows_written?: number } }[] = await db.batch(statements);
  return results.reduce((n: number, r) => n + Number(r.meta.rows_written ?? 0), 0);
}

export async function browserSection(ctx: BenchContext): Promise<BrowserResult> {
  const { opts, rt, fx, log } = ctx;
  // An offer with browser tracking and a view-through window: impressions set a signed cookie too.
  const offer = await fx.admin.create('/api/v1/offers', {
    advertiser_id: fx.advertiser.id,
    name: 'bench browser offer',
    landing_url: LANDING_URL,
    currency: 'EUR',
    browser_tracking: true,
    view_through_hours: 24,
    goals: [{ key: 'lead', revenue: '5.00', payout: '2.00' }],
  });
  const paths: Record<Target, string> = {
    bare: `/c/${offer.id}/${fx.publisher.id}`,
    impression: `/i/${offer.id}/${fx.publisher.id}`,
    // A pixel without a click ID or cookie: answered from the edge config, refused and logged
    // (throttled per network), the GIF either way.
    pixel: `/px?offer_id=${offer.id}&goal=lead&order_id=bench`,
  };
  const origins: Record<Target, string> = {
    bare: rt.urls.bare as string,
    impression: rt.urls.clickhop as string,
    pixel: rt.urls.clickhop as string,
  };
  const counted = () =>
    countRows(rt.db, `SELECT COALESCE(SUM(impressions), 0) AS n FROM daily_click_stats WHERE offer_id = ${offer.id}`);
  const messages = () => countRows(rt.db, "SELECT COUNT(*) AS n FROM click_ingests WHERE batch_key LIKE 'imp:%'");
  let hits = 0;
  const runOne = (key: Target, seconds: number) =>
    runLoad(
      { origin: origins[key], path: paths[key], headers: CLICK_HEADERS, connections: opts.connections, seconds },
      ctx.loadContext,
    );
  if (opts.warmupSeconds > 0) for (const key of TARGETS) await runOne(key, opts.warmupSeconds);
  // The warm-up's last impressions are still on their way to the rollups: wait until they land.
  let warm = await counted();
  for (let quiet = 0; quiet < 1_000; quiet += 200) {
    await sleep(200);
    const now = await counted();
    if (now !== warm) quiet = -200;
    warm = now;
  }
  const warmMessages = await messages();
  const runs: Record<Target, LoadResult[]> = { bare: [], impression: [], pixel: [] };
  for (let run = 1; run <= opts.runs; run++) {
    for (const key of TARGETS) {
      const r = await runOne(key, opts.seconds);
      runs[key].push(r);
      if (key === 'impression') hits += r.status['200'] ?? 0;
      log(`browser run ${run}/${opts.runs} ${key}: ${Math.round(r.rps)} req/s, p99 ${r.latency.p99?.toFixed(2)} ms`);
    }
  }
  // Let the last impressions message be consumed.
  let total = await counted();
  for (let waited = 0; total - warm < hits && waited < 30_000; waited += 200) {
    await sleep(200);
    total = await counted();
  }
  const sent = (await messages()) - warmMessages;
  log(`browser: ${hits} impression hits, ${total - warm} counted in ${sent} messages`);

  // One message of the shape the load made (one offer, publisher and quarter), counted in a scratch
  // key range so the fixture's numbers stay as measured.
  const now = Date.now();
  const scratch = { offer_id: 9_000_000, publisher_id: 9_000_000, day: new Date(now).toISOString().slice(0, 10) };
  const quarter = Math.floor(now / 900_000);
  const { impressions, ledger } = await statementModules();
  const perImpressionMessage = await rowsWritten(
    impressions.countImpressionsOnceStatements(rt.db, [
      { batchKey: `imp:bench-${now}`, counts: [{ ...scratch, quarter, impressions: Math.max(1, hits) }] },
    ]),
    rt.db,
  );
  const perClickMessage = await rowsWritten(
    ledger.rollupOnceStatements(rt.db, [
      {
        batchKey: `bench-clicks-${now}`,
        deltas: [{ ...scratch, quarter, clicks: 100, unique_clicks: 100, bot_clicks: 0 }],
      },
    ]),
    rt.db,
  );
  const perMessage = sent > 0 ? (total - warm) / sent : Number.NaN;
  return {
    paths,
    summary: {
      bare: summariseRuns(runs.bare, '302'),
      impression: summariseRuns(runs.impression, '200'),
      pixel: summariseRuns(runs.pixel, '200'),
    },
    impressionRatio: pairedRatio(runs.impression, runs.bare),
    pixelRatio: pairedRatio(runs.pixel, runs.bare),
    impressions: { hits, counted: total - warm, messages: sent, perMessage },
    rowsPerImpressionMessage: perImpressionMessage,
    rowsPerImpressionHit: sent > 0 ? (perImpressionMessage * sent) / Math.max(1, total - warm) : Number.NaN,
    rowsPerClickMessage: perClickMessage,
  };
}

export function browserReport(outcome: Outcome<BrowserResult> | undefined): string[] {
  if (outcome === undefined) return [];
  const heading = '## Browser tracking: impression and pixel hits against the bare Worker';
  const error = errorOf(outcome);
  const r = okOf(outcome);
  if (error || !r) return [heading, '', skipped('Browser tracking', error ?? 'no result'), ''];
  const label: Record<Target, string> = {
    bare: 'bare Worker (302, no work)',
    impression: `impression ${r.paths.impression} (GIF, counted, ch_vid set)`,
    pixel: `pixel ${r.paths.pixel} (GIF, no click ID: refused and logged)`,
  };
  const i = r.impressions;
  return [
    heading,
    '',
    table(
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/request', 'not ok'],
      TARGETS.map((t) => {
        const s = r.summary[t];
        return [label[t], fmt(s.rps), ms(s.p50), ms(s.p99), fmt(s.cpuUsPerRequest), String(s.notOk)];
      }),
      { left: true },
    ),
    '',
    `Impression / bare, req/s (median of paired runs): **${ratio(r.impressionRatio)}**; pixel / bare: **${ratio(r.pixelRatio)}**.`,
    '',
    `Impressions: ${fmt(i.hits)} hits answered, ${fmt(i.counted)} counted in the rollups, in ${fmt(i.messages)} clicks Queue ` +
      `messages (${fmt(i.perMessage)} impressions a message). D1 rows written per impressions message: ` +
      `**${fmt(r.rowsPerImpressionMessage)}** (rollup rows and the once-only marker; no row per impression), ` +
      `so **${r.rowsPerImpressionHit.toFixed(4)} rows per hit** at this load. A partitioned click message writes ` +
      `${fmt(r.rowsPerClickMessage)} rows in D1 for its rollups (its clicks: 2 rows each in their partitions).`,
    '',
  ];
}
