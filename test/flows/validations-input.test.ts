// What a validation file may look like, and the clear refusal of what it may not: a BOM, RFC
// 4180 quoting, semicolons, CRLF, blank lines and decimal commas are read as a spreadsheet
// wrote them; unknown or missing columns, broken quoting, 10,001 rows or 10 MB are refused as a
// whole (nothing looked up, nothing applied), naming what is wrong; a bad row fails alone.
import { describe, expect, it } from 'vitest';
import { ADMIN, createFixture, type ErrorBody, expectError, scalar, worker } from '../helpers';
import { getPostback, mintClick } from '../postback-helpers';

type Row = {
  row: number;
  line: number | null;
  order_id: string | null;
  reason: string | null;
  amount: string | null;
  outcome: string;
  code: string | null;
  message: string;
};

async function post(body: string | Uint8Array, type = 'text/csv', dryRun = true) {
  const response = await worker(`/api/v1/conversions/validations${dryRun ? '?dry_run=true' : ''}`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': type },
    body,
  });
  return { status: response.status, body: (await response.json()) as { rows: Row[]; changed: number } & ErrorBody };
}

describe('reading a validation file', () => {
  it('reads a BOM, quoted fields with separators, quotes and line breaks, CRLF and blank lines', async () => {
    const f = await createFixture();
    for (const order of ['Q,1', 'Q"2', 'Q3']) {
      const answer = await getPostback('/postback', {
        click_id: await mintClick(f),
        event: 'sale',
        order_id: order,
        amount: '100.00',
        key: f.postbackKey,
      });
      expect(answer.status).toBe(200);
    }
    const file =
      '\uFEFFOrder_ID , Status,amount,reason\r\n' +
      '"Q,1",approved,"90.00","Returned, partly"\r\n' +
      '\r\n' +
      '"Q""2",approved,,"two\r\nlines"\r\n' +
      ' , ,,\r\n' +
      'Q3,APPROVED,,\r\n';
    const answer = await post(file);
    expect(answer.status).toBe(200);
    expect(answer.body.rows.map((r) => [r.row, r.line, r.order_id, r.outcome, r.reason])).toEqual([
      [1, 2, 'Q,1', 'changed', 'Returned, partly'],
      [2, 4, 'Q"2', 'changed', 'two\nlines'],
      [3, 7, 'Q3', 'changed', null],
    ]);
    // Semicolons (and decimal commas) from a European spreadsheet; tabs too.
    const semicolons = await post('order_id;status;amount;reason\nQ3;approved;"95,50";Return\n');
    expect(semicolons.body.rows[0]).toMatchObject({
      amount: '95.50',
      outcome: 'changed',
      message: 'pending -> approved; amount 100.00 EUR -> 95.50 EUR',
    });
    const tabs = await post('order_id\tstatus\nQ3\trejected\n');
    expect(tabs.body.rows[0]).toMatchObject({ order_id: 'Q3', outcome: 'changed', message: 'pending -> rejected' });
  });

  it('fails a bad row alone: missing id, unknown status, a row wider than the header', async () => {
    const answer = await post('order_id,status\n,approved\nX-1,paid\nX-2,approved,extra\nX-3\n');
    expect(answer.status).toBe(200);
    expect(answer.body.rows.map((r) => [r.line, r.code, r.message])).toEqual([
      [2, 'missing_id', 'names no conversion: give order_id or conversion_id'],
      [3, 'bad_status', 'status "paid" is not approved, rejected or reversed'],
      [4, 'bad_row', 'has 3 fields; the header names 2'],
      [5, 'bad_status', 'status is empty: give approved, rejected or reversed'],
    ]);
  });

  it('refuses the whole file for its header, its quoting, its size or its type, naming the problem', async () => {
    expectError(await post('order_id,status,colour,Notes\nA,approved,red,x\n'), 400, 'invalid_request', [
      'columns.colour',
      'columns.notes',
    ]);
    expectError(await post('status,amount\napproved,1\n'), 400, 'invalid_request', ['columns.order_id']);
    expectError(await post('order_id,amount\nA,1\n'), 400, 'invalid_request', ['columns.status']);
    expectError(await post('order_id,status,status\nA,approved,approved\n'), 400, 'invalid_request', [
      'columns.status',
    ]);
    const unclosed = expectError(await post('order_id,status\nA,approved\n"B,approved\n'), 400, 'invalid_request', [
      'file',
    ]);
    expect(unclosed.message).toBe('Line 3: a quoted field is never closed');
    expectError(await post('order_id,status\n"A"x,approved\n'), 400, 'invalid_request', ['file']);
    expectError(await post(''), 400, 'invalid_request', ['file']);
    const rows = Array.from({ length: 10_001 }, (_, i) => `O-${i},approved`).join('\n');
    const tooMany = expectError(await post(`order_id,status\n${rows}\n`), 413, 'too_many_rows', ['rows']);
    expect(tooMany.message).toBe('A file has at most 10000 rows');
    expect((await post(`order_id,status\n${rows.split('\n').slice(0, 10_000).join('\n')}\n`)).status).toBe(200);
    const big = new Uint8Array(10 * 1024 * 1024).fill(0x41);
    expectError(await post(big), 413, 'payload_too_large', ['file']);
    expectError(await post('order_id,status\nA,approved\n', 'application/xml'), 415, 'unsupported_media_type');
    expectError(
      await post('{"rows": [{"order_id": "A", "status": "approved", "colour": "red"}]}', 'application/json'),
      400,
      'invalid_request',
      ['rows.0.colour'],
    );
    expectError(await post('{"rows": 5}', 'application/json'), 400, 'invalid_request', ['rows']);
    expectError(await post('{"rows": [', 'application/json'), 400, 'invalid_request', ['_']);
    // None of it stored a job.
    expect(await scalar('SELECT COUNT(*) AS n FROM validations')).toBe(0);
    const real = await post('order_id,status,colour\nA,approved,red\n', 'text/csv', false);
    expect(real.status).toBe(400);
    expect(await scalar('SELECT COUNT(*) AS n FROM validations')).toBe(0);
  });
});
