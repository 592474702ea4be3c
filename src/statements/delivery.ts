// statement.issued and statement.paid to the publisher's endpoints that subscribe: the event's
// payload is frozen in the outbox row written with the status change; the notifications
// consumer hands messages whose delivery id is a document delivery's to deliverDocument, which
// claims, renders (Clickhop's JSON envelope as JSON, form or XML; Standard Webhooks signature),
// sends and records like a conversion delivery, on the same retry schedule.
import {
  claimDocumentDeliveryStatements,
  DOCUMENT_DELIVERY_PREFIX,
  type DocumentDeliveryWork,
  markDocumentDeliveriesEnqueuedStatement,
  recordDocumentAttemptStatement,
  releaseDocumentDeliveriesStatement,
  unsentDocumentDeliveries,
} from '../db/document-deliveries';
import { disableEndpointStatement } from '../db/endpoints';
import type { DocumentRow } from '../db/statements';
import { errorFields, log } from '../lib/log';
import { formatAmount } from '../lib/money';
import { iso } from '../lib/time';
import { checkDestination } from '../notify/destination';
import type { NotificationMessage } from '../notify/fanout';
import { USER_AGENT } from '../notify/payload';
import { classify, retryDelaySeconds } from '../notify/schedule';
import { SEND_TIMEOUT_MS, sendRequest } from '../notify/send';
import { activeSecrets, signatureHeader } from '../notify/signing';
import { xmlDocument } from '../notify/xml';
import type { StatementEventType } from './kinds';

export const isDocumentDelivery = (deliveryId: string) => deliveryId.startsWith(DOCUMENT_DELIVERY_PREFIX);

/**
 * The event as publishers receive it, Standard Webhooks style: what the statement says to its
 * publisher (id, period, currency, total, line count), never revenue.
 */
export function statementEnvelope(type: StatementEventType, doc: DocumentRow, at: string) {
  return {
    type,
    timestamp: at,
    data: {
      statement_id: doc.id,
      publisher_id: doc.party_id,
      period: doc.period,
      currency: doc.currency,
      total: formatAmount(doc.total, doc.currency),
      line_count: doc.line_count,
      status: doc.status,
      issued_at: doc.issued_at,
      paid_at: doc.paid_at,
      reference: doc.reference,
    },
  };
}

type Envelope = ReturnType<typeof statementEnvelope>;

/** Body and content type for the endpoint's format: JSON, form (flat or one field) or XML. */
export function renderDocumentBody(
  envelope: Envelope,
  endpoint: Pick<DocumentDeliveryWork, 'format' | 'form_field'>,
): { contentType: string; body: string } {
  if (endpoint.format === 'xml') {
    return { contentType: 'application/xml', body: xmlDocument(JSON.parse(JSON.stringify(envelope))) };
  }
  if (endpoint.format === 'form') {
    const fields: [string, string][] = endpoint.form_field
      ? [[endpoint.form_field, JSON.stringify(envelope)]]
      : [
          ['event', envelope.type],
          ['timestamp', envelope.timestamp],
          ...Object.entries(envelope.data).map(([k, v]): [string, string] => [k, v === null ? '' : String(v)]),
        ];
    return { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams(fields).toString() };
  }
  return { contentType: 'application/json', body: JSON.stringify(envelope) };
}

/** Hands deliveries to the notifications Queue (batches of 100) and records when. */
export async function enqueueDocumentDeliveries(env: Env, ids: string[]): Promise<number> {
  let sent = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const part = ids.slice(i, i + 100);
    try {
      await env.NOTIFICATIONS_QUEUE.sendBatch(
        part.map((id) => ({ body: { v: 1, delivery_id: id } satisfies NotificationMessage, contentType: 'json' })),
      );
      await markDocumentDeliveriesEnqueuedStatement(env.DB, part, iso(Date.now())).run();
      sent += part.length;
    } catch (error) {
      // Left pending and unenqueued: reconcileDocumentDeliveries sends them.
      log('warn', 'statements.enqueue_failed', { deliveries: part.length, ...errorFields(error) });
    }
  }
  return sent;
}

/** The cron's safety net: deliveries whose queue message never left or was lost are sent again. */
export async function reconcileDocumentDeliveries(env: Env, now = Date.now()): Promise<number> {
  const ids = await unsentDocumentDeliveries(env.DB, iso(now - 60_000), iso(now - 15 * 60_000), 500);
  if (ids.length === 0) return 0;
  await releaseDocumentDeliveriesStatement(env.DB, ids).run();
  return enqueueDocumentDeliveries(env, ids);
}

type Action = { ack: true } | { ack: false; delaySeconds?: number };

/** One queue message of a document delivery: what to do with the message afterwards. */
export async function deliverDocument(
  message: Message<NotificationMessage>,
  env: Env,
  timeoutMs = SEND_TIMEOUT_MS,
): Promise<Action> {
  const [, loaded] = await env.DB.batch(claimDocumentDeliveryStatements(env.DB, message.body.delivery_id, message.id));
  const work = (loaded?.results[0] as DocumentDeliveryWork | undefined) ?? null;
  if (!work || work.message_id !== message.id || (work.status !== 'pending' && work.status !== 'retrying')) {
    return { ack: true };
  }
  const started = Date.now();
  const startedAt = iso(started);
  const attempt = work.attempts + 1;
  const record = async (
    status: DocumentDeliveryWork['status'],
    statusCode: number | null,
    error: string | null,
    nextAttemptAt: string | null,
    disable = false,
  ) => {
    const now = iso(Date.now());
    const statements = [
      recordDocumentAttemptStatement(
        env.DB,
        work.id,
        {
          attempts: attempt,
          status,
          nextAttemptAt,
          startedAt,
          statusCode,
          error,
          deliveredAt: status === 'delivered' ? now : null,
        },
        now,
      ),
    ];
    if (disable) {
      statements.push(disableEndpointStatement(env.DB, work.endpoint_id, `410 Gone at ${now}`, now));
    }
    await env.DB.batch(statements);
  };
  if (work.endpoint_status !== 'active') {
    await record('dead', null, 'endpoint disabled', null);
    return { ack: true };
  }
  const destination = checkDestination(work.url, env);
  if (!destination.ok) {
    await record('dead', null, `destination refused: URL ${destination.reason}`, null);
    return { ack: true };
  }
  const envelope = JSON.parse(work.payload) as Envelope;
  const rendered = renderDocumentBody(envelope, work);
  const timestamp = Math.floor(started / 1000);
  const headers: Record<string, string> = {
    'content-type': rendered.contentType,
    'user-agent': USER_AGENT,
    'webhook-id': work.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signatureHeader(activeSecrets(work, startedAt), work.id, timestamp, rendered.body),
  };
  // Statement events always go as a signed POST: a GET endpoint's URL macros describe a conversion.
  const outcome = await sendRequest({ method: 'POST', url: work.url, headers, body: rendered.body }, timeoutMs);
  const verdict = classify(outcome, message.attempts, Date.now());
  log(verdict.kind === 'delivered' ? 'info' : 'warn', 'statements.delivery_attempt', {
    delivery_id: work.id,
    endpoint_id: work.endpoint_id,
    attempt,
    status_code: outcome.status,
    outcome: verdict.kind,
  });
  if (verdict.kind === 'delivered') {
    await record('delivered', outcome.status, outcome.error, null);
    return { ack: true };
  }
  if (verdict.kind === 'retry') {
    const next = iso(Date.now() + verdict.delaySeconds * 1000);
    await record('retrying', outcome.status, verdict.error, next);
    return { ack: false, delaySeconds: verdict.delaySeconds };
  }
  await record('dead', outcome.status, verdict.error, null, verdict.disableEndpoint);
  return verdict.deadLetter ? { ack: false } : { ack: true };
}

/** The consumer's entry for a document delivery message: never throws (D1 failures retry it). */
export async function consumeDocumentMessage(
  message: Message<NotificationMessage>,
  env: Env,
  timeoutMs?: number,
): Promise<void> {
  let action: Action;
  try {
    action = await deliverDocument(message, env, timeoutMs);
  } catch (error) {
    log('error', 'statements.delivery_failed', { delivery_id: message.body.delivery_id, ...errorFields(error) });
    action = { ack: false, delaySeconds: retryDelaySeconds(message.attempts) };
  }
  if (action.ack) message.ack();
  else message.retry(action.delaySeconds === undefined ? undefined : { delaySeconds: action.delaySeconds });
}
