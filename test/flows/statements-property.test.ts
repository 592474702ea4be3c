// No money created or lost across statements and invoices: random histories of sales,
// approvals, rejections, reversals, adjustments, minimum payouts, period runs (in any order,
// again and again), issues and payments, followed by a closing run. For each party and
// currency the counted lines of every document (plus the last carried one) add up to exactly
// the final payout (statements) or revenue (invoices) of its approved conversions; every
// document's total is the sum of its lines; issued documents never changed after their issue.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConversionStatus } from '../../src/db/conversions';
import type { DocumentLineRow, DocumentRow } from '../../src/db/statements';
import { type DocumentKind, KINDS } from '../../src/statements/kinds';
import { issueDocument, payDocument, runPeriod } from '../../src/statements/lifecycle';
import { conversionRow, goalIdOf, seedConversion } from '../fixtures';
import { adminOk, createFixture, type Fixture } from '../helpers';

const PERIODS = ['2026-03', '2026-04', '2026-05', '2026-06'];
const CLOSING = '2026-07';
const KINDS_ALL: DocumentKind[] = ['statement', 'invoice'];

type Command =
  | { op: 'sale'; period: number; day: number; payout: number; revenue: number; approved: boolean }
  | { op: 'status'; sale: number; to: ConversionStatus }
  | { op: 'adjust'; sale: number; payout: number; revenue: number }
  | { op: 'minimum'; amount: number | null }
  | { op: 'run'; kind: DocumentKind; period: number }
  | { op: 'issue'; kind: DocumentKind; nth: number }
  | { op: 'pay'; kind: DocumentKind; nth: number };

const money = fc.integer({ min: 0, max: 50_000 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('sale' as const),
      period: fc.nat(3),
      day: fc.integer({ min: 1, max: 28 }),
      payout: money,
      revenue: money,
      approved: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('status' as const),
      sale: fc.nat(30),
      to: fc.constantFrom<ConversionStatus>('approved', 'rejected', 'reversed', 'pending'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('adjust' as const), sale: fc.nat(30), payout: money, revenue: money }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('minimum' as const),
      amount: fc.option(fc.integer({ min: 1, max: 60_000 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('run' as const), kind: fc.constantFrom(...KINDS_ALL), period: fc.nat(3) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('issue' as const), kind: fc.constantFrom(...KINDS_ALL), nth: fc.nat(10) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('pay' as const), kind: fc.constantFrom(...KINDS_ALL), nth: fc.nat(10) }),
  },
);

const NOW = Date.parse('2026-12-08T00:00:00Z');

async function documentsOf(kind: DocumentKind, partyId: number): Promise<DocumentRow[]> {
  const { results } = await env.DB.prepare('SELECT * FROM documents WHERE kind = ? AND party_id = ? ORDER BY id')
    .bind(kind, partyId)
    .all<DocumentRow>();
  return results;
}

async function linesOf(documentId: number): Promise<DocumentLineRow[]> {
  const { results } = await env.DB.prepare('SELECT * FROM document_lines WHERE document_id = ? ORDER BY id')
    .bind(documentId)
    .all<DocumentLineRow>();
  return results;
}

async function replay(f: Fixture, goalId: number, commands: Command[]) {
  const sales: string[] = [];
  const issuedSnapshots = new Map<number, string>();
  for (const c of commands) {
    if (c.op === 'sale') {
      const at = `${PERIODS[c.period]}-${String(c.day).padStart(2, '0')}T10:00:00.000Z`;
      const row = await seedConversion(
        conversionRow(f, goalId, {
          status: c.approved ? 'approved' : 'pending',
          payout: c.payout,
          revenue: c.revenue,
          created_at: at,
          updated_at: at,
        }),
      );
      sales.push(row.id);
    } else if (c.op === 'status' || c.op === 'adjust') {
      const id = sales[c.sale % Math.max(sales.length, 1)];
      if (!id) continue;
      const sql =
        c.op === 'status'
          ? env.DB.prepare('UPDATE conversions SET status = ? WHERE id = ?').bind(c.to, id)
          : env.DB.prepare('UPDATE conversions SET payout = ?, revenue = ? WHERE id = ?').bind(c.payout, c.revenue, id);
      await sql.run();
    } else if (c.op === 'minimum') {
      await env.DB.prepare('UPDATE publishers SET minimum_payout = ? WHERE id = ?')
        .bind(c.amount === null ? null : JSON.stringify({ EUR: c.amount }), f.publisherId)
        .run();
    } else if (c.op === 'run') {
      await runPeriod(env, KINDS[c.kind], PERIODS[c.period] as string, NOW);
    } else {
      const party = c.kind === 'statement' ? f.publisherId : f.advertiserId;
      const wanted = c.op === 'issue' ? 'draft' : 'issued';
      const candidates = (await documentsOf(c.kind, party)).filter((d) => d.status === wanted);
      const doc = candidates[c.nth % Math.max(candidates.length, 1)];
      if (!doc) continue;
      if (c.op === 'issue') {
        await issueDocument(env, KINDS[c.kind], doc.id);
        issuedSnapshots.set(doc.id, JSON.stringify(await linesOf(doc.id)));
      } else {
        await payDocument(env, KINDS[c.kind], doc.id, `ref ${doc.id}`);
      }
    }
  }
  return issuedSnapshots;
}

async function checkInvariants(f: Fixture, issuedSnapshots: Map<number, string>) {
  for (const kind of KINDS_ALL) {
    await runPeriod(env, KINDS[kind], CLOSING, NOW);
    const party = kind === 'statement' ? f.publisherId : f.advertiserId;
    const column = kind === 'statement' ? 'payout' : 'revenue';
    const owed = await env.DB.prepare(
      `SELECT COALESCE(SUM(${column}), 0) AS n FROM conversions WHERE ${kind === 'statement' ? 'publisher_id' : 'advertiser_id'} = ? AND status = 'approved'`,
    )
      .bind(party)
      .first<{ n: number }>();
    let stated = 0;
    for (const doc of await documentsOf(kind, party)) {
      const lines = await linesOf(doc.id);
      const sum = lines.reduce((s, l) => s + l.amount, 0);
      expect(doc.total, `${kind} ${doc.id} total`).toBe(sum);
      expect(doc.line_count).toBe(lines.length);
      expect(lines.every((l) => l.counted === (doc.status === 'carried' ? 0 : 1))).toBe(true);
      if (doc.status !== 'carried') stated += sum;
      else if (doc.period === CLOSING) stated += sum;
      const snapshot = issuedSnapshots.get(doc.id);
      if (snapshot !== undefined) {
        expect(['issued', 'paid']).toContain(doc.status);
        expect(JSON.stringify(lines), `issued ${kind} ${doc.id} changed`).toBe(snapshot);
      }
      if (doc.status === 'draft') expect(doc.total).toBeGreaterThanOrEqual(Math.max(doc.minimum ?? 0, 1));
    }
    expect(stated, `${kind}: money stated vs owed`).toBe(owed?.n);
  }
}

describe('statements and invoices conserve money', () => {
  it('over random histories of sales, changes, runs, issues and payments', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
        const f = await createFixture();
        const goalId = await goalIdOf(f.offerId);
        const snapshots = await replay(f, goalId, commands);
        await checkInvariants(f, snapshots);
      }),
      { numRuns: 40 },
    );
  }, 240_000);

  it('a history that reverses an issued sale states it as a negative line next time', async () => {
    const f = await createFixture();
    const goalId = await goalIdOf(f.offerId);
    await adminOk('PATCH', `/publishers/${f.publisherId}`, { minimum_payout: null });
    const snapshots = await replay(f, goalId, [
      { op: 'sale', period: 0, day: 3, payout: 1000, revenue: 2000, approved: true },
      { op: 'sale', period: 0, day: 4, payout: 700, revenue: 1400, approved: true },
      { op: 'run', kind: 'statement', period: 0 },
      { op: 'issue', kind: 'statement', nth: 0 },
      { op: 'status', sale: 0, to: 'reversed' },
      { op: 'sale', period: 1, day: 9, payout: 300, revenue: 600, approved: true },
      { op: 'run', kind: 'statement', period: 1 },
    ]);
    const [march, april] = await documentsOf('statement', f.publisherId);
    expect(march).toMatchObject({ status: 'issued', total: 1700 });
    expect(april).toMatchObject({ status: 'carried', total: -700 });
    await checkInvariants(f, snapshots);
  });
});
