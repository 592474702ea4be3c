// The queues whose dead ends are parked: each dead-letter queue and the queue it catches for,
// the delivery budget a message spent before it got there, and what each queue's consumer can
// decode at all. The names and budgets mirror wrangler.jsonc (test/node/parked-config.test.ts
// checks them against it).

import { malformedReason } from '../click/ingest';

export const CLICKS_QUEUE = 'clickhop-clicks';
export const NOTIFICATIONS_QUEUE = 'clickhop-notifications';
export type SourceQueue = typeof CLICKS_QUEUE | typeof NOTIFICATIONS_QUEUE;
export const SOURCE_QUEUES: readonly SourceQueue[] = [CLICKS_QUEUE, NOTIFICATIONS_QUEUE];

/** Each dead-letter queue and the queue whose consumer hands it messages. */
export const DEAD_LETTER_SOURCES: Readonly<Record<string, SourceQueue>> = {
  'clickhop-clicks-dlq': CLICKS_QUEUE,
  'clickhop-notifications-dlq': NOTIFICATIONS_QUEUE,
};

/** Deliveries a message got before its queue gave it to the DLQ: max_retries + 1. */
export const DELIVERY_BUDGET: Readonly<Record<SourceQueue, number>> = {
  [CLICKS_QUEUE]: 11,
  [NOTIFICATIONS_QUEUE]: 21,
};

export const isSourceQueue = (name: string): name is SourceQueue => (SOURCE_QUEUES as readonly string[]).includes(name);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Why a body is not a message the queue's consumer can act on, or null when it is one. The
 * envelope only, as the consumers check it (src/click/ingest.ts, src/notify/consumer.ts): a
 * stricter check here would park good messages, a looser one lets the consumer drop bad ones.
 */
export function undecodableReason(queue: SourceQueue, body: unknown): string | null {
  // The clicks consumer's own check, so the two can never disagree.
  if (queue === CLICKS_QUEUE) return malformedReason(body);
  if (!isObject(body))
    return `not a JSON object (${body === null ? 'null' : Array.isArray(body) ? 'array' : typeof body})`;
  if (body.v !== 1) return `unknown message version ${JSON.stringify(body.v) ?? 'undefined'}`;
  if (typeof body.delivery_id !== 'string' || body.delivery_id.length === 0) return 'delivery_id is not a string';
  return null;
}
