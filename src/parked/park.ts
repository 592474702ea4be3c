// Parking: a queue message that reached a dead end is written to D1 (parked_messages) before it
// is acknowledged, so nothing expires unseen in a queue. Two ways in: the consumer of each
// dead-letter queue parks everything it gets, and the main queues' dispatch parks a poison
// message (a body its consumer cannot decode) before the consumer acknowledges it.
import { type BodyEncoding, type NewParked, type ParkedReason, parkStatement } from '../db/parked';
import { randomId, sha256Hex } from '../lib/crypto';
import { errorFields, log } from '../lib/log';
import { nowIso } from '../lib/time';
import { DEAD_LETTER_SOURCES, DELIVERY_BUDGET, type SourceQueue, undecodableReason } from './queues';

/**
 * Longest body kept. A queue message is at most 128 KB (about 171 KB as base64), so nothing the
 * queues deliver today comes near it; the bound keeps a row inside D1's 2 MB per value and row
 * whatever a future producer sends.
 */
export const MAX_BODY_CHARS = 1_000_000;
/** Longest error text kept (D1 rows stay small; the log line has the rest). */
const MAX_ERROR_CHARS = 1000;

interface EncodedBody {
  body: string;
  encoding: BodyEncoding;
  /** Why the body could not be kept as sent (then it cannot be re-sent either). */
  problem: string | null;
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function describe(body: unknown): string {
  try {
    return String(body);
  } catch {
    return typeof body;
  }
}

function asText(body: unknown): EncodedBody {
  if (typeof body === 'string') return { body, encoding: 'text', problem: null };
  if (body instanceof ArrayBuffer) return { body: base64(new Uint8Array(body)), encoding: 'bytes', problem: null };
  if (ArrayBuffer.isView(body)) {
    const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    return { body: base64(bytes), encoding: 'bytes', problem: null };
  }
  try {
    const text = JSON.stringify(body);
    if (text !== undefined) return { body: text, encoding: 'json', problem: null };
    return { body: describe(body), encoding: 'text', problem: `not JSON (${typeof body})` };
  } catch (error) {
    return { body: describe(body), encoding: 'text', problem: `not JSON: ${errorFields(error).error}` };
  }
}

/** The body as text the row can hold: JSON as sent, a string, or bytes as base64. */
export function encodeBody(body: unknown): EncodedBody {
  const encoded = asText(body);
  if (encoded.body.length <= MAX_BODY_CHARS) return encoded;
  return {
    body: encoded.body.slice(0, MAX_BODY_CHARS),
    encoding: 'text',
    problem: `body of ${encoded.body.length} characters cut to ${MAX_BODY_CHARS}`,
  };
}

interface Dead {
  message: Message<unknown>;
  reason: ParkedReason;
  error: string;
  attempts: number;
}

async function parkedRow(queue: SourceQueue, dead: Dead, now: string): Promise<NewParked> {
  const encoded = encodeBody(dead.message.body);
  const reason: ParkedReason = encoded.problem ? 'undecodable' : dead.reason;
  const error = encoded.problem ? `${encoded.problem}; ${dead.error}` : dead.error;
  return {
    id: randomId('pkd_', 12),
    queue,
    body: encoded.body,
    body_encoding: encoded.encoding,
    // The same body under another encoding is another message.
    body_hash: await sha256Hex(`${encoded.encoding}:${encoded.body}`),
    reason,
    error: error.slice(0, MAX_ERROR_CHARS),
    attempts: dead.attempts,
    message_id: dead.message.id,
    parked_at: now,
  };
}

/** Writes the rows of these messages in one D1 transaction; throws when D1 refuses. */
async function park(env: Env, queue: SourceQueue, dead: Dead[]): Promise<void> {
  const now = nowIso();
  const rows = await Promise.all(dead.map((d) => parkedRow(queue, d, now)));
  await env.DB.batch(rows.map((row) => parkStatement(env.DB, row)));
  for (const row of rows) {
    log('warn', 'queue.parked', {
      queue,
      message_id: row.message_id,
      parked_id: row.id,
      reason: row.reason,
      attempts: row.attempts,
    });
  }
}

/** Backoff while D1 refuses to park: 30 s doubling to an hour (max_retries in wrangler.jsonc bounds it). */
export const parkRetryDelay = (attempts: number) => Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));

/** The consumer of a dead-letter queue: parks every message, acknowledging each once it is in D1. */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const queue = Object.hasOwn(DEAD_LETTER_SOURCES, batch.queue) ? DEAD_LETTER_SOURCES[batch.queue] : undefined;
  if (!queue) throw new Error(`${batch.queue} is not a dead-letter queue`);
  const dead = batch.messages.map((message): Dead => {
    const undecodable = undecodableReason(queue, message.body);
    return {
      message,
      reason: undecodable ? 'undecodable' : 'retries_exhausted',
      error: undecodable ?? `the ${queue} consumer gave up after ${DELIVERY_BUDGET[queue]} deliveries`,
      attempts: DELIVERY_BUDGET[queue],
    };
  });
  try {
    await park(env, queue, dead);
  } catch (error) {
    log('error', 'queue.park_failed', { queue: batch.queue, messages: dead.length, ...errorFields(error) });
    for (const { message } of dead) message.retry({ delaySeconds: parkRetryDelay(message.attempts) });
    return;
  }
  for (const { message } of dead) message.ack();
}

/**
 * Parks the poison messages of a main queue's batch, which its consumer acknowledges and drops,
 * and answers the batch the consumer should get: all of it once they are parked; without them
 * (retried, so they come back or reach the DLQ) when D1 refused to park them.
 */
export async function parkPoison<T>(batch: MessageBatch<T>, env: Env, queue: SourceQueue): Promise<MessageBatch<T>> {
  const poison: Dead[] = [];
  for (const message of batch.messages) {
    const undecodable = undecodableReason(queue, message.body);
    if (undecodable) poison.push({ message, reason: 'undecodable', error: undecodable, attempts: message.attempts });
  }
  if (poison.length === 0) return batch;
  try {
    await park(env, queue, poison);
    return batch;
  } catch (error) {
    log('error', 'queue.park_failed', { queue, messages: poison.length, ...errorFields(error) });
  }
  for (const { message } of poison) message.retry({ delaySeconds: parkRetryDelay(message.attempts) });
  const kept = batch.messages.filter((message) => !poison.some((p) => p.message === message));
  return {
    queue: batch.queue,
    metadata: batch.metadata,
    messages: kept,
    retryAll: (options) => {
      for (const message of kept) message.retry(options);
    },
    ackAll: () => {
      for (const message of kept) message.ack();
    },
  };
}
