// What the two notification outboxes share: deliveries (conversion events) and
// document_deliveries (statement events) move through the same states, claimed by one queue
// message at a time and updated after every attempt, so the statements that do that are one.
import type { DeliveryStatus } from './deliveries';

export type OutboxTable = 'deliveries' | 'document_deliveries';

/** The columns of a delivery's progress, in both tables. */
export interface OutboxState {
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: string | null;
  enqueued_at: string | null;
  message_id: string | null;
  created_at: string;
  updated_at: string;
}

export const markOutboxEnqueuedStatement = (db: D1Database, table: OutboxTable, ids: string[], now: string) =>
  db
    .prepare(`UPDATE ${table} SET enqueued_at = ? WHERE id IN (SELECT value FROM json_each(?))`)
    .bind(now, JSON.stringify(ids));

/** The claim for a queue message, unless another message owns the delivery or it is finished. */
export const claimOutboxStatement = (db: D1Database, table: OutboxTable, id: string, messageId: string) =>
  db
    .prepare(
      `UPDATE ${table} SET message_id = ?2
         WHERE id = ?1 AND status IN ('pending', 'retrying') AND (message_id IS NULL OR message_id = ?2)`,
    )
    .bind(id, messageId);

/** Records attempt number `attempts` (applies only if no one recorded it first: attempts = attempts - 1). */
export const recordOutboxAttemptStatement = (
  db: D1Database,
  table: OutboxTable,
  id: string,
  attempt: {
    attempts: number;
    status: DeliveryStatus;
    nextAttemptAt: string | null;
    startedAt: string;
    statusCode: number | null;
    error: string | null;
    deliveredAt: string | null;
  },
  now: string,
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE ${table} SET attempts = ?1, status = ?2, next_attempt_at = ?3, last_attempt_at = ?4,
         last_status_code = ?5, last_error = ?6, delivered_at = COALESCE(?7, delivered_at), updated_at = ?8
       WHERE id = ?9 AND attempts = ?1 - 1`,
    )
    .bind(
      attempt.attempts,
      attempt.status,
      attempt.nextAttemptAt,
      attempt.startedAt,
      attempt.statusCode,
      attempt.error,
      attempt.deliveredAt,
      now,
      id,
    );
