// A statement run over 100,000 approved conversions (seeded in SQL in one statement) works in
// one API call and stays within D1's limits: every statement it prepares binds at most 100
// parameters and is far below 100 KB of SQL, a run is a handful of queries (D1 allows 1,000
// per invocation), and its query plans reach conversions and lines through indexes only.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { candidatesStatement, runStatements } from '../../src/db/statements';
import { KINDS } from '../../src/statements/kinds';
import { runPeriod } from '../../src/statements/lifecycle';
import { goalIdOf } from '../fixtures';
import { adminOk, createFixture, scalar } from '../helpers';

const N = 100_000;
const PUBLISHERS = 40;

interface Prepared {
  sql: string;
  binds: unknown[];
}

/** env with a D1 binding that refuses what production refuses and counts the queries. */
function limitedEnv() {
  const prepared: Prepared[] = [];
  let queries = 0;
  const check = (p: Prepared) => {
    if (p.binds.length > 100) throw new Error(`${p.binds.length} bound parameters: D1 allows 100`);
    if (new TextEncoder().encode(p.sql).length > 100_000) throw new Error('statement over 100 KB');
  };
  const wrap = (statement: D1PreparedStatement, p: Prepared): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') {
          return (...binds: unknown[]) => {
            const bound = { sql: p.sql, binds };
            check(bound);
            prepared.push(bound);
            return wrap(target.bind(...binds), bound);
          };
        }
        if (prop === 'run' || prop === 'all' || prop === 'first' || prop === 'raw') queries++;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), { sql, binds: [] });
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          queries += statements.length;
          return target.batch(statements);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { env: { ...env, DB: db } as Env, prepared, queries: () => queries };
}

async function seed(): Promise<{ offerId: number; publisherIds: number[] }> {
  const f = await createFixture();
  const goalId = await goalIdOf(f.offerId);
  const publisherIds = [f.publisherId];
  for (let i = 1; i < PUBLISHERS; i++)
    publisherIds.push((await adminOk<{ id: number }>('POST', '/publishers', { name: `P${i}` })).id);
  // One INSERT ... SELECT over a generated series: 100,000 approved sales in March 2026.
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < CAST(?1 AS INTEGER) - 1)
     INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, dedupe_key, status, currency, amount,
       payout_currency, revenue, payout, profile, created_at, updated_at)
     SELECT 'cv_bulk_' || i, ?2, ?3, ?4, json_extract(?5, '$[' || (i % CAST(?6 AS INTEGER)) || ']'), 'r:bulk' || i, 'approved', 'EUR',
       10000 + i % 997, CASE WHEN i % 7 = 0 THEN 'USD' ELSE 'EUR' END, 1000 + i % 991, 500 + i % 89, 'canonical',
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-03-01', '+' || (i % 2592000) || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-03-01', '+' || (i % 2592000) || ' seconds')
     FROM n`,
  )
    .bind(N, f.offerId, goalId, f.advertiserId, JSON.stringify(publisherIds), PUBLISHERS)
    .run();
  return { offerId: f.offerId, publisherIds };
}

async function planOf(p: Prepared): Promise<string> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${p.sql}`)
    .bind(...p.binds)
    .all<{ detail: string }>();
  return results.map((r) => r.detail).join('\n');
}

describe('a statement run over 100,000 approved conversions', () => {
  it('works in one call, within D1 limits, to the cent, through indexes', async () => {
    await seed();
    expect(await scalar("SELECT COUNT(*) AS n FROM conversions WHERE id LIKE 'cv_bulk_%'")).toBe(N);
    await env.DB.prepare('ANALYZE').run();

    const started = Date.now();
    const run = await adminOk<{ draft: number; lines: number }>('POST', '/statements', { period: '2026-03' });
    const ms = Date.now() - started;
    expect(run).toMatchObject({ draft: PUBLISHERS * 2, lines: N });
    console.log(`statement run over ${N} conversions: ${ms} ms`);

    const payouts = await env.DB.prepare(
      "SELECT payout_currency AS currency, SUM(payout) AS n FROM conversions WHERE id LIKE 'cv_bulk_%' GROUP BY 1 ORDER BY 1",
    ).all<{ currency: string; n: number }>();
    const totals = await env.DB.prepare(
      "SELECT currency, SUM(total) AS n, SUM(line_count) AS lines FROM documents WHERE kind = 'statement' AND period = '2026-03' GROUP BY 1 ORDER BY 1",
    ).all<{ currency: string; n: number; lines: number }>();
    expect(totals.results.map((r) => [r.currency, r.n])).toEqual(payouts.results.map((r) => [r.currency, r.n]));
    const lineSums = await env.DB.prepare(
      "SELECT d.id, d.total, (SELECT SUM(amount) FROM document_lines l WHERE l.document_id = d.id) AS lines FROM documents d WHERE kind = 'statement' AND period = '2026-03'",
    ).all<{ total: number; lines: number }>();
    expect(lineSums.results.every((r) => r.total === r.lines)).toBe(true);

    // The rebuild (every line deleted and written again) and the invoices, on a binding that
    // enforces production's limits.
    const limited = limitedEnv();
    const rebuilt = await runPeriod(limited.env, KINDS.statement, '2026-03');
    expect(rebuilt.lines).toBe(N);
    const invoices = await runPeriod(limited.env, KINDS.invoice, '2026-03');
    expect(invoices).toMatchObject({ lines: N, counts: { draft: 2 } });
    expect(limited.queries()).toBeLessThan(20);
    expect(Math.max(...limited.prepared.map((p) => p.binds.length))).toBeLessThanOrEqual(5);

    // Query plans of the run's statements, once SQLite has statistics: conversions and lines
    // are searched through an index (or by primary key), never scanned whole.
    const window = {
      period: '2026-04',
      start: '2026-04-01T00:00:00.000Z',
      end: '2026-05-01T00:00:00.000Z',
      now: new Date().toISOString(),
    };
    const recorded: Prepared[] = [];
    const recorder = {
      prepare: (sql: string) => ({ bind: (...binds: unknown[]) => recorded.push({ sql, binds }) }),
    } as unknown as D1Database;
    runStatements(recorder, KINDS.statement, window);
    candidatesStatement(recorder, KINDS.statement, window);
    for (const statement of recorded) {
      const plan = await planOf(statement);
      expect(plan, plan).not.toMatch(/SCAN (c|conversions|l|document_lines|documents|d)\b(?! USING)/);
      expect(plan, plan).not.toMatch(/SCAN conversions$/m);
    }
    const candidatesPlan = await planOf(recorded[recorded.length - 1] as Prepared);
    expect(candidatesPlan).toMatch(/SEARCH c USING INDEX conversions_status_time/);
    expect(candidatesPlan).toMatch(/document_lines_stated/);
  }, 120_000);
});
