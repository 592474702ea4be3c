// From a conversion event to deliveries: one delivery row per matching active endpoint of the
// conversion's publisher, written in the same D1 transaction as the event (outbox), then one
// notifications-Queue message per delivery. A message that could not be sent is found later by
// the cron (deliveries still 'pending' with no enqueued_at) and sent then.
import { insertDeliveriesForEventStatement, markEnqueued, unenqueuedDeliveriesOfEvents } from '../db/deliveries';
import { randomId } from '../lib/crypto';
import { errorFields, log } from '../lib/log';
import { sendBatches } from '../lib/queue-limits';

export interface NotificationMessage {
  v: 1;
  delivery_id: string;
}

/**
 * Statements to run in the same batch that inserts the conversion_events row `event.id`; each
 * returns the ids of the deliveries it created. Delivery ids are random ('dlv_...') and become
 * the webhook-id of every attempt.
 */
export function deliveryStatements(
  db: D1Database,
  event: { id: string; conversion_id: string; type: string; offer_id: number; publisher_id: number },
  now: string,
): D1PreparedStatement[] {
  return [insertDeliveriesForEventStatement(db, randomId('dlv_', 12), event, now)];
}

/** Sends one queue message per not-yet-enqueued delivery of these events; marks them enqueued. */
export async function enqueueDeliveries(env: Env, eventIds: string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  return sendDeliveryMessages(env, await unenqueuedDeliveriesOfEvents(env.DB, eventIds));
}

/**
 * Hands deliveries to the notifications Queue and records when, one sendBatch per group within
 * the Queue's limits (100 messages, 256 KB; src/lib/queue-limits.ts) and its markEnqueued.
 */
export async function sendDeliveryMessages(env: Env, deliveryIds: string[], delaySeconds = 0): Promise<number> {
  let sent = 0;
  const messages = deliveryIds.map((id) => ({
    body: { v: 1, delivery_id: id } satisfies NotificationMessage,
    contentType: 'json' as const,
  }));
  for (const group of sendBatches(messages)) {
    const ids = group.map((message) => message.body.delivery_id);
    try {
      await env.NOTIFICATIONS_QUEUE.sendBatch(group, delaySeconds > 0 ? { delaySeconds } : undefined);
      await markEnqueued(env.DB, ids, new Date().toISOString());
      sent += ids.length;
    } catch (error) {
      // The rows stay pending with no enqueued_at; the cron's reconciliation sends them.
      log('warn', 'notify.enqueue_failed', { deliveries: ids.length, ...errorFields(error) });
    }
  }
  return sent;
}
