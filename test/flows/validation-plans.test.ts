// The query plans of bulk validation's and claims' reads and writes, built by the real
// statement builders, on a database with statistics about thousands of conversions, stated
// lines, validation jobs and claims: each finds its rows through an index or a primary key,
// never by walking a table, so a 10,000-row file costs its rows, not the network's history.
// (The statement run's own plans are checked in statements-scale.test.ts.)
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  acceptClaimStatement,
  addClaimMessage,
  claimMessages,
  getClaim,
  listClaims,
  mayPromoteStatement,
  openClaimFor,
  rejectClaim,
} from '../../src/db/claims';
import { conversionsByKeysStatement } from '../../src/db/conversions';
import {
  chunksOf,
  closeIfDoneStatement,
  conversionStatesByIdStatement,
  conversionStatesByOrderStatement,
  conversionsChangedBy,
  finishChunk,
  fullConversionsStatement,
  getValidation,
  lockedDocumentsStatement,
  recentValidations,
  startChunk,
  validationTotalsStatement,
} from '../../src/db/validations';
import { goalIdOf } from '../fixtures';
import { createFixture, type Fixture } from '../helpers';

interface Recorded {
  name: string;
  sql: string;
  binds: unknown[];
}

/** A stand-in D1Database that keeps the SQL and bindings the builders prepare (and runs nothing). */
function recorder() {
  const seen: Recorded[] = [];
  let name = '';
  const none = async () => ({ results: [], meta: {} });
  const db = {
    prepare: (sql: string) => ({
      bind: (...binds: unknown[]) => {
        seen.push({ name, sql, binds });
        return { all: none, run: none, first: async () => null, raw: async () => [] };
      },
    }),
    batch: async (statements: unknown[]) => statements.map(() => ({ results: [], meta: {} })),
  } as unknown as D1Database;
  const as = async (label: string, build: () => unknown) => {
    name = label;
    await build();
  };
  return { db, seen, as };
}

async function planOf(statement: Recorded): Promise<string> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
    .bind(...statement.binds)
    .all<{ detail: string }>();
  return results.map((r) => r.detail).join('\n');
}

// Goals are a few rows per offer, read by the postback's own lookup (postback-plans.test.ts).
const TABLES = [
  'conversions',
  'c',
  'document_lines',
  'l',
  'documents',
  'd',
  'audit_log',
  'validations',
  'validation_chunks',
  'claims',
  'claim_messages',
];
/** Tables read whole, or along a whole index (a SCAN with no condition on the index). */
const walks = (plan: string) => TABLES.filter((t) => new RegExp(`^SCAN ${t}\\b`, 'm').test(plan));
/** The operator's newest jobs: the index in created_at order, stopped by LIMIT 20. */
const ORDERED_WALKS = new Set(['recent jobs (operator)']);

const ROWS = 3000;
let f: Fixture;

/** Thousands of conversions of one offer, each on a line of a document, jobs and claims. */
beforeAll(async () => {
  f = await createFixture();
  const goalId = await goalIdOf(f.offerId, 'sale');
  const n = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS})`;
  await env.DB.batch([
    env.DB.prepare(
      `${n} INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, order_id, dedupe_key, status,
         currency, amount, payout_currency, revenue, payout, profile, created_at, updated_at)
       SELECT 'cv_vplan_' || i, ?1, ?2, ?3, ?4, 'VP-' || i, 'o:VP-' || i, 'approved', 'EUR', 10000, 'EUR', 500, 200,
         'canonical', strftime('%Y-%m-%dT%H:%M:%fZ', '2025-06-01', '+' || i || ' minutes'), '2025-07-01T00:00:00.000Z'
       FROM n`,
    ).bind(f.offerId, goalId, f.advertiserId, f.publisherId),
    env.DB.prepare(
      `INSERT INTO documents (id, kind, period, period_start, period_end, party_id, currency, status, total, line_count,
         created_at, updated_at) VALUES (900001, 'statement', '2025-06', '2025-06-01T00:00:00.000Z',
         '2025-07-01T00:00:00.000Z', ?1, 'EUR', 'draft', ${ROWS * 200}, ${ROWS}, '2025-07-01T00:00:00.000Z',
         '2025-07-01T00:00:00.000Z')`,
    ).bind(f.publisherId),
    // Many issued documents of other parties: a plan must not start from them.
    env.DB.prepare(
      `${n} INSERT INTO documents (kind, period, period_start, period_end, party_id, currency, status, total,
         line_count, created_at, updated_at, issued_at)
       SELECT 'statement', '2025-05', '2025-05-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', 100000 + i, 'EUR',
         'issued', 0, 0, '2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z' FROM n`,
    ),
    env.DB.prepare(
      `INSERT INTO document_lines (document_id, kind, conversion_id, line_type, amount, value, conversion_status,
         offer_id, order_id, conversion_time, counted)
       SELECT 900001, 'statement', id, 'conversion', payout, payout, status, offer_id, order_id, created_at, 1
       FROM conversions WHERE id LIKE 'cv_vplan_%'`,
    ),
    env.DB.prepare(
      `${n} INSERT INTO validations (id, advertiser_id, principal, format, rows_total, chunks_total, status, created_at)
       SELECT 'val_plan_' || i, ?1, '{}', 'csv', 100, 1, 'done', strftime('%Y-%m-%dT%H:%M:%fZ', '2025-07-01', '+' || i || ' minutes')
       FROM n`,
    ).bind(f.advertiserId),
    env.DB.prepare(
      `${n} INSERT INTO validation_chunks (validation_id, seq, status, rows, updated_at)
       SELECT 'val_plan_' || (i % 100 + 1), i, 'done', '[]', '2025-07-01T00:00:00.000Z' FROM n`,
    ),
    env.DB.prepare(
      `${n} INSERT INTO claims (offer_id, advertiser_id, publisher_id, order_id, amount, currency, transaction_date,
         status, created_at, updated_at)
       SELECT ?1, ?2, ?3, 'CL-' || i, 1000, 'EUR', '2025-06-10', CASE WHEN i % 10 = 0 THEN 'open' ELSE 'rejected' END,
         '2025-07-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z' FROM n`,
    ).bind(f.offerId, f.advertiserId, f.publisherId),
    env.DB.prepare(
      `INSERT INTO claim_messages (claim_id, author_role, message, created_at)
       SELECT id, 'publisher', 'missing sale', created_at FROM claims`,
    ),
  ]);
  await env.DB.exec('ANALYZE');
});

async function monthStatements(): Promise<Recorded[]> {
  const { db, seen, as } = recorder();
  const ids = ['cv_vplan_1', 'cv_vplan_2', 'cv_vplan_3'];
  const now = '2025-07-02T00:00:00.000Z';
  await as('states by id (advertiser)', () => conversionStatesByIdStatement(db, ids, f.advertiserId));
  await as('states by id (operator)', () => conversionStatesByIdStatement(db, ids, null));
  await as('states by order (advertiser)', () =>
    conversionStatesByOrderStatement(db, ['VP-1', 'VP-2'], f.advertiserId),
  );
  await as('states by order (operator)', () => conversionStatesByOrderStatement(db, ['VP-1', 'VP-2'], null));
  await as('locked documents', () => lockedDocumentsStatement(db, ids));
  await as('whole conversions of a chunk', () => fullConversionsStatement(db, ids));
  await as('changed by the job', () => conversionsChangedBy(db, 'val_plan_1', ids));
  await as('job', () => getValidation(db, 'val_plan_1'));
  await as('chunks of a job', () => chunksOf(db, 'val_plan_1'));
  await as('start a chunk', () => startChunk(db, 'val_plan_1', 3, now));
  await as('finish a chunk', () =>
    finishChunk(db, 'val_plan_1', 3, { results: '[]', changed: 0, unchanged: 0, failed: 0 }, 0, now),
  );
  await as('close the job', () => closeIfDoneStatement(db, 'val_plan_1', now));
  await as('job totals', () => validationTotalsStatement(db, 'val_plan_1'));
  await as('recent jobs (advertiser)', () => recentValidations(db, f.advertiserId, 20));
  await as('recent jobs (operator)', () => recentValidations(db, null, 20));
  await as('claim', () => getClaim(db, 10));
  await as('open claim for an order', () => openClaimFor(db, f.offerId, 'CL-10', f.publisherId));
  await as('claims of a publisher', () => listClaims(db, { publisher_id: f.publisherId }, 1e9, 50));
  await as('claims of an advertiser', () => listClaims(db, { advertiser_id: f.advertiserId }, 1e9, 50));
  await as('open claims of an advertiser', () =>
    listClaims(db, { advertiser_id: f.advertiserId, status: 'open' }, 1e9, 50),
  );
  await as('claim thread', () => claimMessages(db, 10));
  await as('claim message', () => addClaimMessage(db, 10, 'advertiser', 'looking', now));
  await as('accept a claim', () => acceptClaimStatement(db, 10, 'cv_vplan_1', now));
  await as('reject a claim', () => rejectClaim(db, 20, 'no sale', now));
  await as('may promote', () => mayPromoteStatement(db, f.offerId, f.publisherId));
  await as('claim: the order converted?', () => conversionsByKeysStatement(db, f.offerId, ['o:CL-10']));
  return seen;
}

describe('bulk validation and claims', () => {
  it('find their rows through indexes, with statistics about thousands of rows', async () => {
    const statements = await monthStatements();
    expect(statements.length).toBeGreaterThanOrEqual(28);
    for (const statement of statements) {
      const plan = await planOf(statement);
      console.log('PLAN', statement.name, JSON.stringify(plan));
      if (ORDERED_WALKS.has(statement.name)) expect(plan).toMatch(/^SCAN validations USING INDEX validations_time$/);
      else expect(walks(plan), `${statement.name}\n${plan}`).toEqual([]);
    }
    const plan = async (name: string) => planOf(statements.find((s) => s.name === name) as Recorded);
    expect(await plan('locked documents')).toMatch(
      /^SEARCH l USING (COVERING )?INDEX document_lines_stated \(kind=\? AND counted=\? AND conversion_id=\?\)\n(.*\n)*SEARCH d USING INTEGER PRIMARY KEY \(rowid=\?\)/,
    );
    expect(await plan('states by order (operator)')).toMatch(/SEARCH c USING INDEX conversions_order \(order_id=\?\)/);
    expect(await plan('changed by the job')).toMatch(/audit_log_resource \(resource=\? AND resource_id=\?\)/);
    expect(await plan('open claim for an order')).toMatch(/claims_open_order/);
  });
});
