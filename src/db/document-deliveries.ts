// document_deliveries table: the outbox of statement.issued / statement.paid. A row per
// subscribing endpoint is written in the same batch as the status change, handed to the
// notifications Queue, claimed by one message at a time and updated after every attempt
// (src/statements/delivery.ts), like the conversion deliveries of src/db/deliveries.ts.
import type { DeliveryWork } from './deliveries';
import {
  claimOutboxStatement,
  markOutboxEnqueuedStatement,
  type OutboxState,
  recordOutboxAttemptStatement,
} from './outbox';

/** Delivery ids of document events start with this (the consumer tells the two kinds apart by it). */
export const DOCUMENT_DELIVERY_PREFIX = 'ddl_';

export interface DocumentDeliveryRow extends OutboxState {
  id: string;
  document_id: number;
  endpoint_id: number;
  publisher_id: number;
  event_type: string;
  payload: string;
}

/**
 * One delivery per active endpoint of the publisher subscribed to `eventType`, written only if
 * the document has `status` (the change before it in the batch took effect). Returns the ids.
 */
export function insertDocumentDeliveriesStatement(
  db: D1Database,
  idPrefix: string,
  event: { documentId: number; publisherId: number; type: string; status: string; payload: string },
  now: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT OR IGNORE INTO document_deliveries (id, document_id, endpoint_id, publisher_id, event_type, payload,
         status, created_at, updated_at)
       SELECT ?1 || '_' || e.id, ?2, e.id, e.publisher_id, ?3, ?4, 'pending', ?5, ?5
       FROM endpoints e
       WHERE e.publisher_id = ?6 AND e.status = 'active'
         AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = ?3)
         AND EXISTS (SELECT 1 FROM documents WHERE id = ?2 AND status = ?7)
       RETURNING id`,
    )
    .bind(idPrefix, event.documentId, event.type, event.payload, now, event.publisherId, event.status);
}

export const markDocumentDeliveriesEnqueuedStatement = (db: D1Database, ids: string[], now: string) =>
  markOutboxEnqueuedStatement(db, 'document_deliveries', ids, now);

/** A claimed delivery with its endpoint: the same columns a conversion delivery loads, and its payload. */
export type DocumentDeliveryWork = Pick<
  DeliveryWork,
  | 'id'
  | 'status'
  | 'attempts'
  | 'message_id'
  | 'endpoint_id'
  | 'endpoint_status'
  | 'url'
  | 'method'
  | 'format'
  | 'form_field'
  | 'signing_secret'
  | 'previous_signing_secret'
  | 'previous_secret_expires_at'
> & { payload: string };

/** Claims the delivery for a queue message (unless another owns it or it is finished), then loads it. */
export function claimDocumentDeliveryStatements(db: D1Database, id: string, messageId: string): D1PreparedStatement[] {
  return [
    claimOutboxStatement(db, 'document_deliveries', id, messageId),
    db
      .prepare(
        `SELECT d.id, d.status, d.attempts, d.message_id, d.endpoint_id, e.status AS endpoint_status, e.url, e.method,
           e.format, e.form_field, e.signing_secret, e.previous_signing_secret, e.previous_secret_expires_at, d.payload
         FROM document_deliveries d JOIN endpoints e ON e.id = d.endpoint_id WHERE d.id = ?1`,
      )
      .bind(id),
  ];
}

/** Records attempt number `attempts` (applies only if no one recorded it first). */
export const recordDocumentAttemptStatement = (
  db: D1Database,
  id: string,
  attempt: Parameters<typeof recordOutboxAttemptStatement>[3],
  now: string,
) => recordOutboxAttemptStatement(db, 'document_deliveries', id, attempt, now);

/**
 * Deliveries whose queue message never left or was lost: pending and never enqueued since
 * `grace`, pending and enqueued before `stuck` without an attempt, or retrying and due before
 * `stuck` with no message since.
 */
export async function unsentDocumentDeliveries(
  db: D1Database,
  grace: string,
  stuck: string,
  limit: number,
): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT id FROM document_deliveries
       WHERE (status = 'pending' AND ((enqueued_at IS NULL AND updated_at < ?1) OR enqueued_at < ?2))
          OR (status = 'retrying' AND next_attempt_at < ?2 AND (enqueued_at IS NULL OR enqueued_at < ?2))
       ORDER BY updated_at LIMIT ?3`,
    )
    .bind(grace, stuck, limit)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** Lets whichever message comes next claim these deliveries. */
export const releaseDocumentDeliveriesStatement = (db: D1Database, ids: string[]) =>
  db
    .prepare('UPDATE document_deliveries SET message_id = NULL WHERE id IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify(ids));

/** A document's deliveries, oldest first. */
export async function documentDeliveries(db: D1Database, documentId: number): Promise<DocumentDeliveryRow[]> {
  const { results } = await db
    .prepare('SELECT * FROM document_deliveries WHERE document_id = ? ORDER BY created_at, id')
    .bind(documentId)
    .all<DocumentDeliveryRow>();
  return results;
}
