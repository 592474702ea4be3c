// Bulk validation through the real Worker: a dry run answers per-row outcomes and changes
// nothing; the real run applies each row as the single-conversion API would (events, audit,
// notifications, rollups) and says which rows changed; sending the file again changes nothing.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ADMIN, adminOk, createFixture, eventually, type Fixture, scalar, worker } from '../helpers';
import {
  conversion,
  deliveriesOf,
  eventsOf,
  getPostback,
  insertEndpoint,
  mintClick,
  statsOf,
} from '../postback-helpers';

interface RowOutcome {
  row: number;
  line: number | null;
  order_id: string | null;
  conversion_id: string | null;
  offer_id: number | null;
  outcome: string;
  code: string | null;
  message: string;
}
interface Validation {
  id: string | null;
  status: string;
  rows_total: number;
  rows_done: number;
  changed: number;
  unchanged: number;
  failed: number;
  rows: RowOutcome[];
}

async function sale(f: Fixture, orderId: string, amount = '200.00'): Promise<string> {
  const answer = await getPostback('/postback', {
    click_id: await mintClick(f),
    event: 'sale',
    order_id: orderId,
    amount,
    key: f.postbackKey,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.conversion_id as string;
}

async function validate(
  body: string,
  options: { type?: string; key?: string; dryRun?: boolean } = {},
): Promise<{ status: number; body: Validation & { error?: { code: string; message: string; fields?: object } } }> {
  const response = await worker(`/api/v1/conversions/validations${options.dryRun ? '?dry_run=true' : ''}`, {
    method: 'POST',
    headers: {
      authorization: options.key ? `Bearer ${options.key}` : ADMIN.authorization,
      'content-type': options.type ?? 'text/csv',
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Validation & { error?: never } };
}

async function advertiserKey(f: Fixture): Promise<string> {
  return (await adminOk<{ key: string }>('POST', '/api-keys', { role: 'advertiser', advertiser_id: f.advertiserId }))
    .key;
}

const byRow = (v: Validation) => v.rows.map((r) => [r.row, r.outcome, r.code]);

describe('bulk validation of an advertiser’s month', () => {
  it('previews, applies exactly as the single API would, and changes nothing when sent again', async () => {
    const f = await createFixture();
    const endpoint = await insertEndpoint(f.publisherId, [
      'conversion.approved',
      'conversion.rejected',
      'conversion.modified',
    ]);
    const [a, b, c] = [await sale(f, 'M-1'), await sale(f, 'M-2'), await sale(f, 'M-3')];
    const key = await advertiserKey(f);
    const file = [
      'order_id,status,amount,reason',
      'M-1,approved,,',
      'M-2,approved,150.00,Partial return',
      'M-3,rejected,,Cancelled order',
      'M-404,approved,,',
      'M-1,approved,,',
      'M-3,reversed,,',
    ].join('\r\n');

    const preview = await validate(file, { key, dryRun: true });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      id: null,
      status: 'dry_run',
      rows_total: 6,
      changed: 3,
      unchanged: 0,
      failed: 3,
    });
    expect(byRow(preview.body)).toEqual([
      [1, 'changed', null],
      [2, 'changed', null],
      [3, 'changed', null],
      [4, 'failed', 'unknown_order'],
      [5, 'failed', 'duplicate_row'],
      [6, 'failed', 'duplicate_row'],
    ]);
    expect(preview.body.rows[1]?.message).toBe('pending -> approved; amount 200.00 EUR -> 150.00 EUR');
    expect(preview.body.rows[4]?.message).toBe(`conversion ${a} is already on row 1 (line 2)`);
    // The dry run changed nothing.
    for (const id of [a, b, c]) expect(await conversion(id)).toMatchObject({ status: 'pending', amount: 20000 });
    expect(await scalar('SELECT COUNT(*) AS n FROM conversion_events WHERE conversion_id IN (?, ?, ?)', a, b, c)).toBe(
      3,
    );
    expect(await scalar('SELECT COUNT(*) AS n FROM validations')).toBe(0);

    const applied = await validate(file, { key });
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({
      status: 'done',
      rows_total: 6,
      rows_done: 6,
      changed: 3,
      unchanged: 0,
      failed: 3,
    });
    expect(applied.body.id).toMatch(/^val_/);
    expect(byRow(applied.body)).toEqual(byRow(preview.body));
    expect(applied.body.rows.map((r) => r.conversion_id)).toEqual([a, b, c, null, a, c]);

    // Money to the cent: the sale of 150.00 earns 10% revenue and pays 5%.
    expect(await conversion(a)).toMatchObject({ status: 'approved', amount: 20000, revenue: 2000, payout: 1000 });
    expect(await conversion(b)).toMatchObject({ status: 'approved', amount: 15000, revenue: 1500, payout: 750 });
    expect(await conversion(c)).toMatchObject({ status: 'rejected', revenue: 2000, payout: 1000 });
    expect(await statsOf(f.offerId)).toEqual([
      expect.objectContaining({
        pending: 0,
        approved: 2,
        rejected: 1,
        revenue_pending: 0,
        payout_pending: 0,
        revenue_approved: 3500,
        payout_approved: 1750,
      }),
    ]);
    // Events as the single API writes them, by the advertiser, with the reasons.
    expect((await eventsOf(b)).map((e) => [e.type, e.from_status, e.to_status, e.actor, e.reason])).toEqual([
      ['conversion.created', null, 'pending', 'postback', null],
      ['conversion.modified', 'pending', 'pending', 'advertiser', 'Partial return'],
      ['conversion.approved', 'pending', 'approved', 'advertiser', 'Partial return'],
    ]);
    expect((await eventsOf(c)).map((e) => [e.type, e.reason])).toEqual([
      ['conversion.created', null],
      ['conversion.rejected', 'Cancelled order'],
    ]);
    // Audit entries name the job and the row, one per change.
    const audit = await env.DB.prepare(
      "SELECT action, resource_id, actor_role, after FROM audit_log WHERE resource = 'conversion' ORDER BY id",
    ).all<{ action: string; resource_id: string; actor_role: string; after: string }>();
    expect(audit.results.map((r) => [r.action, r.resource_id, r.actor_role])).toEqual([
      ['changeConversionStatus', a, 'advertiser'],
      ['adjustConversion', b, 'advertiser'],
      ['changeConversionStatus', b, 'advertiser'],
      ['changeConversionStatus', c, 'advertiser'],
    ]);
    expect(JSON.parse(audit.results[1]?.after ?? '{}')).toMatchObject({
      validation_id: applied.body.id,
      row: 2,
      amount: '150.00',
      previous: { amount: '200.00' },
    });
    // Delivered to the publisher's endpoint as usual: approved, modified, approved, rejected.
    const deliveries = async () =>
      (await Promise.all([a, b, c].map(deliveriesOf))).flat().filter((d) => d.endpoint_id === endpoint);
    expect((await deliveries()).map((d) => d.event_type).sort()).toEqual(
      ['conversion.approved', 'conversion.approved', 'conversion.modified', 'conversion.rejected'].sort(),
    );
    await eventually(async () => ((await deliveries()).every((d) => d.status === 'delivered') ? true : null));

    // The same file again: every row that changed is now unchanged; nothing new is written.
    const events = await scalar('SELECT COUNT(*) AS n FROM conversion_events');
    const again = await validate(file, { key });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ changed: 0, unchanged: 3, failed: 3 });
    expect(again.body.rows[0]?.message).toBe('already approved');
    expect(again.body.rows[1]?.message).toBe('already approved at 150.00 EUR');
    expect(await scalar('SELECT COUNT(*) AS n FROM conversion_events')).toBe(events);

    // The job reads back, for its advertiser only.
    const read = await worker(`/api/v1/conversions/validations/${applied.body.id}?outcome=failed`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(read.status).toBe(200);
    expect(((await read.json()) as Validation).rows.map((r) => r.row)).toEqual([4, 5, 6]);
    const other = await advertiserKey(await createFixture());
    const hidden = await worker(`/api/v1/conversions/validations/${applied.body.id}`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(hidden.status).toBe(404);
  });

  it('fails illegal changes, bad amounts and missing reasons per row, and applies the rest', async () => {
    const f = await createFixture();
    const approved = await sale(f, 'L-1');
    await adminOk('POST', `/conversions/${approved}/status`, { status: 'approved' });
    const pending = await sale(f, 'L-2');
    const third = await sale(f, 'L-3');
    await adminOk('POST', `/conversions/${third}/status`, { status: 'approved' });
    const rows = [
      { order_id: 'L-1', status: 'rejected' },
      { order_id: 'L-2', status: 'approved', amount: '12.345' },
      { order_id: 'L-4', status: 'rejected', amount: '10.00' },
      { conversion_id: pending, status: 'approved', amount: '99.00' },
      { order_id: 'L-3', status: 'reversed', reason: '=HYPERLINK("http://x.example","click")' },
      { conversion_id: 'cv_nothing', status: 'pending' },
    ];
    const answer = await validate(JSON.stringify({ rows }), { type: 'application/json' });
    expect(answer.status).toBe(200);
    expect(answer.body.rows.map((r) => [r.outcome, r.code])).toEqual([
      ['failed', 'illegal_status_change'],
      ['failed', 'bad_amount'],
      ['failed', 'unknown_order'],
      ['failed', 'duplicate_row'],
      ['changed', null],
      ['failed', 'bad_status'],
    ]);
    expect(answer.body.rows[0]?.message).toBe(
      'Cannot change an approved conversion to rejected: it can only become reversed',
    );
    expect(answer.body.rows[1]?.message).toBe('amount "12.345" EUR has 2 decimal places');
    expect(answer.body.rows.every((r) => r.line === null)).toBe(true);
    // Each row is checked on its own: status before lookup, amount against the conversion.
    const single = await validate(JSON.stringify({ rows: [rows[3]] }), { type: 'application/json', dryRun: true });
    expect(single.body.rows.map((r) => [r.code, r.message])).toEqual([
      ['reason_required', 'an amended amount needs a reason'],
    ]);
    const wrong = await validate(JSON.stringify({ rows: [{ order_id: 'L-2', status: 'rejected', amount: '1' }] }), {
      type: 'application/json',
      dryRun: true,
    });
    expect(wrong.body.rows[0]?.message).toBe('an amended amount goes with status approved, not rejected');
    // A formula-looking reason is stored as the text it is.
    expect(await conversion(approved)).toMatchObject({ status: 'approved' });
    expect(await conversion(third)).toMatchObject({ status: 'reversed' });
    const events = await eventsOf(third);
    expect(events.at(-1)).toMatchObject({
      type: 'conversion.reversed',
      reason: '=HYPERLINK("http://x.example","click")',
    });
    expect(await conversion(pending)).toMatchObject({ status: 'pending', amount: 20000 });
  });

  it('needs the offer when an order ID repeats across offers, and an advertiser sees only its own', async () => {
    const f = await createFixture();
    const second = await adminOk<{ id: number }>('POST', '/offers', {
      advertiser_id: f.advertiserId,
      name: 'Winter sale',
      landing_url: 'https://shop.example/winter',
      currency: 'EUR',
      goals: [{ key: 'sale', revenue_percent: 10, payout_percent: 5 }],
    });
    const g = { ...f, offerId: second.id };
    const first = await sale(f, 'R-1');
    const other = await sale(g, 'R-1');
    const stranger = await createFixture();
    const theirs = await sale(stranger, 'R-2');
    const key = await advertiserKey(f);
    const ambiguous = await validate('order_id;status\nR-1;approved\nR-2;approved\n', { key, dryRun: true });
    expect(ambiguous.body.rows.map((r) => [r.code, r.message])).toEqual([
      [
        'ambiguous_order',
        `order ID R-1 names conversions on offers ${f.offerId}, ${second.id}: add an offer_id column`,
      ],
      ['unknown_order', 'no conversion with order ID R-2'],
    ]);
    const file = `order_id;offer_id;status;amount;reason\nR-1;${second.id};approved;"80,00";Returned\n`;
    const applied = await validate(file, { key });
    expect(applied.body).toMatchObject({ changed: 1, failed: 0 });
    expect(applied.body.rows[0]).toMatchObject({ conversion_id: other, offer_id: second.id, line: 2 });
    expect(await conversion(other)).toMatchObject({ status: 'approved', amount: 8000, payout: 400 });
    expect(await conversion(first)).toMatchObject({ status: 'pending' });
    expect(await conversion(theirs)).toMatchObject({ status: 'pending' });
    // A publisher may not validate.
    const publisherKey = (
      await adminOk<{ key: string }>('POST', '/api-keys', { role: 'publisher', publisher_id: f.publisherId })
    ).key;
    const refused = await validate(file, { key: publisherKey });
    expect(refused.status).toBe(403);
  });
});
