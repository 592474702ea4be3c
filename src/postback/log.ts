// The postback log entry of one request, filled in as the request is understood and written
// once at the end, whether the postback was accepted or refused. What is stored is bounded: a
// refused request (anyone can send one) is kept compactly, with a note of how much was cut, and
// credentials (every shape Clickhop issues, and the ADMIN_TOKEN by value) are redacted in every
// column, not only in `params`: the advertiser reads these rows.
import type { Context } from 'hono';
import {
  insertPostbackLogIfConversionStatement,
  type PostbackLogRow,
  type PostbackLogValues,
  type PostbackOutcome,
} from '../db/postback-log';
import { ApiError } from '../lib/errors';
import { ipPrefix } from '../lib/ip';
import { log } from '../lib/log';
import { deploymentSecrets, redactKeys, redactKeysOrNull } from '../lib/redact';
import { nowIso } from '../lib/time';
import { writeLogRow } from './log-writer';
import { takeRefusalToken } from './refusal-throttle';

const MAX_ID_LENGTH = 255;
const MAX_ERROR_LENGTH = 500;

/** How much of the parameters a row keeps: JSON bytes, characters per value, fields. */
interface ParamBudget {
  bytes: number;
  value: number;
  fields: number;
}

// An accepted request came with a valid key: its parameters are the evidence of a dispute.
const ACCEPTED_BUDGET: ParamBudget = { bytes: 32 * 1024, value: 4000, fields: 100 };
// A refused one may come from anyone: enough to tell what was wrong, never more than ~2 KB.
const REFUSED_BUDGET: ParamBudget = { bytes: 2048, value: 200, fields: 30 };

export type PostbackLogEntry = Omit<
  PostbackLogRow,
  'id' | 'params' | 'outcome' | 'http_status' | 'error_code' | 'error_message' | 'truncated'
> & {
  params: Record<string, string | string[]>;
  /** The deployment's secrets, redacted by value from every column (never stored). */
  secrets: readonly string[];
};

export function startLogEntry(c: Context<{ Bindings: Env }>, profile: string): PostbackLogEntry {
  return {
    secrets: deploymentSecrets(c.env),
    received_at: nowIso(),
    method: c.req.method,
    profile,
    // The network only (IPv4 /24, IPv6 /48): enough to recognise a sender, never the address.
    ip_prefix: ipPrefix(c.req.header('cf-connecting-ip')),
    advertiser_id: null,
    offer_id: null,
    click_id: null,
    order_id: null,
    conversion_id: null,
    params: {},
  };
}

export const clipId = (value: string | undefined): string | null =>
  value === undefined ? null : value.slice(0, MAX_ID_LENGTH);

const utf8Length = (text: string) => new TextEncoder().encode(text).byteLength;

export interface CompactParams {
  params: Record<string, string | string[]>;
  /** What was left out or cut short; null when everything was kept. */
  truncated: { fields: number; bytes: number } | null;
}

/**
 * The parameters as stored: key-shaped text redacted (names too), each value clipped, and
 * fields kept in order while they fit the budget. Cut fields and cut bytes are counted.
 */
export function compactParams(
  params: Record<string, string | string[]>,
  budget: ParamBudget,
  secrets: readonly string[] = [],
): CompactParams {
  const out: Record<string, string | string[]> = {};
  let used = 2; // "{}"
  let kept = 0;
  let cutFields = 0;
  let cutBytes = 0;
  const clip = (value: string) => {
    if (value.length <= budget.value) return value;
    cutBytes += utf8Length(value.slice(budget.value));
    return `${value.slice(0, budget.value)}…[truncated]`;
  };
  for (const [rawName, value] of Object.entries(params)) {
    const name = redactKeys(rawName, secrets).slice(0, budget.value);
    const shown = Array.isArray(value)
      ? value.map((v) => clip(redactKeys(v, secrets)))
      : clip(redactKeys(value, secrets));
    const size = utf8Length(JSON.stringify({ [name]: shown })) - 1; // its "name":value and a comma
    if (kept >= budget.fields || used + size > budget.bytes || Object.hasOwn(out, name)) {
      cutFields++;
      cutBytes += utf8Length(rawName) + (Array.isArray(value) ? value : [value]).reduce((n, v) => n + utf8Length(v), 0);
      continue;
    }
    // defineProperty: a parameter named __proto__ is stored as a field, not as a prototype.
    Object.defineProperty(out, name, { value: shown, enumerable: true, writable: true, configurable: true });
    used += size;
    kept++;
  }
  return { params: out, truncated: cutFields > 0 || cutBytes > 0 ? { fields: cutFields, bytes: cutBytes } : null };
}

function logValues(
  entry: PostbackLogEntry,
  outcome: PostbackOutcome,
  httpStatus: number,
  error?: { code: string; message: string },
): PostbackLogValues {
  const { secrets, ...columns } = entry;
  const budget = outcome === 'refused' ? REFUSED_BUDGET : ACCEPTED_BUDGET;
  const { params, truncated } = compactParams(entry.params, budget, secrets);
  return {
    ...columns,
    click_id: redactKeysOrNull(entry.click_id, secrets),
    order_id: redactKeysOrNull(entry.order_id, secrets),
    params: JSON.stringify(params),
    truncated: truncated ? JSON.stringify(truncated) : null,
    outcome,
    http_status: httpStatus,
    error_code: error?.code ?? null,
    error_message: error ? redactKeys(error.message, secrets).slice(0, MAX_ERROR_LENGTH) : null,
  };
}

/**
 * Writes the entry (log-writer.ts); a failure is logged, never turned into a different answer. Refused requests
 * from one network are written at most at the refusal throttle's rate (see refusal-throttle.ts).
 */
export async function writeLogEntry(
  db: D1Database,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  entry: PostbackLogEntry,
  outcome: PostbackOutcome,
  httpStatus: number,
  error?: { code: string; message: string },
): Promise<void> {
  if (outcome === 'refused' && entry.ip_prefix !== null) {
    const decision = takeRefusalToken(entry.ip_prefix);
    if (!decision.log) {
      // One line when a network starts being throttled, then one per 100 rows skipped.
      if (decision.skipped === 1 || decision.skipped % 100 === 0) {
        log('warn', 'postback.refusals_not_logged', { ip_prefix: entry.ip_prefix, skipped: decision.skipped });
      }
      return;
    }
  }
  await writeLogRow(db, ctx, logValues(entry, outcome, httpStatus, error));
}

/**
 * Logs the refusal of a request whose handling threw: an ApiError with its own status and code,
 * anything else as a 500 internal_error, thrown on. Answers the ApiError for the caller's answer.
 */
export async function logRefusal(
  db: D1Database,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  entry: PostbackLogEntry,
  error: unknown,
): Promise<ApiError> {
  if (!(error instanceof ApiError)) {
    await writeLogEntry(db, ctx, entry, 'refused', 500, { code: 'internal_error', message: 'Internal error' });
    throw error;
  }
  await writeLogEntry(db, ctx, entry, 'refused', error.status, { code: error.code, message: error.message });
  return error;
}

/**
 * The 'created' entry for conversion `conversionId`, as a statement of the batch that inserts
 * the conversion: the conversion and the log row that explains it commit together.
 */
export function createdLogStatement(
  db: D1Database,
  entry: PostbackLogEntry,
  conversion: { id: string; offer_id: number; order_id: string | null },
  /** What the request is answered with: 200, or 204 for a browser's beacon. */
  httpStatus = 200,
): D1PreparedStatement {
  return insertPostbackLogIfConversionStatement(
    db,
    logValues(
      {
        ...entry,
        offer_id: conversion.offer_id,
        conversion_id: conversion.id,
        order_id: conversion.order_id ?? entry.order_id,
      },
      'created',
      httpStatus,
    ),
  );
}
