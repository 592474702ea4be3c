// From a conversion event to deliveries: one delivery row per matching active endpoint of the
// conversion's publisher, written in the same D1 transaction as the event (outbox), then one
// notifications-Queue message per delivery. A message that could not be sent is found later by
// the cron (deliveries still 'pending' with no enqueued_at) and sent then.
import { randomId } from '../lib/crypto';
import { errorFields, log } from '../lib/log';

export interface NotificationMessage {
  v: 1;
  delivery_id: string;
}

/**
 * Statements to run in the same batch that inserts the conversion_events row `eventId`; each
 * returns the ids of the deliveries it created. Delivery ids are random ('dlv_...') and become
 * the webhook-id of every attempt.
 * Matching: endpoint active, belongs to the publisher, subscribes to the event type, and its
 * offer filter (if any) contains the offer.
 */
export function deliveryStatements(
  db: D1Database,
  event: { id: string; conversion_id: string; type: string; offer_id: number; publisher_id: number },
  now: string,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT OR IGNORE INTO deliveries (id, event_id, conversion_id, endpoint_id, event_type, status, created_at, updated_at)
         SELECT ?1 || '_' || e.id, ?2, ?3, e.id, ?4, 'pending', ?5, ?5
         FROM endpoints e
         WHERE e.publisher_id = ?6 AND e.status = 'active'
           AND EXISTS (SELECT 1 FROM json_each(e.events) WHERE value = ?4)
           AND (e.offer_ids IS NULL OR EXISTS (SELECT 1 FROM json_each(e.offer_ids) WHERE value = ?7))
           AND EXISTS (SELECT 1 FROM conversion_events WHERE id = ?2)
         RETURNING id`,
      )
      .bind(randomId('dlv_', 12), event.id, event.conversion_id, event.type, now, event.publisher_id, event.offer_id),
  ];
}

/** Sends one queue message per not-yet-enqueued delivery of these events; marks them enqueued. */
export async function enqueueDeliveries(env: Env, eventIds: string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  const { results } = await env.DB.prepare(
    `SELECT id FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?)) AND status = 'pending' AND enqueued_at IS NULL`,
  )
    .bind(JSON.stringify(eventIds))
    .all<{ id: string }>();
  return sendDeliveryMessages(
    env,
    results.map((r) => r.id),
  );
}

/** Hands deliveries to the notifications Queue (batches of 100) and records when. */
export async function sendDeliveryMessages(env: Env, deliveryIds: string[], delaySeconds = 0): Promise<number> {
  let sent = 0;
  for (let i = 0; i < deliveryIds.length; i += 100) {
    const ids = deliveryIds.slice(i, i + 100);
    try {
      await env.NOTIFICATIONS_QUEUE.sendBatch(
        ids.map((id) => ({
          body: { v: 1, delivery_id: id } satisfies NotificationMessage,
          contentType: 'json' as const,
        })),
        delaySeconds > 0 ? { delaySeconds } : undefined,
      );
      await env.DB.prepare(`UPDATE deliveries SET enqueued_at = ? WHERE id IN (SELECT value FROM json_each(?))`)
        .bind(new Date().toISOString(), JSON.stringify(ids))
        .run();
      sent += ids.length;
    } catch (error) {
      // The rows stay pending with no enqueued_at; the cron's reconciliation sends them.
      log('warn', 'notify.enqueue_failed', { deliveries: ids.length, ...errorFields(error) });
    }
  }
  return sent;
}
