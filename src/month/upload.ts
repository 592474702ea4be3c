// A bulk validation file as rows: CSV (text/csv) or JSON {"rows": [...]}, read whole and checked
// before anything is looked up or applied. What is wrong with the file as a whole (too large,
// too many rows, unknown or missing columns, broken quoting) is one 4xx naming it; what is wrong
// with a row (a status that is not one, an amount that is not a number) fails that row only.
import * as z from 'zod';
import { readBodyText } from '../lib/body';
import { ApiError, badRequest } from '../lib/errors';
import { parseWith } from '../lib/validate';
import { parseCsv, TooManyRecords } from './csv';

export const MAX_ROWS = 10_000;
/** 10,000 rows of typical width fit well below this; a 10 MB file is refused. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
export const MAX_REASON = 500;
export const MAX_ORDER_ID = 255;

export const VALIDATION_STATUSES = ['approved', 'rejected', 'reversed'] as const;
export type ValidationStatus = (typeof VALIDATION_STATUSES)[number];

export const COLUMNS = ['order_id', 'conversion_id', 'offer_id', 'status', 'amount', 'reason'] as const;
type Column = (typeof COLUMNS)[number];

/** A row as read: every value text (or null when empty), plus a problem found reading it. */
export interface UploadRow {
  /** 1-based position among the file's rows. */
  row: number;
  /** The line where a CSV row starts (the header is line 1); null for JSON. */
  line: number | null;
  order_id: string | null;
  conversion_id: string | null;
  offer_id: number | null;
  status: ValidationStatus | null;
  amount: string | null;
  reason: string | null;
  error: { code: string; message: string } | null;
}

export interface Upload {
  format: 'csv' | 'json';
  rows: UploadRow[];
}

const cell = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === undefined || v === null ? null : String(v)));

export const validationRowSchema = z.strictObject({
  order_id: cell.describe("The advertiser's order ID (order_id or conversion_id names the conversion)"),
  conversion_id: cell.describe('The conversion id, cv_...'),
  offer_id: cell.describe('The offer, when the same order ID is used on several offers'),
  status: cell.describe('approved, rejected or reversed'),
  amount: cell.describe('The amended sale amount (decimal, in the conversion currency), with status approved'),
  reason: cell.describe('Why; required with an amended amount; stored with the event and sent to the publisher'),
});

export const validationBody = z.strictObject({
  rows: z.array(validationRowSchema).describe(`The rows, at most ${MAX_ROWS}`),
});

const tooManyRows = (count: number | null) =>
  new ApiError(
    413,
    'too_many_rows',
    `A file has at most ${MAX_ROWS} rows${count === null ? '' : `; this one has ${count}`}`,
    { rows: `at most ${MAX_ROWS}` },
  );

const fileTooLarge = () =>
  new ApiError(
    413,
    'payload_too_large',
    `A file is at most ${MAX_FILE_BYTES / 1024 / 1024} MB; split it into several`,
    {
      file: `at most ${MAX_FILE_BYTES} bytes`,
    },
  );

/** The body of POST /api/v1/conversions/validations, by its Content-Type. */
export async function readUpload(request: Request): Promise<Upload> {
  const type = (request.headers.get('content-type') ?? '').toLowerCase();
  const csv = /^(text\/csv|application\/csv|text\/plain)\b/.test(type);
  if (!csv && !/^application\/json\b/.test(type)) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'Send the file as text/csv, or JSON {"rows": [...]} as application/json',
    );
  }
  let text: string;
  try {
    text = await readBodyText(request, MAX_FILE_BYTES);
  } catch (error) {
    if (error instanceof ApiError && error.status === 413) throw fileTooLarge();
    throw error;
  }
  return csv ? uploadFromCsv(text) : uploadFromJson(text);
}

export function uploadFromJson(text: string): Upload {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('Body is not valid JSON', { _: 'is not valid JSON' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('Body must be a JSON object', { _: 'must be a JSON object' });
  }
  const rows = (value as { rows?: unknown }).rows;
  if (Array.isArray(rows) && rows.length > MAX_ROWS) throw tooManyRows(rows.length);
  const body = parseWith(validationBody, value);
  return {
    format: 'json',
    rows: body.rows.map((r, i) => readRow(i + 1, null, r, false)),
  };
}

export function uploadFromCsv(text: string): Upload {
  let file: ReturnType<typeof parseCsv>;
  try {
    file = parseCsv(text, MAX_ROWS);
  } catch (error) {
    if (error instanceof TooManyRecords) throw tooManyRows(null);
    throw error;
  }
  const names = file.header.fields.map((f) => f.trim().toLowerCase());
  const unknown = names.filter((n) => !(COLUMNS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw badRequest(
      `Unknown columns: ${unknown.map((n) => n || '(empty)').join(', ')}. Columns are ${COLUMNS.join(', ')}`,
      Object.fromEntries(
        unknown.map((n) => [`columns.${n || '(empty)'}`, `is not a column; use ${COLUMNS.join(', ')}`]),
      ),
    );
  }
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) {
    throw badRequest(
      `Columns named twice: ${[...new Set(repeated)].join(', ')}`,
      Object.fromEntries(repeated.map((n) => [`columns.${n}`, 'is named twice'])),
    );
  }
  const missing: Record<string, string> = {};
  if (!names.includes('status')) missing['columns.status'] = 'is required';
  if (!names.includes('order_id') && !names.includes('conversion_id')) {
    missing['columns.order_id'] = 'is required (or conversion_id)';
  }
  if (Object.keys(missing).length > 0) {
    throw badRequest(
      `The header needs ${Object.keys(missing)
        .map((k) => k.slice(8))
        .join(' and ')}`,
      missing,
    );
  }
  const decimalComma = file.separator === ';';
  return {
    format: 'csv',
    rows: file.records.map((record, i) => {
      const values: Partial<Record<Column, string | null>> = {};
      names.forEach((name, at) => {
        values[name as Column] = record.fields[at] ?? null;
      });
      const row = readRow(i + 1, record.line, values, decimalComma);
      if (record.fields.length > names.length && !row.error) {
        row.error = {
          code: 'bad_row',
          message: `has ${record.fields.length} fields; the header names ${names.length}`,
        };
      }
      return row;
    }),
  };
}

const text = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
};

/** One row's values, checked on their own (the conversion they name is looked up later). */
function readRow(
  row: number,
  line: number | null,
  values: Partial<Record<Column, string | null>>,
  decimalComma: boolean,
): UploadRow {
  const status = text(values.status)?.toLowerCase() ?? null;
  const offer = text(values.offer_id);
  let amount = text(values.amount);
  // A semicolon file comes from a locale that writes 80,00 for 80.00.
  if (amount && decimalComma && /^\d+,\d+$/.test(amount)) amount = amount.replace(',', '.');
  const read: UploadRow = {
    row,
    line,
    order_id: text(values.order_id),
    conversion_id: text(values.conversion_id),
    offer_id: offer !== null && /^[1-9]\d{0,15}$/.test(offer) ? Number(offer) : null,
    status: (VALIDATION_STATUSES as readonly string[]).includes(status ?? '') ? (status as ValidationStatus) : null,
    amount,
    reason: text(values.reason),
    error: null,
  };
  const fail = (code: string, message: string) => {
    read.error ??= { code, message };
  };
  if (read.order_id === null && read.conversion_id === null)
    fail('missing_id', 'names no conversion: give order_id or conversion_id');
  if ((read.order_id?.length ?? 0) > MAX_ORDER_ID)
    fail('bad_order_id', `order_id is longer than ${MAX_ORDER_ID} characters`);
  if (offer !== null && read.offer_id === null) fail('bad_offer_id', 'offer_id must be a positive whole number');
  if (read.status === null) {
    fail(
      'bad_status',
      status === null
        ? 'status is empty: give approved, rejected or reversed'
        : `status "${status}" is not approved, rejected or reversed`,
    );
  }
  if ((read.reason?.length ?? 0) > MAX_REASON) fail('bad_reason', `reason is longer than ${MAX_REASON} characters`);
  return read;
}
