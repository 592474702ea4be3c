// Statements through the real Worker: sales reported by postbacks, a month closed into a draft,
// rebuilt, issued (statement.issued reaches the publisher's server, signed), locked against
// later changes (which become adjustment lines on the next period's statement), paid
// (statement.paid), and read back as JSON and CSV, with totals to the cent.
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  admin,
  adminOk,
  createFixture,
  eventually,
  expectError,
  RECEIVER,
  received,
  uniqueKey,
  worker,
} from '../helpers';
import { datedSale } from '../postback-helpers';

type Line = { conversion_id: string; type: string; amount: string; conversion_payout: string; order_id: string | null };
type Statement = {
  id: number;
  status: string;
  total: string;
  line_count: number;
  period: string;
  publisher_id: number;
};
type Detail = Statement & { lines: Line[]; deliveries: { event: string; status: string }[] };

const cents = (text: string) => Math.round(Number(text) * 100);
const sumOf = (lines: Line[]) => lines.reduce((sum, l) => sum + cents(l.amount), 0);

async function statementOf(publisherId: number, period: string): Promise<Detail> {
  const list = await adminOk<{ data: Statement[] }>('GET', `/statements?period=${period}&publisher_id=${publisherId}`);
  expect(list.data).toHaveLength(1);
  return adminOk<Detail>('GET', `/statements/${list.data[0]?.id}`);
}

async function keyFor(body: Record<string, unknown>): Promise<string> {
  return (await adminOk<{ key: string }>('POST', '/api-keys', body)).key;
}

const as = (key: string, path: string, init: RequestInit = {}) =>
  worker(`/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });

describe('a month from the first sale to a paid statement', () => {
  it('drafts, rebuilds, issues, locks, carries changes to the next statement and pays', async () => {
    const f = await createFixture();
    const hook = uniqueKey('statements');
    const endpoint = await adminOk<{ id: number; signing_secret: string }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${hook}`,
      format: 'json',
      events: ['statement.issued', 'statement.paid'],
    });
    const quiet = uniqueKey('conversions-only');
    await adminOk('POST', '/endpoints', { publisher_id: f.publisherId, url: `${RECEIVER}/${quiet}`, format: 'json' });

    // October: three approved sales and a pending one (5% payout).
    const s1 = await datedSale(f, '100.00', '2026-10-03');
    const s2 = await datedSale(f, '33.33', '2026-10-15', 'approved', '=HYPERLINK("http://evil.example")');
    const s3 = await datedSale(f, '50.00', '2026-10-20', 'pending');
    const s4 = await datedSale(f, '12.10', '2026-10-31');
    expect([s1.payout, s2.payout, s3.payout, s4.payout]).toEqual(['5.00', '1.67', '2.50', '0.61']);

    const run = await adminOk('POST', '/statements', { period: '2026-10' });
    expect(run).toMatchObject({ period: '2026-10', draft: 1, carried: 0, issued: 0, lines: 3 });
    const draft = await statementOf(f.publisherId, '2026-10');
    expect(draft).toMatchObject({ status: 'draft', total: '7.28', line_count: 3 });
    expect(draft.lines.map((l) => [l.conversion_id, l.type, l.amount])).toEqual([
      [s1.id, 'conversion', '5.00'],
      [s2.id, 'conversion', '1.67'],
      [s4.id, 'conversion', '0.61'],
    ]);
    expect(JSON.stringify(draft)).not.toMatch(/revenue/);

    // Running the month again changes nothing; after an approval it rebuilds the same draft.
    await adminOk('POST', '/statements', { period: '2026-10' });
    expect(await statementOf(f.publisherId, '2026-10')).toMatchObject({ id: draft.id, total: '7.28', line_count: 3 });
    await adminOk('POST', `/conversions/${s3.id}/status`, { status: 'approved' });
    await adminOk('POST', '/statements', { period: '2026-10' });
    const rebuilt = await statementOf(f.publisherId, '2026-10');
    expect(rebuilt).toMatchObject({ id: draft.id, total: '9.78', line_count: 4 });
    expect(sumOf(rebuilt.lines)).toBe(978);

    // Paid before issued: 409 naming the status.
    const early = expectError(
      await admin('POST', `/statements/${draft.id}/paid`, { reference: 'x' }),
      409,
      'illegal_status_change',
    );
    expect(early.message).toMatch(/is draft/);

    const issued = await adminOk<Statement & { issued_at: string }>('POST', `/statements/${draft.id}/issue`);
    expect(issued).toMatchObject({ status: 'issued', total: '9.78', line_count: 4 });
    const again = expectError(await admin('POST', `/statements/${draft.id}/issue`), 409, 'illegal_status_change');
    expect(again.message).toMatch(/is issued/);

    const delivered = await eventually(async () => (await received(hook))[0]);
    const verified = new Webhook(endpoint.signing_secret).verify(delivered.body, delivered.headers) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(verified).toEqual({
      type: 'statement.issued',
      timestamp: issued.issued_at,
      data: {
        statement_id: draft.id,
        publisher_id: f.publisherId,
        period: '2026-10',
        currency: 'EUR',
        total: '9.78',
        line_count: 4,
        status: 'issued',
        issued_at: issued.issued_at,
        paid_at: null,
        reference: null,
      },
    });
    expect(delivered.body).not.toMatch(/revenue/);

    // After issue: the advertiser reverses a paid sale and amends another. Both are recorded;
    // the issued statement does not change, and the database refuses to change it.
    await adminOk('POST', `/conversions/${s1.id}/status`, { status: 'reversed', reason: 'Returned' });
    await adminOk('POST', `/conversions/${s2.id}/adjust`, { amount: '53.33', reason: 'Upsell' });
    const locked = await adminOk<Detail>('GET', `/statements/${draft.id}`);
    expect(locked).toMatchObject({ status: 'issued', total: '9.78', line_count: 4 });
    expect(locked.lines.map((l) => l.amount)).toEqual(rebuilt.lines.map((l) => l.amount));
    for (const sql of [
      'UPDATE document_lines SET amount = 0 WHERE document_id = ?',
      'DELETE FROM document_lines WHERE document_id = ?',
      'UPDATE documents SET total = 1 WHERE id = ?',
      'DELETE FROM documents WHERE id = ?',
    ]) {
      await expect(env.DB.prepare(sql).bind(draft.id).run(), sql).rejects.toThrow(/locked|never changed/);
    }
    // October is closed for this publisher: running it again leaves the changes for November.
    expect(await adminOk('POST', '/statements', { period: '2026-10' })).toMatchObject({ issued: 1, draft: 0 });

    // November: a new sale, plus the reversal (-5.00) and the amendment (+1.00) as adjustments.
    const s5 = await datedSale(f, '400.00', '2026-11-10');
    await adminOk('POST', '/statements', { period: '2026-11' });
    const november = await statementOf(f.publisherId, '2026-11');
    const byConversion = (rows: string[][]) => rows.sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
    expect(byConversion(november.lines.map((l) => [l.conversion_id, l.type, l.conversion_payout, l.amount]))).toEqual(
      byConversion([
        [s2.id, 'adjustment', '2.67', '1.00'],
        [s1.id, 'adjustment', '0.00', '-5.00'],
        [s5.id, 'conversion', '20.00', '20.00'],
      ]),
    );
    expect(november).toMatchObject({ status: 'draft', total: '16.00', line_count: 3 });

    await adminOk('POST', `/statements/${november.id}/issue`);
    const paid = await adminOk<Statement & { reference: string; paid_at: string }>(
      'POST',
      `/statements/${november.id}/paid`,
      { reference: 'SEPA 2026-12-05 #4411' },
    );
    expect(paid).toMatchObject({ status: 'paid', reference: 'SEPA 2026-12-05 #4411' });
    expectError(
      await admin('POST', `/statements/${november.id}/paid`, { reference: 'again' }),
      409,
      'illegal_status_change',
    );

    const events = await eventually(async () => {
      const got = await received(hook);
      return got.length >= 3 ? got : null;
    });
    const types = events.map(
      (e) => JSON.parse(e.body) as { type: string; data: { statement_id: number; reference: string | null } },
    );
    expect(types.map((e) => [e.type, e.data.statement_id])).toEqual([
      ['statement.issued', draft.id],
      ['statement.issued', november.id],
      ['statement.paid', november.id],
    ]);
    expect(types[2]?.data.reference).toBe('SEPA 2026-12-05 #4411');
    expect(await received(quiet)).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ body: expect.stringMatching(/statement\./) })]),
    );

    // No money created or lost: both statements together state the final payouts.
    const finalPayouts = await env.DB.prepare(
      "SELECT SUM(payout) AS n FROM conversions WHERE offer_id = ? AND status = 'approved'",
    )
      .bind(f.offerId)
      .first<{ n: number }>();
    expect(sumOf(locked.lines) + sumOf(november.lines)).toBe(finalPayouts?.n);

    const detail = await adminOk<Detail>('GET', `/statements/${november.id}`);
    expect(detail.deliveries.map((d) => [d.event, d.status])).toEqual([
      ['statement.issued', 'delivered'],
      ['statement.paid', 'delivered'],
    ]);
  });

  it('answers the lines as CSV, formulas neutralised and amounts as numbers', async () => {
    const f = await createFixture();
    const s1 = await datedSale(f, '40.00', '2026-09-02', 'approved', '=cmd|"/c calc"!A1');
    await adminOk('POST', '/statements', { period: '2026-09' });
    const statement = await statementOf(f.publisherId, '2026-09');
    await adminOk('POST', `/statements/${statement.id}/issue`);
    await adminOk('POST', `/conversions/${s1.id}/status`, { status: 'reversed' });
    await adminOk('POST', '/statements', { period: '2026-10' });
    const october = await statementOf(f.publisherId, '2026-10');
    expect(october).toMatchObject({ status: 'carried', total: '-2.00' });

    const response = await worker(`/api/v1/statements/${october.id}`, {
      headers: { ...adminHeaders, accept: 'text/csv' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await response.text()).split('\r\n');
    expect(lines[0]).toBe(
      'statement_id,period,currency,line_id,type,conversion_id,offer_id,order_id,conversion_time,conversion_status,conversion_payout,amount',
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^${october.id},2026-10,EUR,\\d+,adjustment,${s1.id},${f.offerId},"'=cmd\\|""/c calc""!A1",2026-09-02T12:00:00.000Z,reversed,0.00,-2.00$`,
      ),
    );
    expect(lines.slice(2)).toEqual(['']);
  });
});

const adminHeaders = { authorization: 'Bearer test-admin-token' };

describe('minimum payout', () => {
  it('carries a smaller total forward, and the next period states it', async () => {
    const f = await createFixture();
    const refused = await admin('PATCH', `/publishers/${f.publisherId}`, {
      minimum_payout: { EUR: '1.234', usd: '5' },
    });
    expectError(refused, 400, 'invalid_request', ['minimum_payout.EUR', 'minimum_payout.usd']);
    const publisher = await adminOk('PATCH', `/publishers/${f.publisherId}`, { minimum_payout: { EUR: '50.00' } });
    expect(publisher.minimum_payout).toEqual({ EUR: '50.00' });

    const a = await datedSale(f, '600.00', '2026-08-05'); // payout 30.00
    await adminOk('POST', '/statements', { period: '2026-08' });
    const august = await statementOf(f.publisherId, '2026-08');
    expect(august).toMatchObject({ status: 'carried', total: '30.00', minimum_payout: '50.00', line_count: 1 });
    expectError(await admin('POST', `/statements/${august.id}/issue`), 409, 'illegal_status_change');

    const b = await datedSale(f, '500.00', '2026-09-05'); // payout 25.00
    await adminOk('POST', '/statements', { period: '2026-09' });
    const september = await statementOf(f.publisherId, '2026-09');
    expect(september).toMatchObject({ status: 'draft', total: '55.00', line_count: 2 });
    expect(september.lines.map((l) => [l.conversion_id, l.type])).toEqual([
      [a.id, 'conversion'],
      [b.id, 'conversion'],
    ]);
    // August still shows what was carried; it is no longer counted anywhere else.
    expect(await statementOf(f.publisherId, '2026-08')).toMatchObject({ status: 'carried', total: '30.00' });
    expect((await adminOk('GET', `/publishers/${f.publisherId}`)).minimum_payout).toEqual({ EUR: '50.00' });
    expect((await adminOk('PATCH', `/publishers/${f.publisherId}`, { minimum_payout: null })).minimum_payout).toEqual(
      {},
    );
  });

  it('refuses a period that is not a month or has not started', async () => {
    expectError(await admin('POST', '/statements', { period: '2026-13' }), 400, 'invalid_request', ['period']);
    expectError(await admin('POST', '/statements', { period: '2999-01' }), 400, 'invalid_request', ['period']);
    expectError(await admin('POST', '/invoices', {}), 400, 'invalid_request', ['period']);
  });
});

describe('who sees what', () => {
  it('a publisher reads its own statements, an advertiser its own invoices, never the other money', async () => {
    const mine = await createFixture();
    const theirs = await createFixture();
    await datedSale(mine, '100.00', '2026-07-07');
    await datedSale(theirs, '100.00', '2026-07-08');
    await adminOk('POST', '/statements', { period: '2026-07' });
    const invoiceRun = await adminOk('POST', '/invoices', { period: '2026-07' });
    expect(invoiceRun).toMatchObject({ period: '2026-07', lines: expect.any(Number) });
    const myStatement = await statementOf(mine.publisherId, '2026-07');
    const theirStatement = await statementOf(theirs.publisherId, '2026-07');
    const invoices = await adminOk<{ data: { id: number; advertiser_id: number; total: string }[] }>(
      'GET',
      `/invoices?period=2026-07&advertiser_id=${mine.advertiserId}`,
    );
    expect(invoices.data).toHaveLength(1);
    expect(invoices.data[0]?.total).toBe('10.00');
    const myInvoice = invoices.data[0]?.id as number;
    const theirInvoice = (
      await adminOk<{ data: { id: number }[] }>('GET', `/invoices?period=2026-07&advertiser_id=${theirs.advertiserId}`)
    ).data[0]?.id;

    const publisherKey = await keyFor({ role: 'publisher', publisher_id: mine.publisherId });
    const own = await as(publisherKey, `/statements/${myStatement.id}`);
    expect(own.status).toBe(200);
    expect(await own.text()).not.toMatch(/revenue/);
    expect((await as(publisherKey, `/statements/${theirStatement.id}`)).status).toBe(404);
    const listed = (await (await as(publisherKey, '/statements')).json()) as { data: Statement[] };
    expect(listed.data.map((s) => s.publisher_id)).toEqual([mine.publisherId]);
    expect((await as(publisherKey, `/statements?publisher_id=${theirs.publisherId}`)).status).toBe(404);
    expect((await as(publisherKey, `/invoices/${myInvoice}`)).status).toBe(403);
    expect((await as(publisherKey, `/statements/${myStatement.id}/issue`, { method: 'POST' })).status).toBe(403);

    const advertiserKey = await keyFor({ role: 'advertiser', advertiser_id: mine.advertiserId });
    const invoice = await as(advertiserKey, `/invoices/${myInvoice}`);
    const text = await invoice.text();
    expect(invoice.status).toBe(200);
    expect(text).not.toMatch(/payout/);
    expect(JSON.parse(text)).toMatchObject({ advertiser_id: mine.advertiserId, total: '10.00', line_count: 1 });
    expect((await as(advertiserKey, `/invoices/${theirInvoice}`)).status).toBe(404);
    expect((await as(advertiserKey, `/statements/${myStatement.id}`)).status).toBe(403);
    // A statement id is not an invoice id.
    expect((await admin('GET', `/invoices/${myStatement.id}`)).status).toBe(404);
  });
});
