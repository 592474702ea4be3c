// The operator's retry of a parked message: it goes back to the queue it came from, once. A
// click message is re-sent as it was (the consumer writes each click once, whatever the number
// of deliveries). A notification message names a delivery the consumer has already marked dead,
// so that delivery is reopened first, as a resend from the delivery log does; one that is
// delivered or still under way needs nothing, and the parked copy is closed without a send.
import { getDelivery, reopenDelivery } from '../db/deliveries';
import { getEndpoint } from '../db/endpoints';
import { getParked, markRetried, type ParkedRow, unmarkRetried } from '../db/parked';
import { ApiError, notFound } from '../lib/errors';
import { errorFields, log } from '../lib/log';
import { nowIso } from '../lib/time';
import { type NotificationMessage, sendDeliveryMessages } from '../notify';
import { CLICKS_QUEUE, isSourceQueue, NOTIFICATIONS_QUEUE } from './queues';

export const RETRY_OUTCOMES = ['resent', 'already_delivered', 'in_progress'] as const;
export type RetryOutcome = (typeof RETRY_OUTCOMES)[number];

export interface RetryResult {
  parked: ParkedRow;
  outcome: RetryOutcome;
}

/** The outcome of a notification message's retry, once its row is claimed. */
async function retryNotification(env: Env, body: NotificationMessage): Promise<RetryOutcome> {
  const delivery = await getDelivery(env.DB, body.delivery_id);
  if (!delivery) throw new ApiError(409, 'delivery_missing', `Delivery ${body.delivery_id} does not exist`);
  if (delivery.status === 'delivered') return 'already_delivered';
  // Pending or retrying: a message of its own is on the way (the cron re-sends a lost one).
  if (delivery.status !== 'dead') return 'in_progress';
  const endpoint = await getEndpoint(env.DB, delivery.endpoint_id);
  if (endpoint?.status !== 'active') {
    throw new ApiError(409, 'endpoint_disabled', 'The endpoint is disabled; enable it before retrying');
  }
  if (!(await reopenDelivery(env.DB, delivery.id, nowIso()))) return 'in_progress';
  // If the Queue refuses now, the delivery stays pending and the cron's reconciliation sends it.
  await sendDeliveryMessages(env, [delivery.id]);
  return 'resent';
}

export async function retryParked(env: Env, id: string): Promise<RetryResult> {
  const current = await getParked(env.DB, id);
  if (!current) throw notFound('Parked message');
  if (current.status !== 'parked') {
    throw new ApiError(409, 'not_parked', 'This message was retried already; it is parked again if it fails again');
  }
  if (current.reason === 'undecodable' || current.body_encoding !== 'json' || !isSourceQueue(current.queue)) {
    throw new ApiError(409, 'not_retryable', `No consumer can read this message (${current.error ?? current.reason})`);
  }
  const claimed = await markRetried(env.DB, id, nowIso());
  if (!claimed) throw new ApiError(409, 'not_parked', 'This message is being retried right now');
  try {
    const body: unknown = JSON.parse(claimed.body);
    let outcome: RetryOutcome = 'resent';
    if (claimed.queue === CLICKS_QUEUE) await env.CLICKS_QUEUE.send(body, { contentType: 'json' });
    else if (claimed.queue === NOTIFICATIONS_QUEUE) outcome = await retryNotification(env, body as NotificationMessage);
    log('info', 'queue.parked_retried', { parked_id: id, queue: claimed.queue, outcome });
    return { parked: claimed, outcome };
  } catch (error) {
    // Nothing was re-sent: the message waits again for the next retry.
    await unmarkRetried(env.DB, id);
    if (error instanceof ApiError) throw error;
    log('error', 'queue.parked_retry_failed', { parked_id: id, queue: claimed.queue, ...errorFields(error) });
    throw new ApiError(503, 'queue_unavailable', 'The queue refused the message; nothing was sent, try again');
  }
}
