// Bulk validation: a file of rows, each naming a conversion (by id, or by order ID with the
// offer when order IDs repeat) and the status (and amended amount) the advertiser decided.
// The whole file is read and every row planned against the conversion's current state first;
// a dry run answers that plan. A real run stores it as a job in chunks and applies each row
// exactly as the single-conversion API would, through the same domain functions
// (adjustConversion, changeConversionStatus: events, rollups, notifications, caps), with an
// audit entry per change carrying the job's id. One row costs about five D1 queries plus a
// Queue send; a chunk of 50 rows stays well inside the 1,000 queries of one invocation, so a
// small file is applied in the request and a large one by one Queue message per chunk.
import { presentConversion } from '../admin/conversion-shapes';
import { auditValues } from '../auth/audit';
import { auditingDatabase } from '../auth/audit-batch';
import type { Principal } from '../auth/principal';
import { afterCommit, changeConversionStatus } from '../conversions';
import { adjustConversion } from '../conversions/adjustments';
import { completeAuditStatement } from '../db/audit';
import type { ConversionWithGoal } from '../db/conversions';
import {
  type ConversionStateRow,
  closeIfDoneStatement,
  conversionStatesByIdStatement,
  conversionStatesByOrderStatement,
  conversionsChangedBy,
  deleteValidationStatements,
  finishChunk,
  fullConversionsStatement,
  insertChunkStatement,
  insertValidationStatement,
  startChunk,
  type ValidationRow,
} from '../db/validations';
import { randomId } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { errorFields, log } from '../lib/log';
import { formatAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import type { Upload, UploadRow } from './upload';
import { type ConversionState, failed, type Outcome, planRow, type RowPlan } from './validation-plan';

/** Rows applied by one invocation (request or Queue message): about 5 queries each, up to 11. */
export const CHUNK_ROWS = 50;
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
});

/** A stored row read back as the upload row it was (its outcome fields aside). */
const uploadRowOf = (r: RowOutcome): UploadRow => ({
  row: r.row,
  line: r.line,
  order_id: r.order_id,
  conversion_id: r.conversion_id,
  offer_id: r.offer_id,
  status: r.status as UploadRow['status'],
  amount: r.amount,
  reason: r.reason,
  error: null,
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
  return upload.rows.map((row) => {
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

/** Rows in chunks of at most `rows` rows and CHUNK_BYTES of JSON. */
function chunked(rows: RowOutcome[], size: number): RowOutcome[][] {
  const chunks: RowOutcome[][] = [];
  let current: RowOutcome[] = [];
  let bytes = 2;
  for (const row of rows) {
    const rowBytes = JSON.stringify(row).length * 3 + 1;
    if (current.length > 0 && (current.length >= size || bytes + rowBytes > CHUNK_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 2;
    }
    current.push(row);
    bytes += rowBytes;
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
    CHUNK_ROWS,
  ).map((rows) => ({
    rows: rows.map((r) => ({ ...r, outcome: 'pending' as const })),
    done: false,
  }));
  const final = chunked(
    planned.filter((r) => r.outcome !== 'changed'),
    FINAL_CHUNK_ROWS,
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

type Waiter = { waitUntil(promise: Promise<unknown>): void };

const stateOf = (cv: ConversionWithGoal): ConversionState => ({
  id: cv.id,
  offer_id: cv.offer_id,
  order_id: cv.order_id,
  goal_key: cv.goal_key,
  status: cv.status,
  currency: cv.currency,
  amount: cv.amount,
  has_products: cv.products === null ? 0 : 1,
});

/**
 * A database whose first write of a change carries its audit entry (as for the single API's
 * changes, src/admin/audit-trail.ts), and a way to complete the entry with the answer.
 */
function audited(env: Env, principal: Principal, action: string, cv: ConversionWithGoal, job: string, row: number) {
  const change = (after: unknown) => ({ action, resource: 'conversion', resourceId: cv.id, before: cv, after });
  const mark = { validation_id: job, row };
  const auditing = auditingDatabase(env.DB, () => auditValues(principal, change(mark), nowIso()));
  return {
    db: auditing.db,
    complete: async (answer: object) => {
      const id = auditing.entryId();
      if (id === null) return;
      const values = auditValues(principal, change({ ...answer, ...mark }), nowIso());
      await completeAuditStatement(env.DB, id, values.after, null).run();
    },
  };
}

/** Applies one row's plan as the single-conversion API would; an ApiError fails the row only. */
async function applyRow(
  env: Env,
  ctx: Waiter,
  job: ValidationRow,
  principal: Principal,
  row: RowOutcome,
  initial: ConversionWithGoal,
  plan: RowPlan,
): Promise<RowPlan> {
  const actor = principal.role === 'advertiser' ? 'advertiser' : 'admin';
  let cv = initial;
  let amended = false;
  try {
    if (plan.adjustTo !== null) {
      const audit = audited(env, principal, 'adjustConversion', cv, job.id, row.row);
      const result = await adjustConversion(
        audit.db,
        cv,
        { amount: formatAmount(plan.adjustTo, cv.currency) },
        actor,
        row.reason,
        nowIso,
      );
      await audit.complete({ ...presentConversion(result.conversion), previous: presentConversion(result.previous) });
      afterCommit(env, ctx, result.committed);
      cv = result.conversion;
      amended = true;
    }
    if (plan.statusTo !== null) {
      const audit = audited(env, principal, 'changeConversionStatus', cv, job.id, row.row);
      const result = await changeConversionStatus(audit.db, cv, plan.statusTo, actor, row.reason, nowIso);
      await audit.complete({
        ...presentConversion(result.conversion),
        changed: result.committed !== null,
        previous_status: result.previousStatus,
      });
      afterCommit(env, ctx, result.committed);
    }
    return plan;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return failed(
      error.code,
      amended ? `the amount was amended, but the status change failed: ${error.message}` : error.message,
    );
  }
}

/**
 * Applies one pending chunk (a Queue message, or the request for a small file); a chunk that
 * is already done is left alone, so a redelivered message changes nothing. With `giveUp` (the
 * last attempt failed) nothing is applied: rows the job already changed are named changed,
 * the others failed as not applied.
 */
export async function applyChunk(
  env: Env,
  ctx: Waiter,
  id: string,
  seq: number,
  giveUp: string | null = null,
): Promise<void> {
  const db = env.DB;
  const { job, chunk } = await startChunk(db, id, seq, nowIso());
  if (!job || !chunk) return;
  const principal = JSON.parse(job.principal) as Principal;
  const rows = JSON.parse(chunk.rows) as RowOutcome[];
  const ids = rows.flatMap((r) => (r.conversion_id ? [r.conversion_id] : []));
  const fresh = new Map(
    (await fullConversionsStatement(db, ids).all<ConversionWithGoal>()).results.map((cv) => [cv.id, cv]),
  );
  // A retried chunk may have applied some rows before it failed: their audit entries say so.
  const earlier = chunk.attempts > 1 || giveUp ? await conversionsChangedBy(db, id, ids) : new Set<string>();
  const results: RowOutcome[] = [];
  for (const row of rows) {
    const cv = row.conversion_id ? fresh.get(row.conversion_id) : undefined;
    let plan = cv
      ? planRow(uploadRowOf(row), stateOf(cv))
      : failed('unknown_conversion', `no conversion ${row.conversion_id}`);
    if (cv && plan.outcome === 'unchanged' && earlier.has(cv.id)) {
      plan = { ...plan, outcome: 'changed', message: `${plan.message} (applied by this job)` };
    } else if (cv && plan.outcome === 'changed') {
      plan = giveUp
        ? failed('not_applied', `not applied: ${giveUp}`)
        : await applyRow(env, ctx, job, principal, row, cv, plan);
    }
    results.push({ ...row, outcome: plan.outcome, code: plan.code, message: plan.message });
  }
  await finishChunk(db, id, seq, { results: JSON.stringify(results), ...count(results) }, results.length, nowIso());
}

/** Closes a job whose chunks are all done (the last chunk normally does it). */
export const closeIfDone = (db: D1Database, id: string) => closeIfDoneStatement(db, id, nowIso()).run();

/** After this many deliveries of a chunk's message, its remaining rows are failed as not applied. */
export const MAX_CHUNK_ATTEMPTS = 5;

export async function consumeValidations(batch: MessageBatch<ValidationMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const { validation_id: id, seq } = message.body;
    const sends: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => void sends.push(p) };
    try {
      await applyChunk(env, ctx, id, seq);
      await Promise.allSettled(sends);
      message.ack();
    } catch (error) {
      await Promise.allSettled(sends);
      log('error', 'validation.chunk_failed', {
        validation_id: id,
        seq,
        attempts: message.attempts,
        ...errorFields(error),
      });
      if (message.attempts < MAX_CHUNK_ATTEMPTS) {
        message.retry({ delaySeconds: 10 * message.attempts });
        continue;
      }
      try {
        await applyChunk(
          env,
          ctx,
          id,
          seq,
          `processing failed ${message.attempts} times (${errorFields(error).error})`,
        );
        message.ack();
      } catch {
        message.retry({ delaySeconds: 60 });
      }
    }
  }
}
