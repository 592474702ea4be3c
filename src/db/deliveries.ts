// deliveries table: the notifications outbox. A delivery row is written in the same transaction
// as its conversion event, handed to the notifications Queue, claimed by one queue message at a
// time, and updated after every attempt. Read by the consumer, the reconciliation cron, the
// admin API and the operator's overview (its failing deliveries).
import {
  claimOutboxStatement,
  markOutboxEnqueuedStatement,
  type OutboxState,
  recordOutboxAttemptStatement,
} from './outbox';
import type { PortalDeliveryRow } from './portal';

export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'dead'] as const;

export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryRow extends OutboxState {
  id: string;
  event_id: string;
  conversion_id: string;
  endpoint_id: number;
  event_type: string;
}

// ---- fan-out and hand-off

/**
 * One delivery per matching endpoint of a conversion event, for the batch that inserts the event
 * `event.id` (written only if it exists). Ids are `${idPrefix}_<endpoint id>`; the statement
 * returns them. Matching: endpoint active, belongs to the publisher, subscribes to the event
 * type, and its offer filter (if any) contains the offer.
 */
export function insertDeliveriesForEventStatement(
  db: D1Database,
  idPrefix: string,
  event: { id: string; conversion_id: string; type: string; offer_id: number; publisher_id: number },
  now: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT OR IGNORE INTO deliveries (id, event_id, conversion_id, endpoint_id, event_type, status, created_at, updated_at, publisher_id)
       SELECT ?1 || '_' || e.id, ?2, ?3, e.id, ?4, 'pending', ?5, ?5, e.publisher_id
       FROM endpoints e
       WHERE e.publisher_id = ?6 AND e.status = 'active'
         AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = ?4)
         AND (e.offer_ids IS NULL OR EXISTS (SELECT 1 FROM json_each(e.offer_ids) WHERE value = ?7))
         AND EXISTS (SELECT 1 FROM conversion_events WHERE id = ?2)
       RETURNING id`,
    )
    .bind(idPrefix, event.id, event.conversion_id, event.type, now, event.publisher_id, event.offer_id);
}

const ids = async (statement: D1PreparedStatement): Promise<string[]> =>
  (await statement.all<{ id: string }>()).results.map((r) => r.id);

/** Pending deliveries of these events that were never handed to the Queue. */
export const unenqueuedDeliveriesOfEventsStatement = (db: D1Database, eventIds: string[]): D1PreparedStatement =>
  db
    .prepare(
      `SELECT id FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?)) AND status = 'pending' AND enqueued_at IS NULL`,
    )
    .bind(JSON.stringify(eventIds));

export const unenqueuedDeliveriesOfEvents = (db: D1Database, eventIds: string[]): Promise<string[]> =>
  ids(unenqueuedDeliveriesOfEventsStatement(db, eventIds));

export const markEnqueuedStatement = (db: D1Database, deliveryIds: string[], now: string): D1PreparedStatement =>
  markOutboxEnqueuedStatement(db, 'deliveries', deliveryIds, now);

export async function markEnqueued(db: D1Database, deliveryIds: string[], now: string): Promise<void> {
  await markEnqueuedStatement(db, deliveryIds, now).run();
}

// ---- reconciliation (cron)

/** Pending, never enqueued, and last touched before `cutoff`: the send after the commit failed. */
export const unsentDeliveriesStatement = (db: D1Database, cutoff: string, limit: number): D1PreparedStatement =>
  db
    .prepare(
      `SELECT id FROM deliveries WHERE status = 'pending' AND enqueued_at IS NULL AND updated_at < ? ORDER BY updated_at LIMIT ?`,
    )
    .bind(cutoff, limit);

export const unsentDeliveries = (db: D1Database, cutoff: string, limit: number): Promise<string[]> =>
  ids(unsentDeliveriesStatement(db, cutoff, limit));

/** Pending and enqueued before `cutoff`, never attempted: the message is presumed lost. */
export const stuckDeliveriesStatement = (db: D1Database, cutoff: string, limit: number): D1PreparedStatement =>
  db
    .prepare(`SELECT id FROM deliveries WHERE status = 'pending' AND enqueued_at < ? ORDER BY enqueued_at LIMIT ?`)
    .bind(cutoff, limit);

export const stuckDeliveries = (db: D1Database, cutoff: string, limit: number): Promise<string[]> =>
  ids(stuckDeliveriesStatement(db, cutoff, limit));

/** Retrying, due before `cutoff` and not re-enqueued since: the retry message is presumed lost. */
export const overdueDeliveriesStatement = (db: D1Database, cutoff: string, limit: number): D1PreparedStatement =>
  db
    .prepare(
      `SELECT id FROM deliveries WHERE status = 'retrying' AND next_attempt_at < ?1
         AND (enqueued_at IS NULL OR enqueued_at < ?1) ORDER BY next_attempt_at LIMIT ?2`,
    )
    .bind(cutoff, limit);

export const overdueDeliveries = (db: D1Database, cutoff: string, limit: number): Promise<string[]> =>
  ids(overdueDeliveriesStatement(db, cutoff, limit));

/** Clears the message owner of unfinished deliveries, so whichever message comes next claims them. */
export const releaseDeliveriesStatement = (db: D1Database, deliveryIds: string[]): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE deliveries SET message_id = NULL WHERE id IN (SELECT value FROM json_each(?)) AND status IN ('pending', 'retrying')`,
    )
    .bind(JSON.stringify(deliveryIds));

export async function releaseDeliveries(db: D1Database, deliveryIds: string[]): Promise<void> {
  await releaseDeliveriesStatement(db, deliveryIds).run();
}

// ---- consumer

/** A claimed delivery with what rendering it needs (its endpoint and its event's snapshot). */
export interface DeliveryWork {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  message_id: string | null;
  endpoint_id: number;
  endpoint_status: 'active' | 'disabled';
  url: string;
  method: 'GET' | 'POST';
  format: 'query' | 'json' | 'form' | 'xml';
  form_field: string | null;
  preset: 'awin' | null;
  body_template: string | null;
  include_products: 0 | 1;
  include_click_data: 0 | 1;
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_secret_expires_at: string | null;
  /** Who last saved the endpoint (src/auth/money-view.ts endpointAudience). */
  saved_by: 'operator' | 'publisher' | null;
  snapshot: string;
  /** JSON array of the offer's commission groups ({id, code, name, description}). */
  commission_groups: string;
}

/** The commission groups of the event's offer, as a JSON array (Awin's commissionGroups). */
const COMMISSION_GROUPS_OF_SNAPSHOT = `SELECT json_group_array(json_object('id', cg.id, 'code', cg.code, 'name', cg.name,
  'description', cg.description)) FROM commission_groups cg WHERE cg.offer_id = json_extract(ev.snapshot, '$.offer_id')`;

/** The claim (unless another message owns the delivery, or it is finished) and the load, in that order. */
export function claimDeliveryStatements(
  db: D1Database,
  deliveryId: string,
  messageId: string,
): [D1PreparedStatement, D1PreparedStatement] {
  return [
    claimOutboxStatement(db, 'deliveries', deliveryId, messageId),
    db
      .prepare(
        `SELECT d.id, d.status, d.attempts, d.message_id, d.endpoint_id, e.status AS endpoint_status,
           e.url, e.method, e.format, e.form_field, e.preset, e.body_template, e.include_products,
           e.include_click_data, e.signing_secret, e.previous_signing_secret, e.previous_secret_expires_at,
           e.saved_by, ev.snapshot, (${COMMISSION_GROUPS_OF_SNAPSHOT}) AS commission_groups
         FROM deliveries d
         JOIN endpoints e ON e.id = d.endpoint_id
         JOIN conversion_events ev ON ev.id = d.event_id
         WHERE d.id = ?1`,
      )
      .bind(deliveryId),
  ];
}

/**
 * Claims the delivery for a queue message and loads it, in one transaction. The caller owns the
 * delivery when the returned row's message_id is its message id and its status is pending or
 * retrying.
 */
export async function claimDelivery(
  db: D1Database,
  deliveryId: string,
  messageId: string,
): Promise<DeliveryWork | null> {
  const [, loaded] = await db.batch(claimDeliveryStatements(db, deliveryId, messageId));
  return ((loaded?.results ?? [])[0] as DeliveryWork | undefined) ?? null;
}

/** A delivery's state after an attempt. */
export interface DeliveryResult {
  status: DeliveryStatus;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

/**
 * Records attempt number `attempt` on the delivery; applies only if no one recorded that attempt
 * number first (attempts = attempt - 1).
 */
export function recordAttemptOnDeliveryStatement(
  db: D1Database,
  attempt: { deliveryId: string; attempt: number; startedAt: string; statusCode: number | null; error: string | null },
  result: DeliveryResult,
  now: string,
): D1PreparedStatement {
  return recordOutboxAttemptStatement(
    db,
    'deliveries',
    attempt.deliveryId,
    {
      ...result,
      attempts: attempt.attempt,
      startedAt: attempt.startedAt,
      statusCode: attempt.statusCode,
      error: attempt.error,
    },
    now,
  );
}

/** Ends a delivery without an attempt (its endpoint was disabled meanwhile). */
export const markDeadStatement = (
  db: D1Database,
  deliveryId: string,
  error: string,
  now: string,
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE deliveries SET status = 'dead', next_attempt_at = NULL, last_error = ?, updated_at = ?
       WHERE id = ? AND status IN ('pending', 'retrying')`,
    )
    .bind(error, now, deliveryId);

export type DeliveryProgress = Pick<DeliveryRow, 'attempts' | 'last_attempt_at'>;

export const deliveryProgressStatement = (db: D1Database, deliveryId: string): D1PreparedStatement =>
  db.prepare('SELECT attempts, last_attempt_at FROM deliveries WHERE id = ?').bind(deliveryId);

export const getDeliveryProgress = (db: D1Database, deliveryId: string): Promise<DeliveryProgress | null> =>
  deliveryProgressStatement(db, deliveryId).first<DeliveryProgress>();

// ---- admin

export interface DeliveryFilters {
  conversion_id?: string;
  endpoint_id?: number;
  /** Every delivery of the publisher's endpoints (a range of deliveries_publisher_time). */
  publisher_id?: number;
  status?: DeliveryStatus;
}

/** Newest first; `before` is the (created_at, id) of the last row of the previous page. */
export function listDeliveriesStatement(
  db: D1Database,
  filters: DeliveryFilters,
  before: { created_at: string; id: string } | undefined,
  limit: number,
): D1PreparedStatement {
  const where: string[] = [];
  const binds: unknown[] = [];
  if (filters.conversion_id) {
    where.push('conversion_id = ?');
    binds.push(filters.conversion_id);
  }
  if (filters.endpoint_id !== undefined) {
    where.push('endpoint_id = ?');
    binds.push(filters.endpoint_id);
  }
  if (filters.publisher_id !== undefined) {
    where.push('publisher_id = ?');
    binds.push(filters.publisher_id);
  }
  if (filters.status) {
    where.push('status = ?');
    binds.push(filters.status);
  }
  if (before) {
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    binds.push(before.created_at, before.created_at, before.id);
  }
  return db
    .prepare(
      `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    )
    .bind(...binds, limit);
}

export async function listDeliveries(
  db: D1Database,
  filters: DeliveryFilters,
  before: { created_at: string; id: string } | undefined,
  limit: number,
): Promise<DeliveryRow[]> {
  return (await listDeliveriesStatement(db, filters, before, limit).all<DeliveryRow>()).results;
}

/**
 * The newest failing deliveries, everybody's (the operator's overview and failing list), with
 * their endpoint's publisher and URL; ?1 = how many. One range of deliveries_status_time per
 * failing status, newest first and cut at ?1, merged: at most 2 x ?1 index entries and endpoint
 * lookups, whatever the planner's statistics. A single `status IN ('retrying', 'dead')` range
 * has to sort every failing delivery, and once ANALYZE has run the planner preferred walking
 * every endpoint's deliveries instead (every delivery read). CROSS JOIN keeps the endpoints
 * inner, looked up by primary key for the rows kept.
 */
export const FAILING_DELIVERIES_SQL = `SELECT failing.*, e.publisher_id, e.url AS endpoint_url
  FROM (SELECT * FROM (SELECT * FROM deliveries WHERE status = 'retrying' ORDER BY updated_at DESC LIMIT ?1)
    UNION ALL SELECT * FROM (SELECT * FROM deliveries WHERE status = 'dead' ORDER BY updated_at DESC LIMIT ?1)) failing
  CROSS JOIN endpoints e ON e.id = failing.endpoint_id
  ORDER BY failing.updated_at DESC LIMIT ?1`;

export const failingDeliveriesStatement = (db: D1Database, limit: number): D1PreparedStatement =>
  db.prepare(FAILING_DELIVERIES_SQL).bind(limit);

export const failingDeliveries = async (db: D1Database, limit: number): Promise<PortalDeliveryRow[]> =>
  (await failingDeliveriesStatement(db, limit).all<PortalDeliveryRow>()).results;

export const selectDeliveryStatement = (db: D1Database, id: string): D1PreparedStatement =>
  db.prepare('SELECT * FROM deliveries WHERE id = ?').bind(id);

export const getDelivery = (db: D1Database, id: string): Promise<DeliveryRow | null> =>
  selectDeliveryStatement(db, id).first<DeliveryRow>();

/**
 * Makes a finished (delivered or dead) delivery pending again for a new queue message: clears
 * its message owner so the new message can claim it. Null when it is not finished.
 */
export const reopenDeliveryStatement = (db: D1Database, id: string, now: string): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE deliveries SET status = 'pending', message_id = NULL, next_attempt_at = NULL, enqueued_at = NULL,
         updated_at = ? WHERE id = ? AND status IN ('delivered', 'dead') RETURNING *`,
    )
    .bind(now, id);

export const reopenDelivery = (db: D1Database, id: string, now: string): Promise<DeliveryRow | null> =>
  reopenDeliveryStatement(db, id, now).first<DeliveryRow>();
