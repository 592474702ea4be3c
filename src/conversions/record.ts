// The conversion write path, shared by postbacks and the admin API (and later the portal). Each
// write is ONE D1 batch (one transaction): the conversion row or its status change, the
// conversion_events row(s) with their frozen snapshots, the daily rollup and the delivery rows
// of the notifications outbox. After it commits, the deliveries are handed to the notifications
// Queue. The rules come from the pure modules beside it; the SQL from src/db/.
import { scheduleSettle } from '../clicks/completion';
import { snapshotClickOf } from '../db/clicks';
import {
  type ConversionEventRow,
  type ConversionRow,
  type ConversionWithGoal,
  getConversion,
  insertConversionIfCurrentStatement,
  insertConversionStatement,
  insertEventIfConversionStatement,
  insertGuardedModifiedEventStatement,
  insertGuardedStatusEventStatement,
  isStaleStatusError,
  updateConversionAmountsStatement,
  updateConversionStatusStatement,
} from '../db/conversions';
import { getOfferName } from '../db/offers';
import { isMoneyOverflowError } from '../db/rollups';
import { ApiError } from '../lib/errors';
import { errorFields, log } from '../lib/log';
import { deliveryStatements, sendDeliveryMessages } from '../notify/fanout';
import {
  adjustCapsCountStatement,
  adjustmentRefusedByCap,
  type CapScope,
  capCountStatement,
  isCapExceededError,
  metACap,
  movedACap,
  publishCapReached,
  refusalByCap,
} from '../terms/cap-guard';
import type { AdjustmentPlan } from './adjust';
import { OTHER_CHANNEL } from './attribution-policy';
import {
  canChangeStatus,
  creationEventTypes,
  illegalStatusChange,
  statsContribution,
  statsMove,
  statusEventType,
} from './lifecycle';
import { rollupStatements } from './rollup-moves';
import { buildEvent, previousValues, type SnapshotContext } from './snapshot';
import type { ConversionActor as Actor, ConversionStatus } from './status';

/** A write refused because a rollup money cell would overflow (src/db/rollups.ts): a 422. */
function refuseOverflow(error: unknown): void {
  if (!isMoneyOverflowError(error)) return;
  throw new ApiError(
    422,
    'amount_too_large',
    'The amounts would take the conversion rollups past 2^63 - 1 minor units; nothing was written',
    { amount: 'is too large for the totals it adds to' },
  );
}

function fanout(db: D1Database, event: ConversionEventRow, cv: ConversionRow, now: string) {
  return deliveryStatements(
    db,
    { id: event.id, conversion_id: cv.id, type: event.type, offer_id: cv.offer_id, publisher_id: cv.publisher_id },
    now,
  );
}

/** What one committed write produced: its events and the deliveries they fanned out to. */
export interface Committed {
  eventIds: string[];
  deliveryIds: string[];
  /** Conversions created before their click landed: their deliveries wait (src/clicks/completion.ts). */
  waitingForClick?: string[];
  /** The row as stored when a cap made it differ from the one asked for (rejected, cap_reached). */
  stored?: ConversionRow;
  /** The offer whose cap this write reached: its clicks go to the fallback from now on. */
  capReached?: number;
}

/**
 * The condition of a conversion priced from an isolate's memory (src/postback/config-cache.ts):
 * it is written only while the config epoch is still `epoch` and no conversion of the offer
 * holds one of `anyGoalKeys` under any goal.
 */
export interface WriteCondition {
  epoch: string;
  anyGoalKeys: string[];
}

/** The delivery ids that the fan-out statements of a batch returned (INSERT ... RETURNING id). */
function deliveryIdsOf(results: D1Result[], fanoutIndexes: number[]): string[] {
  return fanoutIndexes.flatMap((i) => ((results[i]?.results ?? []) as { id: string }[]).map((r) => r.id));
}

/**
 * Inserts `row` unless its deduplication key is taken, with its events, deliveries, rollup and
 * any `alsoIfCreated` statements (which must guard themselves on the conversion existing), all
 * in one batch. Returns what it committed, or null when another conversion already holds the
 * key (nothing was written).
 */
export async function insertConversion(
  db: D1Database,
  row: ConversionRow,
  context: SnapshotContext,
  actor: Actor,
  alsoIfCreated: D1PreparedStatement[] = [],
  /** Count it against the offer's caps (src/terms/cap-guard.ts); null: no cap applies. */
  caps: CapScope | null = null,
  attempt = 0,
  condition: WriteCondition | null = null,
): Promise<Committed | null> {
  const now = row.created_at;
  // A status a rule decided (a time rule's rejection) carries its reason on that event.
  const events = creationEventTypes(row.status).map((type) =>
    buildEvent(row, type, null, actor, type === 'conversion.created' ? null : (row.reason ?? null), context, now),
  );
  const statements: D1PreparedStatement[] = [
    condition
      ? insertConversionIfCurrentStatement(db, row, condition.epoch, condition.anyGoalKeys)
      : insertConversionStatement(db, row),
  ];
  const fanoutIndexes: number[] = [];
  for (const event of events) {
    statements.push(insertEventIfConversionStatement(db, event));
    // A sale another channel won is the advertiser's record only: its publisher hears nothing.
    if (row.reason === OTHER_CHANNEL) continue;
    for (const statement of fanout(db, event, row, now)) fanoutIndexes.push(statements.push(statement) - 1);
  }
  statements.push(...rollupStatements(db, row, statsContribution(row.status, row)), ...alsoIfCreated);
  // The cap guard: its CHECK aborts this batch when the conversion would overshoot a cap.
  const capIndex = caps ? statements.push(capCountStatement(db, row, caps)) - 1 : -1;
  let results: D1Result[];
  try {
    results = await db.batch(statements);
  } catch (error) {
    refuseOverflow(error);
    if (!caps || !isCapExceededError(error) || attempt >= 3) throw error;
    const refused = await refusalByCap(db, row, caps);
    // A cap counts only a conversion that was inserted: the condition held; go on as usual.
    if (!refused) return insertConversion(db, row, context, actor, alsoIfCreated, caps, attempt + 1);
    const committed = await insertConversion(db, refused.row, context, actor, [
      ...alsoIfCreated,
      ...refused.statements,
    ]);
    return committed && { ...committed, stored: refused.row, capReached: row.offer_id };
  }
  if (results[0]?.meta.changes !== 1) return null;
  return {
    eventIds: events.map((e) => e.id),
    deliveryIds: deliveryIdsOf(results, fanoutIndexes),
    ...(metACap(results[capIndex]) ? { capReached: row.offer_id } : {}),
  };
}

/**
 * Moves `cv` to `to` with its event, rollup move and deliveries. Returns the event and its
 * deliveries, or null when the conversion no longer has the status this change was decided on
 * (nothing written).
 */
export async function applyStatusChange(
  db: D1Database,
  cv: ConversionRow,
  to: ConversionStatus,
  context: SnapshotContext,
  actor: Actor,
  reason: string | null,
  now: string,
): Promise<Committed | null> {
  const type = statusEventType(to);
  if (!type || !canChangeStatus(cv.status, to)) throw illegalStatusChange(cv.status, to);
  const changed: ConversionRow = { ...cv, status: to, updated_at: now };
  const event = buildEvent(changed, type, cv.status, actor, reason, context, now);
  const deliveries = fanout(db, event, changed, now);
  let results: D1Result[];
  try {
    results = await db.batch([
      // First: it aborts the whole batch when the status moved meanwhile.
      insertGuardedStatusEventStatement(db, event),
      ...deliveries,
      updateConversionStatusStatement(db, cv.id, cv.status, to, now),
      ...rollupStatements(db, cv, statsMove(cv.status, to, cv)),
    ]);
  } catch (error) {
    if (isStaleStatusError(error)) return null;
    refuseOverflow(error);
    throw error;
  }
  return {
    eventIds: [event.id],
    deliveryIds: deliveryIdsOf(
      results,
      deliveries.map((_, i) => i + 1),
    ),
  };
}

/**
 * Writes an adjustment: the conversion.modified event (with the previous values) first, as the
 * guard, then its deliveries, the new amounts, the rollup difference and the move of the payout
 * and revenue caps that counted the conversion, in one batch. Null when the conversion changed
 * since the plan was made, or a cap that refused it was deleted meanwhile (nothing written: plan
 * again). A raise that would pass a cap is a 409 naming it, nothing written
 * (adjustmentRefusedByCap), as a cap refuses a new conversion in the same transaction.
 */
export async function applyAdjustment(
  db: D1Database,
  cv: ConversionRow,
  plan: AdjustmentPlan,
  context: SnapshotContext,
  actor: Actor,
  reason: string | null,
  /** The cap periods the conversion was counted in (those of its creation); null: no caps. */
  caps: CapScope | null = null,
): Promise<Committed | null> {
  const now = plan.after.updated_at;
  const event = buildEvent(
    plan.after,
    'conversion.modified',
    cv.status,
    actor,
    reason,
    context,
    now,
    previousValues(cv),
  );
  const deliveries = fanout(db, event, plan.after, now);
  const capStatement = caps && adjustCapsCountStatement(db, cv, plan.after, caps);
  const statements = [
    insertGuardedModifiedEventStatement(db, event, cv.updated_at),
    ...deliveries,
    updateConversionAmountsStatement(db, cv.id, plan.after, now),
    ...rollupStatements(db, cv, plan.stats),
  ];
  const capIndex = capStatement ? statements.push(capStatement) - 1 : -1;
  let results: D1Result[];
  try {
    results = await db.batch(statements);
  } catch (error) {
    if (isStaleStatusError(error)) return null;
    refuseOverflow(error);
    if (caps && isCapExceededError(error)) {
      const field = plan.after.products !== cv.products ? 'products' : 'amount';
      const refusal = await adjustmentRefusedByCap(db, cv, plan.after, caps, field, actor);
      if (refusal) throw refusal;
      return null;
    }
    throw error;
  }
  return {
    eventIds: [event.id],
    deliveryIds: deliveryIdsOf(
      results,
      deliveries.map((_, i) => i + 1),
    ),
    // A cap met or freed by the adjustment opens or closes the offer's clicks: republish.
    ...(movedACap(results[capIndex]) ? { capReached: cv.offer_id } : {}),
  };
}

export async function loadSnapshotContext(db: D1Database, cv: ConversionWithGoal): Promise<SnapshotContext> {
  const [offerName, click] = await Promise.all([
    getOfferName(db, cv.offer_id),
    cv.click_id ? snapshotClickOf(db, { id: cv.id, click_id: cv.click_id }) : Promise.resolve(null),
  ]);
  return { offerName: offerName ?? '', goalKey: cv.goal_key, click };
}

export interface StatusChangeResult {
  conversion: ConversionWithGoal;
  previousStatus: ConversionStatus;
  /** null when the conversion already had the requested status (nothing changed). */
  committed: Committed | null;
}

const MAX_ATTEMPTS = 4;

/**
 * Changes a stored conversion's status (admin API and postbacks). Asking for the status it
 * already has changes nothing; an illegal transition is a 409. A concurrent change is met by
 * re-reading and deciding again.
 */
export async function changeConversionStatus(
  db: D1Database,
  initial: ConversionWithGoal,
  to: ConversionStatus,
  actor: Actor,
  reason: string | null,
  now: () => string,
): Promise<StatusChangeResult> {
  let cv: ConversionWithGoal | null = initial;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && cv; attempt++) {
    if (cv.status === to) return { conversion: cv, previousStatus: cv.status, committed: null };
    if (!canChangeStatus(cv.status, to)) throw illegalStatusChange(cv.status, to);
    const at = now();
    const committed = await applyStatusChange(db, cv, to, await loadSnapshotContext(db, cv), actor, reason, at);
    if (committed) return { conversion: { ...cv, status: to, updated_at: at }, previousStatus: cv.status, committed };
    cv = await getConversion(db, cv.id);
  }
  throw new ApiError(409, 'conflict', 'The conversion is being changed concurrently; retry the request');
}

/**
 * Hands the deliveries of a committed write to the notifications Queue, after the response. A
 * hand-off that fails leaves them pending without enqueued_at, where the cron finds them.
 */
export function afterCommit(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  committed: Committed | null,
): void {
  if (committed?.capReached) publishCapReached(env, ctx, committed.capReached);
  if (committed?.waitingForClick?.length) ctx.waitUntil(scheduleSettle(env, committed.waitingForClick));
  if (!committed || committed.deliveryIds.length === 0) return;
  ctx.waitUntil(
    sendDeliveryMessages(env, committed.deliveryIds).catch((error: unknown) =>
      log('warn', 'postback.enqueue_failed', { deliveries: committed.deliveryIds.length, ...errorFields(error) }),
    ),
  );
}
