// The notifications Queue consumer. Each message wakes one delivery: claim it for this message,
// render, check the destination, send, record the attempt, then acknowledge, retry with the
// schedule's delay, or let the message go to the dead-letter queue. Messages of a batch are
// delivered concurrently. Nothing is acknowledged before its outcome is in D1: if recording
// fails, the message is retried (the publisher may see the same webhook-id twice, never zero).

import { endpointAudience, snapshotFor } from '../auth/money-view';
import type { ConversionSnapshot } from '../conversions/snapshot';
import {
  claimDelivery,
  type DeliveryResult,
  type DeliveryWork,
  getDeliveryProgress,
  markDeadStatement,
  recordAttemptOnDeliveryStatement,
} from '../db/deliveries';
import { type AttemptRecord, insertAttemptStatement } from '../db/delivery-attempts';
import { disableEndpointStatement } from '../db/endpoints';
import { errorFields, log } from '../lib/log';
import { consumeDocumentMessage, isDocumentDelivery } from '../statements/delivery';
import { checkDestination } from './destination';
import type { NotificationMessage } from './fanout';
import { buildRequest } from './payload';
import { classify, MAX_ATTEMPTS, retryDelaySeconds, type Verdict } from './schedule';
import { SEND_TIMEOUT_MS, sendRequest } from './send';
import { activeSecrets } from './signing';
import type { CommissionGroup } from './snapshot-fields';

export const NOTIFICATIONS_QUEUE_NAME = 'clickhop-notifications';

export interface ConsumerOptions {
  /** Per-attempt time limit; tests lower it. */
  timeoutMs?: number;
  /** Waits between in-place retries of a failed D1 write before giving the message back. */
  recordRetryWaitsMs?: number[];
}

type Action = { ack: true } | { ack: false; delaySeconds?: number };

/** A delivery's state after an attempt, and the endpoint to disable when it answered 410 Gone. */
type AttemptOutcome = DeliveryResult & { disableEndpoint?: { id: number; reason: string } };

const ACK: Action = { ack: true };

export async function consumeNotifications(
  batch: MessageBatch<NotificationMessage>,
  env: Env,
  options: ConsumerOptions = {},
): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      // statement.issued / statement.paid have their own outbox (src/statements/delivery.ts).
      const id = message.body?.delivery_id;
      if (typeof id === 'string' && isDocumentDelivery(id))
        return consumeDocumentMessage(message, env, options.timeoutMs);
      let action: Action;
      try {
        action = await deliverMessage(message, env, options);
      } catch (error) {
        // D1 (claim, load or recording) failed: nothing was acknowledged, try the message later.
        log('error', 'notify.message_failed', {
          message_id: message.id,
          delivery_id: message.body?.delivery_id,
          attempts: message.attempts,
          ...errorFields(error),
        });
        action = { ack: false, delaySeconds: retryDelaySeconds(message.attempts) };
      }
      if (action.ack) message.ack();
      else message.retry(action.delaySeconds === undefined ? undefined : { delaySeconds: action.delaySeconds });
    }),
  );
}

async function deliverMessage(
  message: Message<NotificationMessage>,
  env: Env,
  options: ConsumerOptions,
): Promise<Action> {
  const body = message.body;
  if (body?.v !== 1 || typeof body.delivery_id !== 'string') {
    log('error', 'notify.malformed_message', { message_id: message.id });
    return ACK;
  }
  const work = await claimDelivery(env.DB, body.delivery_id, message.id);
  if (!work) {
    log('warn', 'notify.unknown_delivery', { delivery_id: body.delivery_id });
    return ACK;
  }
  const owned = work.message_id === message.id;
  if (!owned || (work.status !== 'pending' && work.status !== 'retrying')) {
    // A finished delivery, or one another message carries: this message is a duplicate. The
    // owner of a delivery that went dead after its last attempt goes on to the DLQ.
    if (owned && work.status === 'dead' && message.attempts >= MAX_ATTEMPTS) return { ack: false };
    return ACK;
  }
  const now = new Date();
  if (work.endpoint_status !== 'active') {
    await env.DB.batch([markDeadStatement(env.DB, work.id, 'endpoint disabled', now.toISOString())]);
    return ACK;
  }
  return attempt(work, message, env, options, now);
}

async function attempt(
  work: DeliveryWork,
  message: Message<NotificationMessage>,
  env: Env,
  options: ConsumerOptions,
  now: Date,
): Promise<Action> {
  const startedAt = now.toISOString();
  const number = work.attempts + 1;
  const endpoint = {
    url: work.url,
    method: work.method,
    format: work.format,
    form_field: work.form_field,
    preset: work.preset,
    body_template: work.body_template,
    include_products: work.include_products === 1,
    include_click_data: work.include_click_data === 1,
  };
  let request: Awaited<ReturnType<typeof buildRequest>>;
  try {
    request = await buildRequest(
      endpoint,
      // The snapshot as the endpoint's audience may see it: a publisher's endpoint never renders revenue.
      snapshotFor(endpointAudience(work.saved_by), JSON.parse(work.snapshot) as ConversionSnapshot),
      {
        webhookId: work.id,
        timestamp: Math.floor(now.getTime() / 1000),
        secrets: activeSecrets(work, startedAt),
      },
      JSON.parse(work.commission_groups ?? '[]') as CommissionGroup[],
    );
  } catch (error) {
    const record = baseRecord(work, number, startedAt, endpoint.method, work.url);
    record.error = `could not render: ${errorFields(error).error}`;
    return deadWithoutSending(env, options, record, work, 'render_failed');
  }

  const record = baseRecord(work, number, startedAt, request.method, request.url);
  const destination = checkDestination(request.url, env);
  if (!destination.ok) {
    record.error = `destination refused: URL ${destination.reason}`;
    return deadWithoutSending(env, options, record, work, 'destination_refused');
  }

  const outcome = await sendRequest(request, options.timeoutMs ?? SEND_TIMEOUT_MS);
  const verdict = classify(outcome, message.attempts, Date.now());
  record.statusCode = outcome.status;
  record.latencyMs = outcome.latencyMs;
  record.snippet = outcome.snippet;
  record.error = verdict.kind === 'delivered' ? outcome.error : verdict.error;
  log(verdict.kind === 'delivered' ? 'info' : 'warn', 'notify.attempt', {
    delivery_id: work.id,
    endpoint_id: work.endpoint_id,
    attempt: number,
    message_attempt: message.attempts,
    status_code: outcome.status,
    latency_ms: outcome.latencyMs,
    outcome: verdict.kind,
  });
  return finish(env, options, record, verdict, work);
}

/** A delivery that cannot be sent at all: recorded dead at once, and said in the log (no URL). */
function deadWithoutSending(
  env: Env,
  options: ConsumerOptions,
  record: AttemptRecord,
  work: DeliveryWork,
  reason: 'render_failed' | 'destination_refused',
): Promise<Action> {
  log('warn', 'notify.attempt', {
    delivery_id: work.id,
    endpoint_id: work.endpoint_id,
    attempt: record.attempt,
    outcome: 'dead',
    reason,
  });
  return finish(
    env,
    options,
    record,
    { kind: 'dead', error: record.error ?? reason, deadLetter: false, disableEndpoint: false },
    work,
  );
}

function baseRecord(
  work: DeliveryWork,
  attempt: number,
  startedAt: string,
  method: string,
  url: string,
): AttemptRecord {
  return {
    deliveryId: work.id,
    attempt,
    startedAt,
    method,
    url,
    statusCode: null,
    latencyMs: null,
    snippet: null,
    error: null,
  };
}

/** Writes the attempt and the delivery's new state, then says what to do with the message. */
async function finish(
  env: Env,
  options: ConsumerOptions,
  record: AttemptRecord,
  verdict: Verdict,
  work: DeliveryWork,
): Promise<Action> {
  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const result: AttemptOutcome =
    verdict.kind === 'delivered'
      ? { status: 'delivered', nextAttemptAt: null, deliveredAt: now }
      : verdict.kind === 'retry'
        ? {
            status: 'retrying',
            nextAttemptAt: new Date(nowMs + verdict.delaySeconds * 1000).toISOString(),
            deliveredAt: null,
          }
        : {
            status: 'dead',
            nextAttemptAt: null,
            deliveredAt: null,
            disableEndpoint: verdict.disableEndpoint
              ? { id: work.endpoint_id, reason: `410 Gone from ${record.url.slice(0, 500)} at ${now}` }
              : undefined,
          };
  const results = await withRetries(options.recordRetryWaitsMs ?? [50, 250], () =>
    env.DB.batch(recordAttemptStatements(env.DB, record, result, now)),
  );
  if ((results[1]?.meta.changes ?? 0) === 0 && !(await recordedByThisAttempt(env.DB, record))) {
    // Someone recorded this attempt number first (a reconciliation re-send raced this one); the
    // delivery's retry chain is theirs now.
    log('warn', 'notify.attempt_superseded', { delivery_id: work.id, attempt: record.attempt });
    return ACK;
  }
  if (result.disableEndpoint) {
    log('warn', 'notify.endpoint_disabled', { endpoint_id: work.endpoint_id, delivery_id: work.id });
  }
  if (verdict.kind === 'delivered') return ACK;
  if (verdict.kind === 'retry') return { ack: false, delaySeconds: verdict.delaySeconds };
  return verdict.deadLetter ? { ack: false } : ACK;
}

/**
 * One attempt and its effect, for one batch: the attempt row, the delivery's new state (second:
 * its change count tells whether this attempt was the one recorded), and the endpoint disabled.
 */
function recordAttemptStatements(
  db: D1Database,
  record: AttemptRecord,
  result: AttemptOutcome,
  now: string,
): D1PreparedStatement[] {
  const statements = [insertAttemptStatement(db, record), recordAttemptOnDeliveryStatement(db, record, result, now)];
  if (result.disableEndpoint) {
    statements.push(disableEndpointStatement(db, result.disableEndpoint.id, result.disableEndpoint.reason, now));
  }
  return statements;
}

/** True when a write that reported no change had in fact landed (an in-place retry replayed it). */
async function recordedByThisAttempt(db: D1Database, record: AttemptRecord): Promise<boolean> {
  const row = await getDeliveryProgress(db, record.deliveryId);
  return row?.attempts === record.attempt && row.last_attempt_at === record.startedAt;
}

async function withRetries<T>(waitsMs: number[], task: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await task();
    } catch (error) {
      const wait = waitsMs[i];
      if (wait === undefined) throw error;
      log('warn', 'notify.record_retry', errorFields(error));
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
