// Section "portal": the portal's heaviest page, the operator's overview (GET /portal signed in as
// an operator: breakdowns by offer and by publisher over the last 30 days, the conversions
// awaiting approval, the failing deliveries), on a network seeded to volume, against the bare
// Worker answering an HTML page of the same size. Issue 16 asks for every portal page in one or
// two D1 round trips, and for its heaviest page to be measured here. Runs in its own workerd
// (started by run.ts) so the seeded network is all its D1 holds.
import type { CallCounts } from './calls.ts';
import type { BenchContext } from './context.ts';
import type { AdminClient } from './fixtures.ts';
import { type LoadResult, pairedRatios, type RunsSummary, runLoad, summariseRuns } from './load.ts';
import { errorOf, type Outcome, okOf, skipped, table, us } from './report-format.ts';
import { BENCH_SECRETS, type D1Database, preciseCpuMicros } from './runtime.ts';
import { fmt, median, ms, sleep } from './stats.ts';

const TARGETS = ['bare', 'overview'] as const;
type Target = (typeof TARGETS)[number];

/** Conversions younger than this are still pending (a validation period); older ones are decided. */
const PENDING_DAYS = 14;
/** Publishers 6, 23, 40 ... (every FAILING_EVERY-th) have had a failing endpoint for FAILING_DAYS days. */
const FAILING_EVERY = 17;
const FAILING_DAYS = 7;
/** Failing deliveries younger than this are still retrying; older ones are dead. */
const RETRYING_HOURS = 24;
/** Sequential requests for the unloaded latency and for the platform calls. */
const SEQUENTIAL = 40;
const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;

const OPERATOR_EMAIL = 'operator@network.example';
const OPERATOR_PASSWORD = 'bench operator password, long enough';

export interface SeededNetwork {
  days: number;
  offers: number;
  publishers: number;
  advertisers: number;
  endpoints: number;
  clickRollupRows: number;
  conversionRollupRows: number;
  clicks: number;
  conversions: number;
  pending: number;
  deliveries: number;
  failing: number;
  failingEndpoints: number;
  seedSeconds: number;
}

/** What the overview showed: its size and how many rows each panel had. */
export interface OverviewShape {
  bytes: number;
  byOfferLines: number;
  byPublisherLines: number;
  pendingRows: number;
  failingRows: number;
}

export interface Sequential {
  n: number;
  p50: number;
  p90: number;
  max: number;
  /** workerd CPU per request (all threads, ns resolution), median. */
  cpuUs: number;
}

export interface PortalResult {
  seeded: SeededNetwork;
  page: OverviewShape;
  barePath: string;
  connections: number;
  summary: Record<Target, RunsSummary & { p90: number }>;
  /** Median paired req/s ratio overview / bare at full load, and its range over the runs. */
  ratio: number;
  ratioRange: [number, number];
  /** Pairs at a fixed offered rate: workerd CPU per page (ns-resolution schedstat), medians. */
  fixed: { rate: number; seconds: number; bareUs: number; overviewUs: number; p50: number; p90: number };
  sequential: { overview: Sequential; dashboard: Sequential };
  calls: { overview: CallCounts; dashboard: CallCounts };
}

// --- Seeding -------------------------------------------------------------------------------

/** Offers, publishers, advertisers and one endpoint per publisher, made as an operator would. */
async function createParties(admin: AdminClient, offers: number, publishers: number) {
  const advertiserIds: number[] = [];
  for (let i = 0; i < Math.max(1, Math.ceil(offers / 4)); i++)
    advertiserIds.push((await admin.create('/api/v1/advertisers', { name: `Shop ${i + 1}` })).id);
  const offerIds: number[] = [];
  for (let i = 0; i < offers; i++) {
    const revenue = 3 + (i % 5);
    const offer = await admin.create('/api/v1/offers', {
      advertiser_id: advertiserIds[i % advertiserIds.length],
      name: `Offer ${i + 1}: ${['running shoes', 'broadband', 'travel insurance', 'meal boxes'][i % 4]}`,
      landing_url: `https://shop${(i % advertiserIds.length) + 1}.example.com/landing`,
      currency: CURRENCIES[i % CURRENCIES.length],
      goals: [{ key: 'sale', revenue: `${revenue}.00`, payout: `${(revenue * 0.6).toFixed(2)}` }],
    });
    offerIds.push(offer.id);
  }
  const publisherIds: number[] = [];
  for (let i = 0; i < publishers; i++) {
    const publisher = await admin.create('/api/v1/publishers', { name: `Publisher ${i + 1}` });
    publisherIds.push(publisher.id);
    // 127.0.0.1, a closed port: nothing is delivered during the section, and if anything were
    // sent it would stay on this machine.
    await admin.create('/api/v1/endpoints', {
      publisher_id: publisher.id,
      url: `http://127.0.0.1:9/clickhop/publisher-${i + 1}?click_id={click_id}`,
      method: 'GET',
      events: ['conversion.created', 'conversion.approved'],
    });
  }
  return { advertiserIds, offerIds, publisherIds };
}

/**
 * Every (day, offer, publisher) cell of the range: ?1 offer ids and ?2 publisher ids as JSON
 * arrays, ?3 the number of days ending today, ?4 now (ISO). `h` is a fixed pseudo-random number
 * per cell; `at` an instant of that UTC day, before now.
 */
const CELLS = `days(age) AS (SELECT 0 UNION ALL SELECT age + 1 FROM days WHERE age + 1 < ?3),
  grid AS (
    SELECT d.age, o.key AS oi, CAST(o.value AS INTEGER) AS offer_id, p.key AS pj, CAST(p.value AS INTEGER) AS publisher_id,
      (d.age * 7919 + o.key * 104729 + p.key * 1299709) % 1000003 AS h
    FROM days d CROSS JOIN json_each(?1) o CROSS JOIN json_each(?2) p),
  cells AS (
    SELECT g.*, date(?4, '-' || g.age || ' days') AS day,
      strftime('%Y-%m-%dT%H:%M:%fZ', date(?4, '-' || g.age || ' days'), '+' || (g.h %
        CASE WHEN g.age = 0 THEN max(1, CAST(strftime('%s', ?4) AS INTEGER) % 86400) ELSE 86400 END) || ' seconds') AS at
    FROM grid g)`;

/** Click rollups: 40 to 439 clicks a cell, a fifth of them repeats, one in twenty bots. */
const SEED_CLICKS = `INSERT INTO daily_click_stats (day, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
  WITH RECURSIVE ${CELLS}
  SELECT day, offer_id, publisher_id, 40 + h % 400, (40 + h % 400) * 4 / 5, (40 + h % 400) / 20 FROM cells`;

/**
 * One conversion a cell, priced by its goal's base rule, pending for the last ?5 days and
 * approved, rejected or reversed before that.
 */
const SEED_CONVERSIONS = `INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, click_id, click_time,
    order_id, dedupe_key, status, currency, amount, payout_currency, revenue, payout, profile, created_at, updated_at)
  WITH RECURSIVE ${CELLS}
  SELECT 'cv_' || lower(hex(randomblob(11))), c.offer_id, g.id, o.advertiser_id, c.publisher_id,
    lower(hex(randomblob(24))), strftime('%Y-%m-%dT%H:%M:%fZ', c.at, '-' || (c.h % 3600) || ' seconds'),
    'PO-' || c.age || '-' || c.oi || '-' || c.pj, 'o:PO-' || c.age || '-' || c.oi || '-' || c.pj,
    CASE WHEN c.age < ?5 THEN 'pending' WHEN c.h % 20 = 0 THEN 'rejected' WHEN c.h % 50 = 1 THEN 'reversed'
      ELSE 'approved' END,
    o.currency, 0, o.currency, COALESCE(r.revenue_fixed, 0), COALESCE(r.payout_fixed, 0), 'canonical', c.at, c.at
  FROM cells c JOIN offers o ON o.id = c.offer_id
  JOIN goals g ON g.id = (SELECT MIN(id) FROM goals WHERE offer_id = c.offer_id)
  LEFT JOIN payout_rules r ON r.goal_id = g.id AND r.publisher_id IS NULL AND r.commission_group IS NULL`;

/** The conversion rollups of the seeded conversions, as the write path keeps them. */
const SEED_CONVERSION_ROLLUPS = `INSERT INTO daily_conversion_stats (day, offer_id, publisher_id, currency, pending,
    approved, rejected, reversed, revenue_pending, revenue_approved, payout_pending, payout_approved)
  SELECT substr(created_at, 1, 10), offer_id, publisher_id, payout_currency,
    SUM(status = 'pending'), SUM(status = 'approved'), SUM(status = 'rejected'), SUM(status = 'reversed'),
    SUM(CASE status WHEN 'pending' THEN revenue ELSE 0 END), SUM(CASE status WHEN 'approved' THEN revenue ELSE 0 END),
    SUM(CASE status WHEN 'pending' THEN payout ELSE 0 END), SUM(CASE status WHEN 'approved' THEN payout ELSE 0 END)
  FROM conversions WHERE offer_id IN (SELECT value FROM json_each(?1)) GROUP BY 1, 2, 3, 4`;

const SEED_EVENTS = `INSERT INTO conversion_events (id, conversion_id, type, from_status, to_status, actor, snapshot, created_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), id, 'conversion.created', NULL, 'pending', 'postback',
    json_object('id', id, 'offer_id', offer_id, 'publisher_id', publisher_id, 'order_id', order_id, 'status', 'pending',
      'payout', payout, 'currency', payout_currency, 'created_at', created_at),
    created_at
  FROM conversions WHERE offer_id IN (SELECT value FROM json_each(?1))`;

/**
 * One delivery per event to its publisher's endpoint: delivered, except for the publishers in
 * ?2, whose endpoints have failed since ?3 — retrying since ?4, dead before. ?5 now.
 */
const SEED_DELIVERIES = `INSERT INTO deliveries (id, event_id, conversion_id, endpoint_id, event_type, status, attempts,
    next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at, enqueued_at, created_at, updated_at,
    publisher_id)
  WITH sent AS (
    SELECT e.id AS event_id, e.conversion_id, e.type, e.created_at, ep.id AS endpoint_id, ep.publisher_id,
      CASE WHEN ep.publisher_id IN (SELECT value FROM json_each(?2)) AND e.created_at >= ?3
        THEN CASE WHEN e.created_at >= ?4 THEN 'retrying' ELSE 'dead' END ELSE 'delivered' END AS status
    FROM conversion_events e JOIN conversions c ON c.id = e.conversion_id
    JOIN endpoints ep ON ep.publisher_id = c.publisher_id
    WHERE c.offer_id IN (SELECT value FROM json_each(?1))),
  timed AS (
    SELECT s.*, min(?5, strftime('%Y-%m-%dT%H:%M:%fZ', s.created_at,
      CASE s.status WHEN 'delivered' THEN '+1 seconds' WHEN 'retrying' THEN '+10 minutes' ELSE '+1 days' END)) AS last_at
    FROM sent s)
  SELECT 'dlv_' || lower(hex(randomblob(12))), event_id, conversion_id, endpoint_id, type, status,
    CASE status WHEN 'delivered' THEN 1 WHEN 'retrying' THEN 3 ELSE 8 END,
    CASE status WHEN 'retrying' THEN strftime('%Y-%m-%dT%H:%M:%fZ', ?5, '+5 minutes') END,
    last_at, CASE status WHEN 'delivered' THEN 200 ELSE 503 END,
    CASE status WHEN 'delivered' THEN NULL ELSE 'HTTP 503 Service Unavailable' END,
    CASE status WHEN 'delivered' THEN last_at END, created_at, created_at, last_at, publisher_id
  FROM timed`;

async function count(db: D1Database, sql: string, ...binds: unknown[]): Promise<number> {
  const row = await db
    .prepare(sql)
    .bind(...binds)
    .first<{ n: number }>();
  return Number(row?.n ?? 0);
}

/**
 * The network the overview reads: days × offers × publishers of click and conversion rollups
 * (one row per cell and table), one conversion per cell with its created event and a delivery
 * to the publisher's endpoint, some publishers' endpoints failing. Bulk INSERT ... SELECT, so
 * seeding takes seconds. The quarter-hour rollups (migration 0012) are not seeded: the overview
 * shows UTC days, which the daily tables serve.
 */
export async function seedNetwork(
  ctx: BenchContext,
  scale: { days: number; offers: number; publishers: number },
): Promise<SeededNetwork> {
  const t0 = performance.now();
  const db = ctx.rt.db;
  const parties = await createParties(ctx.fx.admin, scale.offers, scale.publishers);
  const offers = JSON.stringify(parties.offerIds);
  const publishers = JSON.stringify(parties.publisherIds);
  const failing = parties.publisherIds.filter((_, i) => i % FAILING_EVERY === 5);
  const failingPublishers = JSON.stringify(failing);
  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const since = (hours: number) => new Date(nowMs - hours * 3600_000).toISOString();
  await db.prepare(SEED_CLICKS).bind(offers, publishers, scale.days, now).run();
  await db.prepare(SEED_CONVERSIONS).bind(offers, publishers, scale.days, now, PENDING_DAYS).run();
  await db.prepare(SEED_CONVERSION_ROLLUPS).bind(offers).run();
  await db.prepare(SEED_EVENTS).bind(offers).run();
  await db
    .prepare(SEED_DELIVERIES)
    .bind(offers, failingPublishers, since(FAILING_DAYS * 24), since(RETRYING_HOURS), now)
    .run();
  const mine = 'offer_id IN (SELECT value FROM json_each(?1))';
  return {
    ...scale,
    advertisers: parties.advertiserIds.length,
    endpoints: parties.publisherIds.length,
    clickRollupRows: await count(db, `SELECT COUNT(*) AS n FROM daily_click_stats WHERE ${mine}`, offers),
    conversionRollupRows: await count(db, `SELECT COUNT(*) AS n FROM daily_conversion_stats WHERE ${mine}`, offers),
    clicks: await count(db, `SELECT SUM(clicks) AS n FROM daily_click_stats WHERE ${mine}`, offers),
    conversions: await count(db, `SELECT COUNT(*) AS n FROM conversions WHERE ${mine}`, offers),
    pending: await count(db, `SELECT COUNT(*) AS n FROM conversions WHERE status = 'pending' AND ${mine}`, offers),
    deliveries: await count(db, 'SELECT COUNT(*) AS n FROM deliveries'),
    failing: await count(db, "SELECT COUNT(*) AS n FROM deliveries WHERE status IN ('retrying', 'dead')"),
    failingEndpoints: failing.length,
    seedSeconds: (performance.now() - t0) / 1000,
  };
}

// --- Signing in ------------------------------------------------------------------------------

/** The cookies a browser would keep for the Worker's origin (paths ignored: all are /portal or /). */
class Browser {
  private readonly cookies = new Map<string, string>();
  private readonly origin: string;
  constructor(origin: string) {
    this.origin = origin;
  }

  async request(
    path: string,
    form?: Record<string, string>,
  ): Promise<{ status: number; location: string; text: string }> {
    const headers: Record<string, string> = { 'cf-connecting-ip': '198.51.100.23' };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(this.origin + path, {
      method: form ? 'POST' : 'GET',
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || pair.slice(eq + 1) === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    return { status: response.status, location: response.headers.get('location') ?? '', text: await response.text() };
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

const hiddenField = (page: string, name: string): string =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';

/**
 * An operator invited through the admin API sets a password from the invitation link, signs
 * out, and signs in again with the sign-in form; the answer is that session's cookie.
 */
async function signInAsOperator(origin: string, admin: AdminClient): Promise<string> {
  const invited = await admin.call('POST', '/api/v1/users', { email: OPERATOR_EMAIL, role: 'operator' });
  const inviteUrl = (invited.json as { invite_url?: string } | null)?.invite_url;
  if (invited.status !== 201 || !inviteUrl)
    throw new Error(`POST /api/v1/users -> ${invited.status}: ${invited.text.slice(0, 300)}`);
  const link = new URL(inviteUrl);
  const browser = new Browser(origin);
  const expectStep = (what: string, answer: { status: number; location: string; text: string }, status: number) => {
    if (answer.status !== status)
      throw new Error(`${what} answered ${answer.status} (expected ${status}): ${answer.text.slice(0, 300)}`);
  };
  const invitation = await browser.request(link.pathname + link.search);
  expectStep('the invitation link', invitation, 200);
  const accepted = await browser.request('/portal/invite', {
    _csrf: hiddenField(invitation.text, '_csrf'),
    token: link.searchParams.get('token') ?? '',
    password: OPERATOR_PASSWORD,
    confirm: OPERATOR_PASSWORD,
  });
  expectStep('setting the password', accepted, 303);
  expectStep('signing out', await browser.request('/portal/logout', {}), 200);
  if (browser.cookie('__Host-clickhop_session')) throw new Error('signing out left the session cookie in place');
  const form = await browser.request('/portal/login');
  expectStep('the sign-in page', form, 200);
  const signedIn = await browser.request('/portal/login', {
    _csrf: hiddenField(form.text, '_csrf'),
    email: OPERATOR_EMAIL,
    password: OPERATOR_PASSWORD,
  });
  expectStep('the sign-in form', signedIn, 303);
  const session = browser.cookie('__Host-clickhop_session');
  if (!session || !signedIn.location.endsWith('/portal'))
    throw new Error(`signing in answered no session cookie (Location ${signedIn.location})`);
  return `__Host-clickhop_session=${session}`;
}

// --- The page --------------------------------------------------------------------------------

const occurrences = (text: string, needle: string): number => text.split(needle).length - 1;

/** Table rows of one panel: from its table's id to the end of that table. */
function panelRows(text: string, tableId: string, rowMarker: string): number {
  const start = text.indexOf(`<table id="${tableId}"`);
  if (start < 0) return -1;
  return occurrences(text.slice(start, text.indexOf('</table>', start)), rowMarker);
}

/**
 * The overview as the operator sees it, or an error naming what came instead: a run that
 * measured the sign-in page (or an error page) must not pass for the overview.
 */
export function readOverview(status: number, text: string, where: string): OverviewShape {
  if (text.includes('id="sign-in-title"'))
    throw new Error(`${where} answered the sign-in page (${status}): the session was not accepted`);
  if (status !== 200) throw new Error(`${where} answered ${status}: ${text.slice(0, 200)}`);
  const shape: OverviewShape = {
    bytes: Buffer.byteLength(text),
    byOfferLines: panelRows(text, 'by-offer', '<tr data-key='),
    byPublisherLines: panelRows(text, 'by-publisher', '<tr data-key='),
    pendingRows: panelRows(text, 'pending-conversions', '<tr data-conversion-id='),
    failingRows: panelRows(text, 'failing-deliveries', '<tr data-delivery-id='),
  };
  const empty = Object.entries(shape).filter(([, n]) => n <= 0);
  if (empty.length)
    throw new Error(`${where} is not the seeded overview: ${empty.map(([k]) => k).join(', ')} missing or empty`);
  return shape;
}

async function timedSequence(
  pid: number | undefined,
  url: string,
  headers: Record<string, string>,
  check: (status: number, text: string) => void,
): Promise<Sequential> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const cpu0 = preciseCpuMicros(pid);
    const t0 = performance.now();
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    wall.push(performance.now() - t0);
    cpu.push(preciseCpuMicros(pid) - cpu0);
    check(response.status, text);
  }
  const sorted = [...wall].sort((a, b) => a - b);
  return {
    n: SEQUENTIAL,
    p50: median(wall),
    p90: sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    cpuUs: median(cpu),
  };
}

/** Waits until workerd has been nearly idle (under 5 % of a core) for 250 ms; at most 30 s. */
async function settle(pid: number | undefined): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const cpu0 = preciseCpuMicros(pid);
    await sleep(250);
    if (preciseCpuMicros(pid) - cpu0 < 12_500) return;
  }
}

/** D1, KV and Queue calls per page on the counting copy (bench/count-entry.js), sequential. */
async function countCalls(
  origin: string,
  path: string,
  headers: Record<string, string>,
  check: (status: number, text: string) => void,
): Promise<CallCounts> {
  const read = async () => (await (await fetch(`${origin}/__bench/counts`)).json()) as CallCounts;
  const page = async () => {
    const response = await fetch(origin + path, { headers, signal: AbortSignal.timeout(30_000) });
    check(response.status, await response.text());
  };
  await page();
  await read();
  for (let i = 0; i < SEQUENTIAL; i++) await page();
  const counts = await read();
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / SEQUENTIAL])) as unknown as CallCounts;
}

export async function portalSection(ctx: BenchContext): Promise<PortalResult> {
  const { opts, rt, log } = ctx;
  const ours = rt.urls.clickhop as string;
  const bare = rt.urls.bare as string;
  const counted = rt.urls['clickhop-counted'] as string;

  const seeded = await seedNetwork(ctx, {
    days: opts.portalDays,
    offers: opts.portalOffers,
    publishers: opts.portalPublishers,
  });
  log(
    `portal: seeded ${fmt(seeded.clickRollupRows)} + ${fmt(seeded.conversionRollupRows)} rollup rows, ` +
      `${fmt(seeded.conversions)} conversions (${fmt(seeded.pending)} pending), ${fmt(seeded.failing)} failing deliveries ` +
      `in ${seeded.seedSeconds.toFixed(1)} s`,
  );
  const cookie = await signInAsOperator(ours, ctx.fx.admin);
  const headers = { cookie };
  const path = '/portal';
  const probe = async (where: string) => {
    const response = await fetch(ours + path, { headers, signal: AbortSignal.timeout(30_000) });
    return readOverview(response.status, await response.text(), where);
  };
  const page = await probe('GET /portal as the operator');
  log(
    `portal: overview ${fmt(page.bytes)} bytes, ${page.byOfferLines} + ${page.byPublisherLines} breakdown lines, ` +
      `${page.pendingRows} pending, ${page.failingRows} failing`,
  );
  const barePath = `/page?bytes=${page.bytes}`;
  const bareAnswer = await fetch(bare + barePath);
  const bareBytes = (await bareAnswer.arrayBuffer()).byteLength;
  if (bareAnswer.status !== 200 || bareBytes !== page.bytes)
    throw new Error(`bare ${barePath} answered ${bareAnswer.status} with ${bareBytes} bytes`);

  const origins: Record<Target, { origin: string; path: string; headers?: Record<string, string> }> = {
    bare: { origin: bare, path: barePath },
    overview: { origin: ours, path, headers },
  };
  // At the fixed rate one connection: autocannon fires its connections' requests together, and
  // bursts of pages would wait for each other at a rate far below capacity.
  const load = async (key: Target, seconds: number, rate?: number) => {
    const result = await runLoad(
      { ...origins[key], connections: rate ? 1 : opts.connections, seconds, ...(rate ? { rate } : {}) },
      ctx.loadContext,
    );
    // Pages still queued when the load generator stops are rendered afterwards (over a second of
    // work at full load): let them finish, or the next run pays for them.
    await settle(rt.pid);
    return result;
  };

  if (opts.warmupSeconds > 0) for (const key of TARGETS) await load(key, opts.warmupSeconds);
  const runs: Record<Target, LoadResult[]> = { bare: [], overview: [] };
  for (let run = 1; run <= opts.runs; run++) {
    const order = run % 2 === 1 ? TARGETS : ([...TARGETS].reverse() as readonly Target[]);
    for (const key of order) {
      const r = await load(key, opts.portalSeconds);
      runs[key].push(r);
      log(
        `portal run ${run}/${opts.runs} ${key}: ${fmt(r.rps)} req/s, p50 ${ms(r.latency.p50)} ms, p99 ${ms(r.latency.p99)} ms`,
      );
    }
  }

  // Every answer under load must have been the page: a lost session answers 401 (the sign-in page).
  const summary = {} as PortalResult['summary'];
  for (const key of TARGETS) {
    const s = summariseRuns(runs[key], '200');
    if (s.notOk > 0)
      throw new Error(`portal: ${s.notOk} answers of ${key} were not 200: ${JSON.stringify(s.statuses)}`);
    summary[key] = { ...s, p90: median(runs[key].map((r) => r.latency.p90 ?? Number.NaN)) };
  }
  await probe('GET /portal after the runs at full load');

  // Fixed low rate, alternating: workerd CPU per page, read with ns resolution around each run.
  const fixedCpu: Record<Target, number[]> = { bare: [], overview: [] };
  const fixedRuns: LoadResult[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    const order = run % 2 === 1 ? TARGETS : ([...TARGETS].reverse() as readonly Target[]);
    for (const key of order) {
      const cpu0 = preciseCpuMicros(rt.pid);
      const r = await load(key, opts.portalSeconds, opts.portalRate);
      const perPage = (preciseCpuMicros(rt.pid) - cpu0) / Math.max(1, r.completed);
      fixedCpu[key].push(perPage);
      if (key === 'overview') fixedRuns.push(r);
      log(`portal at ${opts.portalRate}/s ${key}: ${fmt(perPage)} µs CPU per page, p50 ${ms(r.latency.p50)} ms`);
      const bad = r.completed - (r.status['200'] ?? 0) + r.errors;
      if (bad > 0) throw new Error(`portal at a fixed rate: ${bad} answers of ${key} were not 200`);
    }
  }
  await probe('GET /portal after the runs at a fixed rate');

  const overviewCheck = (where: string) => (status: number, text: string) => void readOverview(status, text, where);
  const dashboardHeaders = { authorization: `Basic ${btoa(`operator:${BENCH_SECRETS.ADMIN_TOKEN}`)}` };
  const sequential = {
    overview: await timedSequence(rt.pid, ours + path, headers, overviewCheck('GET /portal')),
    dashboard: await timedSequence(rt.pid, `${ours}/dashboard`, dashboardHeaders, overviewCheck('GET /dashboard')),
  };
  const calls = {
    overview: await countCalls(counted, path, headers, overviewCheck('GET /portal (counted copy)')),
    dashboard: await countCalls(
      counted,
      '/dashboard',
      dashboardHeaders,
      overviewCheck('GET /dashboard (counted copy)'),
    ),
  };
  const ratios = pairedRatios(runs.overview, runs.bare);
  return {
    seeded,
    page,
    barePath,
    connections: opts.connections,
    summary,
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    fixed: {
      rate: opts.portalRate,
      seconds: opts.portalSeconds,
      bareUs: median(fixedCpu.bare),
      overviewUs: median(fixedCpu.overview),
      p50: median(fixedRuns.map((r) => r.latency.p50 ?? Number.NaN)),
      p90: median(fixedRuns.map((r) => r.latency.p90 ?? Number.NaN)),
    },
    sequential,
    calls,
  };
}

// --- Report ----------------------------------------------------------------------------------

/** The section in RESULTS.md: nothing when it did not run. */
export function portalReport(outcome: Outcome<PortalResult> | undefined): string[] {
  if (outcome === undefined) return [];
  const heading = '## Portal: the operator overview';
  const error = errorOf(outcome);
  const result = okOf(outcome);
  if (error || !result) return [heading, '', skipped('Portal overview', error ?? 'no result'), ''];
  return [heading, '', ...portalText(result), ''];
}

function portalText(r: PortalResult): string[] {
  const s = r.seeded;
  const small = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 0.1 ? 4 : 2) : '—');
  const range = ([a, b]: [number, number]) => `${small(a)}–${small(b)}`;
  const round = (x: CallCounts) => `${fmt(x.d1Calls, 1)} (${fmt(x.d1Statements, 1)} statements)`;
  const met = r.calls.overview.d1Calls <= 2 ? 'met' : 'NOT met';
  const loadRow = (label: string, x: RunsSummary & { p90: number }) => [
    label,
    fmt(x.rps, 1),
    ms(x.p50),
    ms(x.p90),
    ms(x.p99),
    us(x.cpuUsPerRequest),
    String(x.notOk),
  ];
  const seqRow = (label: string, x: Sequential, calls: CallCounts) => [
    label,
    ms(x.p50),
    ms(x.p90),
    ms(x.max),
    us(x.cpuUs),
    round(calls),
    fmt(calls.kvReads, 1),
  ];
  return [
    `Seeded in ${s.seedSeconds.toFixed(1)} s (admin API for the parties, bulk SQL for the volume): ${s.days} days × ` +
      `${s.offers} offers × ${s.publishers} publishers, ${fmt(s.clickRollupRows)} click rollup rows ` +
      `(${fmt(s.clicks)} clicks) and ${fmt(s.conversionRollupRows)} conversion rollup rows; ${fmt(s.conversions)} ` +
      `conversions, ${fmt(s.pending)} of them pending (the last ${PENDING_DAYS} days); ${fmt(s.deliveries)} deliveries ` +
      `to ${s.endpoints} endpoints, ${fmt(s.failing)} of them failing (${s.failingEndpoints} endpoints for the last ` +
      `${FAILING_DAYS} days: retrying in the last ${RETRYING_HOURS} hours, dead before). The operator was invited through the admin API, set a password from the ` +
      'invitation link, signed out and signed in with the sign-in form; every request carries that session cookie.',
    '',
    `The page (\`GET /portal\`, default range: the last 30 days): ${fmt(r.page.bytes)} bytes, ` +
      `${r.page.byOfferLines} lines by offer and ${r.page.byPublisherLines} by publisher (one per currency), ` +
      `${r.page.pendingRows} conversions awaiting approval, ${r.page.failingRows} failing deliveries. The bare Worker ` +
      `answers \`${r.barePath.replace(/=\d+$/, '=N')}\`: a fixed HTML page of the same size, no I/O. Every answer ` +
      'under load was checked to be 200 (a lost session answers the sign-in page with 401), and the page was read ' +
      'and checked before and after the runs.',
    '',
    table(
      ['target', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'workerd CPU / request', 'not 200'],
      [
        loadRow('bare Worker: a static HTML page of the same size', r.summary.bare),
        loadRow('**operator overview** `GET /portal`', r.summary.overview),
      ],
      { left: true },
    ),
    '',
    `Overview / bare, req/s at full load (median of paired runs): **${small(r.ratio)}** (runs ${range(r.ratioRange)}): ` +
      `the bare page answers ${fmt(1 / r.ratio)} times as many. Latency under load is closed-loop with ` +
      `${r.connections} connections, so it is mostly queueing: ${r.connections} pages in progress at once.`,
    '',
    `At a fixed ${fmt(r.fixed.rate)} pages/s (one connection, ${r.fixed.seconds} s runs, alternating), workerd CPU per page ` +
      `(all threads, from \`/proc/<pid>/task/*/schedstat\`): **${us(r.fixed.overviewUs)}** for the overview, ` +
      `${us(r.fixed.bareUs)} for the bare page; overview latency p50 ${ms(r.fixed.p50)} ms, p90 ${ms(r.fixed.p90)} ms.`,
    '',
    `One request at a time (${r.sequential.overview.n} each, Node \`fetch\`, no other load), and what a page asks of ` +
      'the platform, counted on the counting copy (`bench/count-entry.js`):',
    '',
    table(
      ['page', 'p50 ms', 'p90 ms', 'max ms', 'workerd CPU', 'D1 round trips', 'KV reads'],
      [
        seqRow('`GET /portal` (session cookie)', r.sequential.overview, r.calls.overview),
        seqRow(
          '`GET /dashboard` (Basic, the same overview plus the dashboard)',
          r.sequential.dashboard,
          r.calls.dashboard,
        ),
      ],
      { left: true },
    ),
    '',
    `Issue 16 asks every portal page to answer in one or two D1 round trips: the overview takes ${fmt(r.calls.overview.d1Calls, 1)} — ${met}.`,
  ];
}
