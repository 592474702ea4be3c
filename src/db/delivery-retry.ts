// deliveries table, operator side: a delivery waiting for its next retry, sent now instead.
// (Reopening finished deliveries is reopenDeliveryStatement in deliveries.ts.)
import type { DeliveryRow } from './deliveries';

/**
 * Makes a `retrying` delivery whose next attempt is still ahead pending for a new queue message.
 * Clearing message_id hands it to the new message; the delayed message that was waiting for it
 * then finds it owned by another message (or finished) and sends nothing. A delivery being
 * attempted right now is not touched (its next_attempt_at is not in the future). Null otherwise.
 */
export const retryNowStatement = (db: D1Database, id: string, now: string): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE deliveries SET status = 'pending', message_id = NULL, next_attempt_at = NULL, enqueued_at = NULL,
         updated_at = ?1 WHERE id = ?2 AND status = 'retrying' AND next_attempt_at > ?1 RETURNING *`,
    )
    .bind(now, id);

export const retryNow = (db: D1Database, id: string, now: string): Promise<DeliveryRow | null> =>
  retryNowStatement(db, id, now).first<DeliveryRow>();
