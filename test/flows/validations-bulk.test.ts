// Bulk validation at its limit: what one chunk costs in D1 queries (measured, against the 1,000
// queries of one invocation), a 10,000-row file end to end through the validations Queue, and
// chunks that fail part way (retried, or given up after the last attempt) saying exactly which
// rows applied.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal';
import { insertConversionStatement } from '../../src/db/conversions';
import worker from '../../src/index';
import { uploadFromCsv } from '../../src/month/upload';
import { applyChunk, MAX_CHUNK_ATTEMPTS } from '../../src/month/validation-apply';
import { CHUNK_BUDGET, MAX_CHUNK_ROWS, planUpload, storeValidation } from '../../src/month/validations';
import { conversionRow, goalIdOf } from '../fixtures';
import { ADMIN, worker as call, createFixture, type Fixture, scalar } from '../helpers';
import { mintClick } from '../postback-helpers';

const operator: Principal = { role: 'operator', actor: { kind: 'token', id: null, label: 'admin token' } };

/** `n` pending sales of 100.00 (revenue 10.00, payout 5.00) with order IDs `${prefix}-i`. */
async function seedSales(
  f: Fixture,
  prefix: string,
  n: number,
  withClicks = false,
  status: (i: number) => 'pending' | 'approved' = () => 'pending',
): Promise<string[]> {
  const goal = await goalIdOf(f.offerId, 'sale');
  const ids: string[] = [];
  const rows = [];
  for (let i = 0; i < n; i++) {
    const order = `${prefix}-${i}`;
    const row = conversionRow(f, goal, {
      order_id: order,
      dedupe_key: `o:${order}`,
      status: status(i),
      amount: 10000,
      revenue: 1000,
      payout: 500,
      click_id: withClicks ? await mintClick(f) : null,
      pricing: JSON.stringify({
        rule: 'goal',
        base: { revenue_fixed: 0, revenue_percent_bp: 1000, payout_fixed: 0, payout_percent_bp: 500 },
        groups: {},
      }),
    });
    ids.push(row.id);
    rows.push(insertConversionStatement(env.DB, row));
  }
  for (let i = 0; i < rows.length; i += 500) await env.DB.batch(rows.slice(i, i + 500));
  return ids;
}

/** The environment with its D1 binding counting every query (a batch counts as one). */
function counting(): { env: Env; queries: () => number } {
  let n = 0;
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...values: unknown[]) => wrap(target.bind(...values));
        const value = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        if (prop === 'first' || prop === 'all' || prop === 'run' || prop === 'raw') n++;
        return value.bind(target);
      },
    });
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql));
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          n++;
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { env: Object.create(env, { DB: { value: db } }) as Env, queries: () => n };
}

/** A stored job over `file`, with its pending chunks (nothing applied yet, no message sent). */
async function stored(file: string) {
  const upload = uploadFromCsv(file);
  const planned = await planUpload(env.DB, upload, null);
  return storeValidation(env.DB, operator, upload.format, planned);
}

const noWait = { waitUntil: (_: Promise<unknown>) => {} };

describe('bulk validation within the platform limits', () => {
  it('applies a chunk within its budget of D1 queries, far below the 1,000 of one invocation (measured)', async () => {
    const f = await createFixture();
    // The costly case: amended amounts and approvals of conversions with clicks.
    await seedSales(f, 'Q', 60, true);
    const amended = Array.from({ length: 60 }, (_, i) => `Q-${i},approved,80.00,Returned item`);
    const costly = await stored(['order_id,status,amount,reason', ...amended].join('\n'));
    expect(costly.pending.length).toBe(2);
    const first = counting();
    await applyChunk(first.env, noWait, costly.job.id, costly.pending[0] as number);
    const rows = await scalar('SELECT COUNT(*) AS n FROM conversions WHERE offer_id = ? AND amount = 8000', f.offerId);
    expect(rows).toBe(44);
    expect(first.queries()).toBeLessThanOrEqual(CHUNK_BUDGET);
    expect(first.queries() / rows).toBeLessThanOrEqual(8);
    expect(
      await scalar(
        "SELECT COUNT(*) AS n FROM conversions WHERE offer_id = ? AND status = 'approved' AND amount = 8000 AND payout = 400",
        f.offerId,
      ),
    ).toBe(44);
    // The common case: status changes alone, a full chunk of them, one batch each.
    const g = await createFixture();
    await seedSales(g, 'S', MAX_CHUNK_ROWS, true);
    const approvals = Array.from({ length: MAX_CHUNK_ROWS }, (_, i) => `S-${i},approved`);
    const cheap = await stored(['order_id,status', ...approvals].join('\n'));
    expect(cheap.pending.length).toBe(1);
    const second = counting();
    await applyChunk(second.env, noWait, cheap.job.id, cheap.pending[0] as number);
    expect(second.queries()).toBeLessThanOrEqual(MAX_CHUNK_ROWS + 6);
    expect(
      await scalar("SELECT COUNT(*) AS n FROM conversions WHERE offer_id = ? AND status = 'approved'", g.offerId),
    ).toBe(MAX_CHUNK_ROWS);
    console.log(
      `chunk cost: ${first.queries()} queries for 44 amended approvals, ${second.queries()} for 100 approvals`,
    );
  });

  it('accepts 10,000 rows with 202, applies them chunk by chunk through the Queue, and reports progress', async () => {
    const f = await createFixture();
    // A month's file: most rows were approved by an earlier upload; 2,000 are new decisions, ten
    // of them reversals of pending sales (refused).
    // (All 10,000 as changes took 69 s here on a loaded 2-core machine: one D1 batch a row.)
    const ids = await seedSales(f, 'BIG', 10_000, false, (i) => (i % 5 === 0 ? 'pending' : 'approved'));
    const lines = ids.map((_, i) => (i % 1000 === 995 ? `BIG-${i},reversed,,` : `BIG-${i},approved,,`));
    const file = ['order_id,status,amount,reason', ...lines].join('\n');
    const started = Date.now();
    const response = await call('/api/v1/conversions/validations', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'text/csv' },
      body: file,
    });
    const accepted = (await response.json()) as { id: string; status: string; rows_total: number; failed: number };
    expect(response.status, JSON.stringify(accepted).slice(0, 300)).toBe(202);
    expect(accepted).toMatchObject({ status: 'queued', rows_total: 10_000, failed: 10 });
    const acceptedMs = Date.now() - started;
    type Progress = {
      status: string;
      rows_done: number;
      changed: number;
      failed: number;
      rows: { row: number; code: string }[];
    };
    let done: Progress | null = null;
    while (!done && Date.now() - started < 110_000) {
      // Once a second: each read parses every chunk, and the consumer shares this thread.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const read = await call(`/api/v1/conversions/validations/${accepted.id}?outcome=failed`, { headers: ADMIN });
      const body = (await read.json()) as Progress;
      expect(body.rows_done).toBeGreaterThanOrEqual(10);
      if (body.status === 'done') done = body;
    }
    if (!done) throw new Error('the job did not finish');
    expect(done).toMatchObject({ rows_done: 10_000, changed: 1_990, unchanged: 8_000, failed: 10 });
    expect(done.rows.map((r) => [r.row, r.code])).toEqual(
      Array.from({ length: 10 }, (_, k) => [k * 1000 + 996, 'illegal_status_change']),
    );
    // Each pending conversion approved once, by one event with its audit entry; the rollups
    // moved by exactly those (the seeded rows had none).
    const approvedEvents = await scalar(
      "SELECT COUNT(*) AS n FROM conversion_events WHERE type = 'conversion.approved' AND conversion_id IN (SELECT id FROM conversions WHERE offer_id = ?)",
      f.offerId,
    );
    expect(approvedEvents).toBe(1_990);
    const audited = await scalar(
      "SELECT COUNT(DISTINCT resource_id) AS n FROM audit_log WHERE resource = 'conversion' AND json_extract(after, '$.validation_id') = ?",
      accepted.id,
    );
    expect(audited).toBe(1_990);
    const approved = await scalar(
      "SELECT COUNT(*) AS n FROM conversions WHERE offer_id = ? AND status = 'approved'",
      f.offerId,
    );
    expect(approved).toBe(9_990);
    const stats = await env.DB.prepare(
      'SELECT SUM(approved) AS approved, SUM(pending) AS pending, SUM(payout_approved) AS payout FROM daily_conversion_stats WHERE offer_id = ?',
    )
      .bind(f.offerId)
      .first();
    expect(stats).toEqual({ approved: 1_990, pending: -1_990, payout: 1_990 * 500 });
    // No stored chunk near D1's limits: at most 100 rows to apply, 60 KB of JSON.
    const widest = await env.DB.prepare(
      'SELECT MAX(length(rows)) AS bytes, MAX(CASE WHEN attempts > 0 THEN json_array_length(rows) END) AS applied FROM validation_chunks WHERE validation_id = ?',
    )
      .bind(accepted.id)
      .first();
    expect(widest).toEqual({ bytes: expect.any(Number), applied: 100 });
    expect((widest as { bytes: number }).bytes).toBeLessThanOrEqual(60_000);
    console.log(`10,000 rows: accepted in ${acceptedMs} ms, applied in ${Date.now() - started} ms`);
  }, 120_000);

  it('a chunk retried after failing part way names the rows it had applied as changed, applying none twice', async () => {
    const f = await createFixture();
    const ids = await seedSales(f, 'RT', 10);
    const { job, pending } = await stored(['order_id,status', ...ids.map((_, i) => `RT-${i},approved`)].join('\n'));
    const seq = pending[0] as number;
    // D1 fails from the 9th query on: the chunk has applied some rows by then.
    const failing = counting();
    const broken = Object.create(failing.env, {
      DB: {
        value: new Proxy(failing.env.DB, {
          get(target, prop) {
            if (prop === 'batch') {
              return (s: D1PreparedStatement[]) => {
                if (failing.queries() >= 8) throw new Error('D1 is unavailable');
                return target.batch(s);
              };
            }
            const value = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
      },
    }) as Env;
    await expect(applyChunk(broken, noWait, job.id, seq)).rejects.toThrow('D1 is unavailable');
    const appliedBefore = await scalar(
      "SELECT COUNT(*) AS n FROM conversions WHERE offer_id = ? AND status = 'approved'",
      f.offerId,
    );
    expect(appliedBefore).toBeGreaterThan(0);
    expect(appliedBefore).toBeLessThan(10);
    await applyChunk(env, noWait, job.id, seq);
    const read = (await (await call(`/api/v1/conversions/validations/${job.id}`, { headers: ADMIN })).json()) as {
      status: string;
      changed: number;
      unchanged: number;
      rows: { message: string }[];
    };
    expect(read).toMatchObject({ status: 'done', changed: 10, unchanged: 0 });
    expect(read.rows.filter((r) => r.message.endsWith('(applied by this job)'))).toHaveLength(appliedBefore);
    expect(
      await scalar(
        "SELECT COUNT(*) AS n FROM conversion_events WHERE type = 'conversion.approved' AND conversion_id IN (SELECT id FROM conversions WHERE offer_id = ?)",
        f.offerId,
      ),
    ).toBe(10);
  });

  it('after the last attempt fails, the rows not applied are failed as such and the job ends', async () => {
    const f = await createFixture();
    const ids = await seedSales(f, 'GU', 5);
    const { job, pending } = await stored(['order_id,status', ...ids.map((_, i) => `GU-${i},approved`)].join('\n'));
    const broken = Object.create(env, {
      DB: {
        value: new Proxy(env.DB, {
          get(target, prop) {
            // Reads work, every conversion write fails: nothing can be applied.
            if (prop === 'batch') {
              return (s: D1PreparedStatement[]) =>
                s.length > 3 ? Promise.reject(new Error('D1 is unavailable')) : target.batch(s);
            }
            const value = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
      },
    }) as Env;
    const batch = createMessageBatch('clickhop-validations', [
      {
        id: 'm1',
        timestamp: new Date(),
        attempts: MAX_CHUNK_ATTEMPTS,
        body: { validation_id: job.id, seq: pending[0] },
      },
    ]) as MessageBatch;
    const ctx = createExecutionContext();
    const handler: ExportedHandler<Env> = worker;
    await handler.queue?.(batch, broken, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(['m1']);
    const read = (await (await call(`/api/v1/conversions/validations/${job.id}`, { headers: ADMIN })).json()) as {
      status: string;
      failed: number;
      rows: { code: string; message: string }[];
    };
    expect(read).toMatchObject({ status: 'done', failed: 5 });
    expect(read.rows[0]).toMatchObject({ code: 'not_applied' });
    expect(read.rows[0]?.message).toMatch(/^not applied: processing failed 5 times/);
    expect(
      await scalar("SELECT COUNT(*) AS n FROM conversions WHERE offer_id = ? AND status = 'approved'", f.offerId),
    ).toBe(0);
  });
});
