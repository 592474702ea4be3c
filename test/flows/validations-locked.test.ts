// Bulk validation of conversions already on an issued statement and invoice: the rows apply
// (an issued document never changes; the next period's run states the difference), and each
// such row says `locked: true` and names the document — an invoice by id to the advertiser, a
// publisher statement only by period; both by id to the operator.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ADMIN, adminOk, createFixture, worker } from '../helpers';
import { datedSale } from '../postback-helpers';

interface Row {
  row: number;
  conversion_id: string | null;
  outcome: string;
  code: string | null;
  message: string;
  locked: boolean;
}
interface Validation {
  id: string | null;
  status: string;
  changed: number;
  unchanged: number;
  failed: number;
  rows: Row[];
}
type Doc = { id: number; status: string; total: string; line_count: number };
type Line = { conversion_id: string; type: string; amount: string };

async function validate(rows: object[], authorization: string, dryRun = false) {
  const response = await worker(`/api/v1/conversions/validations${dryRun ? '?dry_run=true' : ''}`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ rows }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Validation;
}

async function issuedDocument(path: 'statements' | 'invoices', party: string, partyId: number, period: string) {
  await adminOk('POST', `/${path}`, { period });
  const list = await adminOk<{ data: Doc[] }>('GET', `/${path}?period=${period}&${party}=${partyId}`);
  expect(list.data).toHaveLength(1);
  return adminOk<Doc>('POST', `/${path}/${list.data[0]?.id}/issue`);
}

const linesOf = async (path: string, id: number) => (await adminOk<{ lines: Line[] }>('GET', `/${path}/${id}`)).lines;

describe('bulk validation of conversions on issued documents', () => {
  it('applies the change, marks the row locked, names the document, and leaves the document as issued', async () => {
    const f = await createFixture();
    const stated = (await datedSale(f, '100.00', '2025-03-10', 'approved')).id;
    const free = (await datedSale(f, '40.00', '2025-04-02', 'pending')).id;
    const statement = await issuedDocument('statements', 'publisher_id', f.publisherId, '2025-03');
    const invoice = await issuedDocument('invoices', 'advertiser_id', f.advertiserId, '2025-03');
    expect(statement).toMatchObject({ status: 'issued', total: '5.00', line_count: 1 });
    const statementLines = await linesOf('statements', statement.id);
    const invoiceLines = await linesOf('invoices', invoice.id);

    const file = [
      { conversion_id: stated, status: 'reversed', reason: 'returned after the statement' },
      { conversion_id: free, status: 'approved' },
    ];
    const { key } = await adminOk<{ key: string }>('POST', '/api-keys', {
      role: 'advertiser',
      advertiser_id: f.advertiserId,
    });

    // The advertiser's preview: its invoice by id, the publisher's statement only by period.
    const preview = await validate(file, `Bearer ${key}`, true);
    expect(preview.rows.map((r) => [r.conversion_id, r.outcome, r.locked])).toEqual([
      [stated, 'changed', true],
      [free, 'changed', false],
    ]);
    expect(preview.rows[0]?.message).toBe(
      `approved -> reversed; locked: on invoice ${invoice.id} (2025-03, issued) and a publisher statement (2025-03, issued), which stays as issued; the change becomes an adjustment line on the next one`,
    );
    expect(preview.rows[1]?.message).toBe('pending -> approved');
    expect(preview.rows[0]?.message).not.toContain(`statement ${statement.id}`);

    // The operator's run applies both rows and names both documents by id.
    const applied = await validate(file, ADMIN.authorization);
    expect(applied).toMatchObject({ status: 'done', changed: 2, unchanged: 0, failed: 0 });
    expect(applied.rows.map((r) => [r.outcome, r.locked])).toEqual([
      ['changed', true],
      ['changed', false],
    ]);
    expect(applied.rows[0]?.message).toContain(
      `locked: on invoice ${invoice.id} (2025-03, issued) and statement ${statement.id} (2025-03, issued)`,
    );
    const stored = await adminOk<Validation>('GET', `/conversions/validations/${applied.id}`);
    expect(stored.rows.map((r) => [r.outcome, r.locked, r.message])).toEqual(
      applied.rows.map((r) => [r.outcome, r.locked, r.message]),
    );
    const status = await env.DB.prepare('SELECT status FROM conversions WHERE id = ?').bind(stated).first('status');
    expect(status).toBe('reversed');

    // The issued documents are untouched; April's statement carries the reversal as a negative line.
    expect(await adminOk<Doc>('GET', `/statements/${statement.id}`)).toMatchObject({ status: 'issued', total: '5.00' });
    expect(await linesOf('statements', statement.id)).toEqual(statementLines);
    expect(await linesOf('invoices', invoice.id)).toEqual(invoiceLines);
    await adminOk('POST', '/statements', { period: '2025-04' });
    const april = await adminOk<{ data: Doc[] }>('GET', `/statements?period=2025-04&publisher_id=${f.publisherId}`);
    const aprilLines = await linesOf('statements', april.data[0]?.id as number);
    expect(aprilLines.map((l) => [l.conversion_id, l.type, l.amount])).toEqual([
      [stated, 'adjustment', '-5.00'],
      [free, 'conversion', '2.00'],
    ]);

    // Sent again: nothing changes, and an unchanged row is not called locked.
    const again = await validate(file, ADMIN.authorization);
    expect(again.rows.map((r) => [r.outcome, r.locked])).toEqual([
      ['unchanged', false],
      ['unchanged', false],
    ]);
  });
});
