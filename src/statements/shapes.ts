// How statements and invoices are answered: one builder for both kinds, each naming only its
// own party and its own money (a statement never says revenue, an invoice never says payout).
import * as z from 'zod';
import type { DocumentDeliveryRow } from '../db/document-deliveries';
import type { DocumentLineRow, DocumentRow } from '../db/statements';
import { formatAmount } from '../lib/money';
import { component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { csvCell } from '../portal/csv';
import { DOCUMENT_STATUSES, type DocumentKind, KINDS, type KindSpec } from './kinds';

function buildShapes(spec: KindSpec) {
  const { timestamp, money, currencyCode, rowId, conversionStatus } = shapes();
  const Name = spec.title;
  const partyField = `${spec.party}_id` as const;
  const Document = component(
    Name,
    z.strictObject({
      id: rowId,
      period: z.string().describe('The month closed, YYYY-MM in the operator TIMEZONE'),
      period_start: timestamp.describe('Where the period starts (UTC)'),
      period_end: timestamp.describe('Where the next period starts (UTC)'),
      [partyField]: rowId,
      currency: currencyCode,
      status: z
        .enum(DOCUMENT_STATUSES)
        .describe('draft -> issued -> paid; carried: below the minimum, its lines wait for the next period'),
      total: money.describe(`The sum of the lines (${spec.value}), to the cent`),
      line_count: z.int().min(0),
      ...(spec.kind === 'statement'
        ? { minimum_payout: money.nullable().describe("The publisher's minimum payout applied, if any") }
        : {}),
      reference: z.string().nullable().describe('The payment reference given when it was paid'),
      created_at: timestamp,
      updated_at: timestamp,
      issued_at: timestamp.nullable(),
      paid_at: timestamp.nullable(),
    }),
  );
  const valueField = `conversion_${spec.value}` as const;
  const Line = component(
    `${Name}Line`,
    z.strictObject({
      id: rowId,
      conversion_id: z.string(),
      type: z
        .enum(['conversion', 'adjustment'])
        .describe('conversion: first time on a document; adjustment: a change after it was stated'),
      offer_id: rowId,
      order_id: z.string().nullable(),
      conversion_time: timestamp,
      conversion_status: conversionStatus.describe('The conversion’s status when the line was written'),
      [valueField]: money.describe(`What the conversion was worth then (its ${spec.value} if approved, else 0)`),
      amount: money.describe('What this line adds to the total (negative for a reversal after issue)'),
    }),
  );
  const Delivery = component(
    `${Name}Delivery`,
    z.strictObject({
      id: z.string().describe('The webhook-id of every attempt'),
      endpoint_id: rowId,
      event: z.enum(['statement.issued', 'statement.paid']),
      status: z.enum(['pending', 'retrying', 'delivered', 'dead']),
      attempts: z.int().min(0),
      last_status_code: z.int().nullable(),
      last_error: z.string().nullable(),
      delivered_at: timestamp.nullable(),
    }),
  );
  const Detail = component(
    `${Name}Detail`,
    Document.extend({
      lines: z.array(Line).describe('In order, at most 1,000 per answer'),
      lines_next_cursor: z.string().nullable().describe('Pass as lines_cursor for the next lines; null when done'),
      ...(spec.kind === 'statement'
        ? { deliveries: z.array(Delivery).describe('statement.issued and statement.paid to your endpoints') }
        : {}),
    }),
  );
  const Run = component(
    `${Name}Run`,
    z.strictObject({
      period: z.string(),
      period_start: timestamp,
      period_end: timestamp,
      draft: z.int().min(0).describe(`${spec.plural} of the period now in draft`),
      carried: z.int().min(0).describe('Below the minimum (or not positive): carried to the next period'),
      issued: z.int().min(0).describe('Already issued: left as they are (later changes go to the next period)'),
      paid: z.int().min(0),
      lines: z.int().min(0).describe('Lines on the draft and carried ones'),
    }),
  );
  return { Document, Detail, Line, Run, Page: pageOf(Name, Document) };
}

const built = {
  statement: lazy(() => buildShapes(KINDS.statement)),
  invoice: lazy(() => buildShapes(KINDS.invoice)),
};

export const documentShapes = (kind: DocumentKind) => built[kind]();

type DocumentAnswer = Record<string, unknown>;

export function presentDocument(spec: KindSpec, row: DocumentRow): DocumentAnswer {
  return {
    id: row.id,
    period: row.period,
    period_start: row.period_start,
    period_end: row.period_end,
    [`${spec.party}_id`]: row.party_id,
    currency: row.currency,
    status: row.status,
    total: formatAmount(row.total, row.currency),
    line_count: row.line_count,
    ...(spec.kind === 'statement'
      ? { minimum_payout: row.minimum === null ? null : formatAmount(row.minimum, row.currency) }
      : {}),
    reference: row.reference,
    created_at: row.created_at,
    updated_at: row.updated_at,
    issued_at: row.issued_at,
    paid_at: row.paid_at,
  };
}

export function presentLine(spec: KindSpec, currency: string, line: DocumentLineRow): DocumentAnswer {
  return {
    id: line.id,
    conversion_id: line.conversion_id,
    type: line.line_type,
    offer_id: line.offer_id,
    order_id: line.order_id,
    conversion_time: line.conversion_time,
    conversion_status: line.conversion_status,
    [`conversion_${spec.value}`]: formatAmount(line.value, currency),
    amount: formatAmount(line.amount, currency),
  };
}

export const presentDocumentDelivery = (row: DocumentDeliveryRow) => ({
  id: row.id,
  endpoint_id: row.endpoint_id,
  event: row.event_type as 'statement.issued' | 'statement.paid',
  status: row.status,
  attempts: row.attempts,
  last_status_code: row.last_status_code,
  last_error: row.last_error,
  delivered_at: row.delivered_at,
});

/** A document's JSON answer as the CSV writer reads it. */
interface DetailAnswer {
  id: number;
  period: string;
  currency: string;
  lines: Record<string, string | number | null>[];
}

const AMOUNT = /^-?\d+(\.\d+)?$/;

/**
 * The lines of a document answer as CSV, cells neutralised as in every export
 * (src/portal/csv.ts); money columns are written as plain decimals ("-12.30"): they match
 * -?digits.digits, which no spreadsheet reads as a formula, where an apostrophe would turn a
 * negative amount into text.
 */
export function linesCsv(spec: KindSpec, body: DetailAnswer): string {
  const value = `conversion_${spec.value}`;
  const columns = ['id', 'type', 'conversion_id', 'offer_id', 'order_id', 'conversion_time', 'conversion_status'];
  const header = [
    `${spec.kind}_id`,
    'period',
    'currency',
    ...columns.map((c) => (c === 'id' ? 'line_id' : c)),
    value,
    'amount',
  ];
  const money = (text: unknown) => {
    if (typeof text !== 'string' || !AMOUNT.test(text)) throw new Error(`not an amount: ${String(text)}`);
    return text;
  };
  const rows = body.lines.map((line) =>
    [
      csvCell(body.id),
      csvCell(body.period),
      csvCell(body.currency),
      ...columns.map((c) => csvCell(line[c])),
      money(line[value]),
      money(line.amount),
    ].join(','),
  );
  return `${[header.map(csvCell).join(','), ...rows].join('\r\n')}\r\n`;
}
