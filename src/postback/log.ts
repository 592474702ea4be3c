// The postback log entry of one request, filled in as the request is understood and written
// once at the end, whether the postback was accepted or refused.
import type { Context } from 'hono';
import {
  insertPostbackLog,
  insertPostbackLogIfConversionStatement,
  type PostbackLogRow,
  type PostbackLogValues,
  type PostbackOutcome,
} from '../db/postback-log';
import { ipPrefix } from '../lib/ip';
import { errorFields, log } from '../lib/log';
import { nowIso } from '../lib/time';

const MAX_VALUE_LENGTH = 4000;
const MAX_ID_LENGTH = 255;

export type PostbackLogEntry = Omit<
  PostbackLogRow,
  'id' | 'params' | 'outcome' | 'http_status' | 'error_code' | 'error_message'
> & {
  params: Record<string, string | string[]>;
};

export function startLogEntry(c: Context, profile: string): PostbackLogEntry {
  return {
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

function clip(value: string): string {
  return value.length > MAX_VALUE_LENGTH ? `${value.slice(0, MAX_VALUE_LENGTH)}…[truncated]` : value;
}

function logValues(
  entry: PostbackLogEntry,
  outcome: PostbackOutcome,
  httpStatus: number,
  error?: { code: string; message: string },
): PostbackLogValues {
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(entry.params)) {
    params[name] = Array.isArray(value) ? value.map(clip) : clip(value);
  }
  return {
    ...entry,
    params: JSON.stringify(params),
    outcome,
    http_status: httpStatus,
    error_code: error?.code ?? null,
    error_message: error?.message.slice(0, 500) ?? null,
  };
}

/** Writes the entry; a failure is logged, never turned into a different answer. */
export async function writeLogEntry(
  db: D1Database,
  entry: PostbackLogEntry,
  outcome: PostbackOutcome,
  httpStatus: number,
  error?: { code: string; message: string },
): Promise<void> {
  try {
    await insertPostbackLog(db, logValues(entry, outcome, httpStatus, error));
  } catch (failure) {
    log('error', 'postback.log_failed', { outcome, http_status: httpStatus, ...errorFields(failure) });
  }
}

/**
 * The 'created' entry for conversion `conversionId`, as a statement of the batch that inserts
 * the conversion: the conversion and the log row that explains it commit together.
 */
export function createdLogStatement(
  db: D1Database,
  entry: PostbackLogEntry,
  conversion: { id: string; offer_id: number; order_id: string | null },
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
      200,
    ),
  );
}
