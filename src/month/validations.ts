import type { Principal } from '../auth/principal';
import {
  type ConversionStateRow,
  conversionStatesByIdStatement,
  conversionStatesByOrderStatement,
  deleteValidationStatements,
  insertChunkStatement,
  insertValidationStatement,
  type LockedDocumentRow,
  type ValidationRow,
} from '../db/validations';
import { randomId } from '../lib/crypto';
import { nowIso } from '../lib/time';
import { lockedDocuments, lockedNote } from './locked';
import type { Upload, UploadRow } from './upload';
import { failed, type Outcome, planRow, type RowPlan } from './validation-plan';

/**
 * What one invocation may spend applying a chunk, in D1 queries and Queue sends, well inside
 * the 1,000 queries of a Worker invocation. A status change costs one D1 batch and one send
 * of its deliveries; an amended amount (adjustConversion: snapshot reads, its batch, the audit
 * answer) about seven more. test/flows/validations-bulk.test.ts measures both.
 */
export const CHUNK_BUDGET = 400;
export const MAX_CHUNK_ROWS = 100;
const rowCost = (row: RowOutcome) => 2 + (row.amount === null ? 0 : 7);
/** Bytes of JSON per stored chunk: far below D1's 2 MB per row and 100 KB per statement. */
const CHUNK_BYTES = 60_000;
/** Rows already decided at acceptance are stored in larger chunks (nothing to apply). */
const FINAL_CHUNK_ROWS = 500;
/** Ids per lookup statement (one JSON parameter). */
const LOOKUP_IDS = 500;

export const VALIDATIONS_QUEUE_NAME = 'clickhop-validations';

export interface ValidationMessage {
  validation_id: string;
  seq: number;
}

/** A row as stored and answered: what was read, what it named, and its outcome. */
export interface RowOutcome {
  row: number;
  line: number | null;
  order_id: string | null;
  conversion_id: string | null;
  offer_id: number | null;
  status: string | null;
  amount: string | null;
  reason: string | null;
  outcome: Outcome | 'pending';
  code: string | null;
  message: string;
  /** A changed row whose conversion is on an issued or paid statement or invoice (the message names it). */
  locked: boolean;
}

const outcomeOf = (row: UploadRow, plan: RowPlan, cv?: { id: string; offer_id: number }): RowOutcome => ({
  row: row.row,
  line: row.line,
  order_id: row.order_id,
  conversion_id: cv?.id ?? row.conversion_id,
  offer_id: cv?.offer_id ?? row.offer_id,
  status: row.status,
  amount: row.amount,
  reason: row.reason,
  outcome: plan.outcome,
  code: plan.code,
  message: plan.message,
  locked: false,
});

const where = (row: { row: number; line: number | null }) =>
  row.line === null ? `row ${row.row}` : `row ${row.row} (line ${row.line})`;

function slices<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The conversions the rows name, in the caller's scope: a few statements of 500 ids, one batch. */
async function lookUp(db: D1Database, rows: UploadRow[], advertiserId: number | null) {
  const ids = [...new Set(rows.flatMap((r) => (r.error || r.conversion_id === null ? [] : [r.conversion_id])))];
  const orders = [
    ...new Set(rows.flatMap((r) => (r.error || r.conversion_id !== null || r.order_id === null ? [] : [r.order_id]))),
  ];
  const statements = [
    ...slices(ids, LOOKUP_IDS).map((part) => conversionStatesByIdStatement(db, part, advertiserId)),
    ...slices(orders, LOOKUP_IDS).map((part) => conversionStatesByOrderStatement(db, part, advertiserId)),
  ];
  const byId = new Map<string, ConversionStateRow>();
  const byOrder = new Map<string, ConversionStateRow[]>();
  if (statements.length === 0) return { byId, byOrder };
  for (const cv of (await db.batch<ConversionStateRow>(statements)).flatMap((result) => result.results)) {
    // A conversion named by id on one row and by order ID on another is read twice.
    if (byId.has(cv.id)) continue;
    byId.set(cv.id, cv);
    if (cv.order_id !== null) byOrder.set(cv.order_id, [...(byOrder.get(cv.order_id) ?? []), cv]);
  }
  return { byId, byOrder };
}

/** The conversion a row names, or why it names none (or several). */
function resolve(
  row: UploadRow,
  found: Awaited<ReturnType<typeof lookUp>>,
): { cv: ConversionStateRow } | { plan: RowPlan } {
  if (row.error) return { plan: failed(row.error.code, row.error.message) };
  if (row.conversion_id !== null) {
    const cv = found.byId.get(row.conversion_id);
    if (!cv) return { plan: failed('unknown_conversion', `no conversion ${row.conversion_id}`) };
    if (row.order_id !== null && cv.order_id !== row.order_id) {
      return {
        plan: failed('id_mismatch', `conversion ${cv.id} has order ID ${cv.order_id ?? '(none)'}, not ${row.order_id}`),
      };
    }
    if (row.offer_id !== null && cv.offer_id !== row.offer_id) {
      return { plan: failed('id_mismatch', `conversion ${cv.id} is on offer ${cv.offer_id}, not ${row.offer_id}`) };
    }
    return { cv };
  }
  const order = row.order_id as string;
  const candidates = (found.byOrder.get(order) ?? []).filter(
    (cv) => row.offer_id === null || cv.offer_id === row.offer_id,
  );
  const [only, ...more] = candidates;
  if (!only) {
    return {
      plan: failed(
        'unknown_order',
        `no conversion with order ID ${order}${row.offer_id === null ? '' : ` on offer ${row.offer_id}`}`,
      ),
    };
  }
  if (more.length === 0) return { cv: only };
  const offers = [...new Set(candidates.map((cv) => cv.offer_id))].sort((a, b) => a - b);
  if (offers.length > 1) {
    return {
      plan: failed(
        'ambiguous_order',
        `order ID ${order} names conversions on offers ${offers.join(', ')}: add an offer_id column`,
      ),
    };
  }
  return {
    plan: failed(
      'ambiguous_order',
      `order ID ${order} names conversions of goals ${candidates.map((cv) => cv.goal_key).join(', ')} on offer ${only.offer_id}: use their conversion_id (${candidates.map((cv) => cv.id).join(', ')})`,
    ),
  };
}

/** Every row planned against the conversions as they are now; nothing is written. */
export async function planUpload(db: D1Database, upload: Upload, advertiserId: number | null): Promise<RowOutcome[]> {
  const found = await lookUp(db, upload.rows, advertiserId);
  const first = new Map<string, UploadRow>();
  const planned = upload.rows.map((row) => {
    const target = resolve(row, found);
    if ('plan' in target) return outcomeOf(row, target.plan);
    const earlier = first.get(target.cv.id);
    if (earlier) {
      return outcomeOf(
        row,
        failed('duplicate_row', `conversion ${target.cv.id} is already on ${where(earlier)}`),
        target.cv,
      );
    }
    first.set(target.cv.id, row);
    return outcomeOf(row, planRow(row, target.cv), target.cv);
  });
  return markLocked(db, planned, advertiserId === null ? 'operator' : 'advertiser');
}

/** Changed rows on an issued document still apply; they say so (src/month/locked.ts). */
export async function markLocked(
  db: D1Database,
  rows: RowOutcome[],
  role: Principal['role'],
  documents?: Map<string, LockedDocumentRow[]>,
): Promise<RowOutcome[]> {
  const changing = rows.flatMap((r) => (r.outcome === 'changed' && r.conversion_id ? [r.conversion_id] : []));
  const locked = documents ?? (await lockedDocuments(db, changing));
  return rows.map((r) => {
    const docs = r.outcome === 'changed' && r.conversion_id ? locked.get(r.conversion_id) : undefined;
    if (!docs) return { ...r, locked: false };
    return { ...r, locked: true, message: `${r.message}; ${lockedNote(docs, role)}` };
  });
}

export interface Totals {
  rows_total: number;
  rows_done: number;
  changed: number;
  unchanged: number;
  failed: number;
}

export function count(rows: RowOutcome[]): Omit<Totals, 'rows_total' | 'rows_done'> {
  const n = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
  return { changed: n('changed'), unchanged: n('unchanged'), failed: n('failed') };
}

const utf8 = new TextEncoder();

/** Rows in chunks of at most `size` rows, CHUNK_BYTES of JSON and (to apply) CHUNK_BUDGET. */
function chunked(rows: RowOutcome[], size: number, cost: (row: RowOutcome) => number): RowOutcome[][] {
  const chunks: RowOutcome[][] = [];
  let current: RowOutcome[] = [];
  let bytes = 2;
  let spent = 0;
  for (const row of rows) {
    const rowBytes = utf8.encode(JSON.stringify(row)).length + 1;
    const full = current.length >= size || bytes + rowBytes > CHUNK_BYTES || spent + cost(row) > CHUNK_BUDGET;
    if (current.length > 0 && full) {
      chunks.push(current);
      current = [];
      bytes = 2;
      spent = 0;
    }
    current.push(row);
    bytes += rowBytes;
    spent += cost(row);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export interface AcceptedValidation {
  job: ValidationRow;
  /** Chunks left to apply, by seq. */
  pending: number[];
}

/**
 * Stores a planned file as a job: rows decided now (failed, unchanged) in done chunks, rows to
 * apply in pending ones. Chunks are written in batches of about 1 MB; if one fails, the job is
 * removed again (nothing of it was applied: nothing is applied before every chunk is stored).
 */
export async function storeValidation(
  db: D1Database,
  principal: Principal,
  format: Upload['format'],
  planned: RowOutcome[],
): Promise<AcceptedValidation> {
  const now = nowIso();
  const work = chunked(
    planned.filter((r) => r.outcome === 'changed'),
    MAX_CHUNK_ROWS,
    rowCost,
  ).map((rows) => ({
    rows: rows.map((r) => ({ ...r, outcome: 'pending' as const })),
    done: false,
  }));
  const final = chunked(
    planned.filter((r) => r.outcome !== 'changed'),
    FINAL_CHUNK_ROWS,
    () => 0,
  ).map((rows) => ({
    rows,
    done: true,
  }));
  const chunks = [...final, ...work];
  const job: ValidationRow = {
    id: randomId('val_'),
    advertiser_id: principal.role === 'advertiser' ? principal.advertiserId : null,
    principal: JSON.stringify(principal),
    format,
    rows_total: planned.length,
    chunks_total: chunks.length,
    status: work.length === 0 ? 'done' : 'queued',
    created_at: now,
    finished_at: work.length === 0 ? now : null,
  };
  const statements = [
    insertValidationStatement(db, job),
    ...chunks.map((chunk, seq) => {
      const rows = JSON.stringify(chunk.rows);
      const counts = chunk.done ? count(chunk.rows) : { changed: 0, unchanged: 0, failed: 0 };
      return insertChunkStatement(db, {
        validation_id: job.id,
        seq,
        status: chunk.done ? 'done' : 'pending',
        rows,
        results: chunk.done ? rows : null,
        rows_done: chunk.done ? chunk.rows.length : 0,
        ...counts,
        attempts: 0,
        updated_at: now,
      });
    }),
  ];
  // About 1 MB of rows per batch: 20 chunks of up to 60 KB (the job row rides in the first).
  try {
    for (const part of slices(statements, 16)) await db.batch(part);
  } catch (error) {
    await db.batch(deleteValidationStatements(db, job.id)).catch(() => undefined);
    throw error;
  }
  return { job, pending: chunks.flatMap((chunk, seq) => (chunk.done ? [] : [seq])) };
}

/** Hands each pending chunk to the validations Queue (sendBatch takes 100 messages). */
export async function enqueueChunks(env: Env, id: string, pending: number[]): Promise<void> {
  for (const part of slices(pending, 100)) {
    await env.VALIDATIONS_QUEUE.sendBatch(part.map((seq) => ({ body: { validation_id: id, seq } })));
  }
}
