// Sections "validation" and "statements": closing the month at volume (issue 24). A bulk
// validation of 10,000 order IDs (dry run, the real run end to end through its background
// chunks on the clickhop-validations Queue, and the same file again) and a statement run, an
// invoice run and a re-run over 100,000 approved conversions. Each is measured for wall time,
// workerd CPU (all threads) and the D1 rows read and written as D1 reports them (meta.rows_read
// / rows_written, summed by the counting copy, bench/count-entry.js, which also consumes the
// validations Queue here so the chunks' work is counted). Runs in its own workerd (run.ts).
import type { CallCounts } from './calls.ts';
import type { BenchContext } from './context.ts';
import { BENCH_SECRETS, type D1Database, preciseCpuMicros } from './runtime.ts';
import { fmt, sleep } from './stats.ts';

/** The month the statement section closes: in the past, whatever day the bench runs. */
const PERIOD = '2025-10';
const STATEMENT_PUBLISHERS = 50;
const STATEMENT_ADVERTISERS = 5;
const OFFERS_PER_ADVERTISER = 4;

/** One measured step: a request, or a request and the background work it started. */
export interface Step {
  label: string;
  rows: number;
  /** HTTP status of the request. */
  status: number;
  wallMs: number;
  cpuUs: number;
  counts: CallCounts;
  /** What the answer said (outcome counts, documents). */
  note: string;
}

export interface ValidationResult {
  seeded: { conversions: number; seedSeconds: number };
  fileBytes: number;
  steps: Step[];
  chunks: number;
}

export interface StatementsResult {
  seeded: { conversions: number; publishers: number; advertisers: number; offers: number; seedSeconds: number };
  steps: Step[];
}

const auth = { authorization: `Bearer ${BENCH_SECRETS.ADMIN_TOKEN}` };

async function readCounts(origin: string): Promise<CallCounts> {
  return (await (await fetch(`${origin}/__bench/counts`)).json()) as CallCounts;
}

/**
 * Runs `work` with the counters reset before and read after, and workerd's CPU around it.
 * `work` answers the request's status and a note.
 */
async function measured(
  ctx: BenchContext,
  label: string,
  rows: number,
  work: () => Promise<{ status: number; note: string }>,
): Promise<Step> {
  const origin = ctx.rt.urls['clickhop-counted'] as string;
  await readCounts(origin);
  const cpu0 = preciseCpuMicros(ctx.rt.pid);
  const t0 = performance.now();
  const { status, note } = await work();
  const wallMs = performance.now() - t0;
  const cpuUs = preciseCpuMicros(ctx.rt.pid) - cpu0;
  const counts = await readCounts(origin);
  ctx.log(
    `${label}: ${fmt(wallMs)} ms, ${fmt(cpuUs / rows, 1)} µs CPU per row, ${fmt(counts.d1RowsRead)} rows read, ` +
      `${fmt(counts.d1RowsWritten)} written (${note})`,
  );
  return { label, rows, status, wallMs, cpuUs, counts, note };
}

async function post(origin: string, path: string, body: string, type: string) {
  const response = await fetch(origin + path, {
    method: 'POST',
    headers: { ...auth, 'content-type': type },
    body,
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {}
  if (response.status >= 300) throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return { status: response.status, json };
}

const outcomeNote = (j: Record<string, unknown>) =>
  `${j.status}: ${fmt(Number(j.changed))} changed, ${fmt(Number(j.unchanged))} unchanged, ${fmt(Number(j.failed))} failed`;

async function waitForJob(db: D1Database, id: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const row = await db.prepare('SELECT status FROM validations WHERE id = ?').bind(id).first<{ status: string }>();
    if (row?.status === 'done') return;
    await sleep(200);
  }
  throw new Error(`validation ${id} not done after ${timeoutMs / 1000} s`);
}

/** Pending conversions of the fixture's offer with order IDs VAL-1 ... VAL-n, and their rollups. */
async function seedPending(ctx: BenchContext, n: number): Promise<ValidationResult['seeded']> {
  const t0 = performance.now();
  const db = ctx.rt.db;
  const { offer, publisher } = ctx.fx;
  await db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)
       INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, order_id, dedupe_key, status,
         currency, amount, payout_currency, revenue, payout, profile, created_at, updated_at)
       SELECT 'cv_' || lower(hex(randomblob(11))), o.id, g.id, o.advertiser_id, ?2, 'VAL-' || i, 'o:VAL-' || i,
         'pending', o.currency, 0, o.currency, 500, 200, 'canonical',
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (i % 2000) || ' minutes'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       FROM n JOIN offers o ON o.id = ?1 JOIN goals g ON g.id = (SELECT MIN(id) FROM goals WHERE offer_id = ?1)`,
    )
    .bind(offer.id, publisher.id, n)
    .run();
  await db
    .prepare(
      `INSERT INTO daily_conversion_stats (day, offer_id, publisher_id, currency, pending, revenue_pending, payout_pending)
       SELECT substr(created_at, 1, 10), offer_id, publisher_id, payout_currency, COUNT(*), SUM(revenue), SUM(payout)
       FROM conversions WHERE offer_id = ?1 AND order_id LIKE 'VAL-%' GROUP BY 1, 2, 3, 4
       ON CONFLICT DO UPDATE SET pending = pending + excluded.pending,
         revenue_pending = revenue_pending + excluded.revenue_pending, payout_pending = payout_pending + excluded.payout_pending`,
    )
    .bind(offer.id)
    .run();
  return { conversions: n, seedSeconds: (performance.now() - t0) / 1000 };
}

export async function validationSection(ctx: BenchContext): Promise<ValidationResult> {
  const n = ctx.opts.validationRows;
  const counted = ctx.rt.urls['clickhop-counted'] as string;
  const seeded = await seedPending(ctx, n);
  ctx.log(`validation: seeded ${fmt(n)} pending conversions in ${seeded.seedSeconds.toFixed(1)} s`);
  const lines = ['order_id,status,reason'];
  for (let i = 1; i <= n; i++) lines.push(`VAL-${i},approved,month closed`);
  const file = `${lines.join('\r\n')}\r\n`;
  const path = '/api/v1/conversions/validations';
  const steps: Step[] = [];
  steps.push(
    await measured(ctx, 'dry run (`?dry_run=true`)', n, async () => {
      const { status, json } = await post(counted, `${path}?dry_run=true`, file, 'text/csv');
      if (Number(json.changed) !== n) throw new Error(`the dry run would change ${json.changed} of ${n} rows`);
      return { status, note: outcomeNote(json) };
    }),
  );
  let id = '';
  steps.push(
    await measured(
      ctx,
      'the run, end to end: accepted, then every chunk applied by the Queue consumer',
      n,
      async () => {
        const { status, json } = await post(counted, path, file, 'text/csv');
        id = String(json.id);
        await waitForJob(ctx.rt.db, id, Math.max(120_000, n * 50));
        const totals = await ctx.rt.db
          .prepare(
            'SELECT SUM(changed) AS changed, SUM(unchanged) AS unchanged, SUM(failed) AS failed FROM validation_chunks WHERE validation_id = ?',
          )
          .bind(id)
          .first<Record<string, number>>();
        if (Number(totals?.changed) !== n) throw new Error(`the run changed ${totals?.changed} of ${n} rows`);
        return { status, note: outcomeNote({ ...totals, status: `${status} then done` }) };
      },
    ),
  );
  const chunks = Number(
    (
      await ctx.rt.db
        .prepare(
          'SELECT COUNT(*) AS n FROM validation_chunks WHERE validation_id = ? AND results IS NOT NULL AND rows_done > 0 AND changed > 0',
        )
        .bind(id)
        .first<{ n: number }>()
    )?.n ?? 0,
  );
  steps.push(
    await measured(ctx, 'the same file again (nothing to change)', n, async () => {
      const { status, json } = await post(counted, path, file, 'text/csv');
      if (Number(json.unchanged) !== n) throw new Error(`sent again, ${json.unchanged} of ${n} rows were unchanged`);
      return { status, note: outcomeNote(json) };
    }),
  );
  const approved = await ctx.rt.db
    .prepare("SELECT COUNT(*) AS n FROM conversions WHERE order_id LIKE 'VAL-%' AND status = 'approved'")
    .first<{ n: number }>();
  if (Number(approved?.n) !== n) throw new Error(`${approved?.n} of ${n} conversions are approved after the run`);
  return { seeded, fileBytes: Buffer.byteLength(file), steps, chunks };
}

/** Parties through the admin API, then `n` approved conversions of PERIOD spread over them. */
async function seedApproved(ctx: BenchContext, n: number): Promise<StatementsResult['seeded']> {
  const t0 = performance.now();
  const admin = ctx.fx.admin;
  const offerIds: number[] = [];
  for (let a = 0; a < STATEMENT_ADVERTISERS; a++) {
    const advertiser = await admin.create('/api/v1/advertisers', { name: `Month shop ${a + 1}` });
    for (let o = 0; o < OFFERS_PER_ADVERTISER; o++) {
      const offer = await admin.create('/api/v1/offers', {
        advertiser_id: advertiser.id,
        name: `Month offer ${a + 1}.${o + 1}`,
        landing_url: `https://shop${a + 1}.example.com/`,
        currency: 'EUR',
        goals: [{ key: 'sale', revenue: '6.00', payout: '4.00' }],
      });
      offerIds.push(offer.id);
    }
  }
  const publisherIds: number[] = [];
  for (let p = 0; p < STATEMENT_PUBLISHERS; p++)
    publisherIds.push((await admin.create('/api/v1/publishers', { name: `Month publisher ${p + 1}` })).id);
  // Counts go into the SQL as integer literals: numbers bound from Node arrive as REAL, and
  // a JSON path needs an integer index.
  const offers = Math.trunc(offerIds.length);
  const publishers = Math.trunc(publisherIds.length);
  await ctx.rt.db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${Math.trunc(n)}),
       pick AS (SELECT i, CAST(json_extract(?1, '$[' || (i % ${offers}) || ']') AS INTEGER) AS offer_id,
         CAST(json_extract(?2, '$[' || ((i / ${offers}) % ${publishers}) || ']') AS INTEGER) AS publisher_id FROM n)
       INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, order_id, dedupe_key, status,
         currency, amount, payout_currency, revenue, payout, profile, created_at, updated_at)
       SELECT 'cv_' || lower(hex(randomblob(11))), o.id, g.id, o.advertiser_id, p.publisher_id, 'ST-' || p.i,
         'o:ST-' || p.i, 'approved', o.currency, 10000, o.currency, 600, 400, 'canonical',
         strftime('%Y-%m-%dT%H:%M:%fZ', ?3 || '-03T12:00:00.000Z', '+' || (p.i % (24 * 24)) || ' hours'),
         strftime('%Y-%m-%dT%H:%M:%fZ', ?3 || '-28T12:00:00.000Z')
       FROM pick p JOIN offers o ON o.id = p.offer_id
       JOIN goals g ON g.id = (SELECT MIN(id) FROM goals WHERE offer_id = p.offer_id)`,
    )
    .bind(JSON.stringify(offerIds), JSON.stringify(publisherIds), PERIOD)
    .run();
  return {
    conversions: n,
    publishers: publisherIds.length,
    advertisers: STATEMENT_ADVERTISERS,
    offers: offerIds.length,
    seedSeconds: (performance.now() - t0) / 1000,
  };
}

const runNote = (j: Record<string, unknown>) =>
  `${fmt(Number(j.draft))} drafts, ${fmt(Number(j.carried))} carried, ${fmt(Number(j.lines))} lines`;

export async function statementsSection(ctx: BenchContext): Promise<StatementsResult> {
  const n = ctx.opts.statementConversions;
  const counted = ctx.rt.urls['clickhop-counted'] as string;
  const seeded = await seedApproved(ctx, n);
  ctx.log(`statements: seeded ${fmt(n)} approved conversions of ${PERIOD} in ${seeded.seedSeconds.toFixed(1)} s`);
  const body = JSON.stringify({ period: PERIOD });
  const run = (label: string, path: string, lines: number) =>
    measured(ctx, label, n, async () => {
      const { status, json } = await post(counted, path, body, 'application/json');
      if (Number(json.lines) !== lines) throw new Error(`${path} wrote ${json.lines} lines, not ${lines}`);
      return { status, note: runNote(json) };
    });
  const steps = [
    await run(`statement run (\`POST /api/v1/statements\`, ${PERIOD})`, '/api/v1/statements', n),
    await run('the same run again (drafts rebuilt in place)', '/api/v1/statements', n),
    await run(`invoice run (\`POST /api/v1/invoices\`, ${PERIOD})`, '/api/v1/invoices', n),
  ];
  return { seeded, steps };
}
