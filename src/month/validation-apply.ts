// Applying a stored chunk of a validation job: each row decided again against a fresh read of
// its conversion, then written through the conversion domain as the single-conversion API
// writes it: an amended amount by adjustConversion (POST /conversions/{id}/adjust), a status by
// applyStatusChange, the write inside changeConversionStatus (POST /conversions/{id}/status),
// falling back to changeConversionStatus itself when the conversion moved meanwhile. Each
// change carries its audit entry in its own transaction, naming the job and the row. The
// snapshot context (offer name, click data) of the whole chunk is read in one batch, so a
// status change costs one D1 batch: a chunk's cost stays inside one invocation's 1,000 queries.
import { presentConversion } from '../admin/conversion-shapes';
import { auditValues } from '../auth/audit';
import { auditingDatabase } from '../auth/audit-batch';
import type { Principal } from '../auth/principal';
import { afterCommit, applyStatusChange, changeConversionStatus, type SnapshotContext } from '../conversions';
import { adjustConversion } from '../conversions/adjustments';
import { completeAuditStatement } from '../db/audit';
import { snapshotClickStatement } from '../db/clicks';
import type { ConversionWithGoal } from '../db/conversions';
import { offerNameStatement } from '../db/offers';
import {
  conversionsChangedBy,
  finishChunk,
  fullConversionsStatement,
  type LockedDocumentRow,
  lockedDocumentsStatement,
  startChunk,
  type ValidationRow,
} from '../db/validations';
import { ApiError } from '../lib/errors';
import { errorFields, log } from '../lib/log';
import { formatAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import type { UploadRow } from './upload';
import { type ConversionState, failed, planRow, type RowPlan } from './validation-plan';
import { count, markLocked, type RowOutcome, type ValidationMessage } from './validations';

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

/** A stored row read back as the upload row it was. */
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

/**
 * loadSnapshotContext (src/conversions/record.ts) for a chunk at once: each offer's name and
 * each conversion's click fields, read in one batch.
 */
async function snapshotContexts(db: D1Database, cvs: ConversionWithGoal[]): Promise<Map<string, SnapshotContext>> {
  const offers = [...new Set(cvs.map((cv) => cv.offer_id))];
  const clicked = cvs.filter((cv) => cv.click_id !== null);
  if (cvs.length === 0) return new Map();
  const results = await db.batch([
    ...offers.map((id) => offerNameStatement(db, id)),
    ...clicked.map((cv) => snapshotClickStatement(db, { id: cv.id, click_id: cv.click_id as string })),
  ]);
  const names = new Map(
    offers.map((id, i) => [id, (results[i]?.results[0] as { name: string } | undefined)?.name ?? '']),
  );
  const clicks = new Map(
    clicked.map((cv, i) => [cv.id, (results[offers.length + i]?.results[0] ?? null) as SnapshotContext['click']]),
  );
  return new Map(
    cvs.map((cv) => [
      cv.id,
      { offerName: names.get(cv.offer_id) ?? '', goalKey: cv.goal_key, click: clicks.get(cv.id) ?? null },
    ]),
  );
}

/**
 * A database whose first write of a change carries its audit entry (as the single API's
 * changes do, src/admin/audit-trail.ts), marked with the job and row. With `after` known up
 * front the entry is whole at once; otherwise `complete` fills in the answer afterwards.
 */
function audited(
  env: Env,
  principal: Principal,
  action: string,
  cv: ConversionWithGoal,
  mark: { validation_id: string; row: number },
  after?: object,
) {
  const change = (value: object) => ({ action, resource: 'conversion', resourceId: cv.id, before: cv, after: value });
  const auditing = auditingDatabase(env.DB, () => auditValues(principal, change({ ...after, ...mark }), nowIso()));
  return {
    db: auditing.db,
    complete: async (answer: object) => {
      const id = auditing.entryId();
      if (id === null || after) return;
      const values = auditValues(principal, change({ ...answer, ...mark }), nowIso());
      await completeAuditStatement(env.DB, id, values.after, null).run();
    },
  };
}

/** Applies one row's plan; an ApiError (a refusal of the domain) fails the row only. */
async function applyRow(
  env: Env,
  ctx: Waiter,
  job: ValidationRow,
  principal: Principal,
  row: RowOutcome,
  initial: ConversionWithGoal,
  context: SnapshotContext,
  plan: RowPlan,
): Promise<RowPlan> {
  const actor = principal.role === 'advertiser' ? 'advertiser' : 'admin';
  const mark = { validation_id: job.id, row: row.row };
  let cv = initial;
  let amended = false;
  try {
    if (plan.adjustTo !== null) {
      const audit = audited(env, principal, 'adjustConversion', cv, mark);
      const amount = formatAmount(plan.adjustTo, cv.currency);
      const result = await adjustConversion(
        { DB: audit.db, TIMEZONE: env.TIMEZONE },
        cv,
        { amount },
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
      const at = nowIso();
      const moved = { ...cv, status: plan.statusTo, updated_at: at };
      const answer = { ...presentConversion(moved), changed: true, previous_status: cv.status };
      const fast = audited(env, principal, 'changeConversionStatus', cv, mark, answer);
      const committed = await applyStatusChange(fast.db, cv, plan.statusTo, context, actor, row.reason, at);
      if (committed) {
        afterCommit(env, ctx, committed);
      } else {
        // The conversion moved since it was read: decide again as the single API does.
        const audit = audited(env, principal, 'changeConversionStatus', cv, mark);
        const result = await changeConversionStatus(audit.db, cv, plan.statusTo, actor, row.reason, nowIso);
        await audit.complete({
          ...presentConversion(result.conversion),
          changed: result.committed !== null,
          previous_status: result.previousStatus,
        });
        afterCommit(env, ctx, result.committed);
      }
    }
    return plan;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const message = amended ? `the amount was amended, but the status change failed: ${error.message}` : error.message;
    return failed(error.code, message);
  }
}

/**
 * Applies one pending chunk (a Queue message, or the request for a small file); a chunk that
 * is already done is left alone, so a redelivered message changes nothing. With `giveUp` (the
 * last attempt failed) nothing is applied: rows the job already changed are named changed,
 * the others failed as not applied.
 */
export async function applyChunk(env: Env, ctx: Waiter, id: string, seq: number, giveUp: string | null = null) {
  const db = env.DB;
  const { job, chunk } = await startChunk(db, id, seq, nowIso());
  if (!job || !chunk) return;
  const principal = JSON.parse(job.principal) as Principal;
  const rows = JSON.parse(chunk.rows) as RowOutcome[];
  const ids = rows.flatMap((r) => (r.conversion_id ? [r.conversion_id] : []));
  // The conversions and the issued documents they are on, read fresh in one round trip.
  const [read, ...onDocuments] = await db.batch([
    fullConversionsStatement(db, ids),
    ...(giveUp || ids.length === 0 ? [] : [lockedDocumentsStatement(db, ids)]),
  ]);
  const fresh = new Map(((read?.results ?? []) as ConversionWithGoal[]).map((cv) => [cv.id, cv]));
  const documents = new Map<string, LockedDocumentRow[]>();
  for (const doc of onDocuments.flatMap((r) => r.results as LockedDocumentRow[]))
    documents.set(doc.conversion_id, [...(documents.get(doc.conversion_id) ?? []), doc]);
  const contexts = giveUp ? new Map<string, SnapshotContext>() : await snapshotContexts(db, [...fresh.values()]);
  // A retried chunk may have applied some rows before it failed: their audit entries say so.
  const earlier = chunk.attempts > 1 || giveUp ? await conversionsChangedBy(db, id, ids) : new Set<string>();
  const results: RowOutcome[] = [];
  for (const row of rows) {
    const cv = row.conversion_id ? fresh.get(row.conversion_id) : undefined;
    const context = cv && contexts.get(cv.id);
    let plan = cv
      ? planRow(uploadRowOf(row), stateOf(cv))
      : failed('unknown_conversion', `no conversion ${row.conversion_id}`);
    if (cv && plan.outcome === 'unchanged' && earlier.has(cv.id)) {
      plan = { ...plan, outcome: 'changed', message: `${plan.message} (applied by this job)` };
    } else if (cv && plan.outcome === 'changed') {
      plan =
        giveUp || !context
          ? failed('not_applied', `not applied: ${giveUp}`)
          : await applyRow(env, ctx, job, principal, row, cv, context, plan);
    }
    results.push({ ...row, outcome: plan.outcome, code: plan.code, message: plan.message, locked: false });
  }
  const final = await markLocked(db, results, principal.role, documents);
  await finishChunk(db, id, seq, { results: JSON.stringify(final), ...count(final) }, final.length, nowIso());
}

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
