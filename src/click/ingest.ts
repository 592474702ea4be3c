// The clicks Queue consumer: writes the clicks of a batch to their partitions (v2 IDs, see
// src/clicks) or, for v1 IDs, to D1 in one transaction, and bumps the daily rollups.
// At-least-once safe: partitions store a click ID once, and rollups are counted once per message
// (partitions) or only for rows inserted by this invocation (D1). Once stored, conversions that
// were waiting for these clicks are completed (src/clicks/completion.ts); a message may also
// carry conversions whose wait for their click is over (`settle`).
import { completeWaitingConversions, settleDueConversions } from '../clicks/completion';
import { type ClickGroup, type RowsWritten, splitByStore, storePartitionedClicks } from '../clicks/store';
import { type ClickRecord, ingestStatements } from '../db/clicks';
import { countImpressionsOnce, type ImpressionCount } from '../db/impressions';
import { randomId } from '../lib/crypto';
import { errorFields, log } from '../lib/log';
import { checkClickCaps } from '../terms/click-caps';

export interface ClicksMessage {
  v: 1;
  clicks: ClickRecord[];
  /** Conversion ids to settle once their wait for the click is over (sent with a delay). */
  settle?: string[];
  /** Impressions counted in an isolate (src/browser/impressions.ts): added to the rollups once. */
  impressions?: ImpressionCount[];
}

const DAY_MS = 86_400_000;

/** Marks, per visitor/offer/publisher, which clicks of this batch no earlier one in it covers. */
function markFirstInBatch(clicks: ClickRecord[]) {
  const sorted = [...clicks].sort((a, b) => (a.clicked_at < b.clicked_at ? -1 : a.clicked_at > b.clicked_at ? 1 : 0));
  const lastSeen = new Map<string, number>();
  return sorted.map((click) => {
    const key = `${click.offer_id}/${click.publisher_id}/${click.visitor_hash}`;
    const at = Date.parse(click.clicked_at);
    const previous = lastSeen.get(key);
    let first: 0 | 1 = 1;
    if (click.is_bot) first = 0;
    else {
      if (previous !== undefined && at - previous < DAY_MS) first = 0;
      lastSeen.set(key, at);
    }
    return { ...click, first_in_batch: first };
  });
}

/** Inserts clicks and their rollups in one D1 transaction; returns rows written. */
export async function ingestClicks(db: D1Database, clicks: ClickRecord[]): Promise<number> {
  if (clicks.length === 0) return 0;
  const results = await db.batch(ingestStatements(db, markFirstInBatch(clicks), randomId('ib_', 12)));
  return results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0);
}

/** Stores groups of clicks, each with the batch key its rollups are counted once under. */
export async function storeClicks(env: Env, groups: ClickGroup[]): Promise<RowsWritten> {
  const { partitioned, legacy } = splitByStore(groups);
  const [legacyRows, rows] = await Promise.all([
    ingestClicks(env.DB, legacy),
    partitioned.length > 0 ? storePartitionedClicks(env, partitioned) : { partition: 0, d1: 0 },
  ]);
  try {
    await completeWaitingConversions(
      env,
      groups.flatMap((g) => g.clicks),
    );
  } catch (error) {
    // The clicks are stored: the sweep finds them when the conversions' wait ends.
    log('warn', 'clicks.completion_failed', errorFields(error));
  }
  return { partition: rows.partition, d1: rows.d1 + legacyRows };
}

/**
 * Acks a stored message once the conversions it names are settled; retries it (its clicks are
 * stored again as no-ops) if some are not due yet or settling failed. Never throws.
 */
async function settleAndAck(env: Env, message: Message<ClicksMessage>, settle: string[]): Promise<void> {
  if (settle.length === 0) return message.ack();
  try {
    const { notDue } = await settleDueConversions(env, Date.now(), settle);
    if (notDue.length === 0) return message.ack();
  } catch (error) {
    log('warn', 'clicks.settle_failed', { message_id: message.id, ...errorFields(error) });
  }
  message.retry({ delaySeconds: 30 });
}

/** Backoff for a batch D1 refused: 5 s, 10 s, 20 s ... capped at 10 minutes. */
export const ingestRetryDelay = (attempts: number) => Math.min(600, 5 * 2 ** Math.max(0, attempts - 1));

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The fields the insert and the uniqueness decision depend on. A click without them could never
 * be written (or would make the whole statement fail), so it is dropped and logged instead of
 * holding its message in retries until the dead-letter queue takes the good clicks with it.
 */
function isClickRecord(value: unknown): value is ClickRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const click = value as Record<string, unknown>;
  return (
    typeof click.click_id === 'string' &&
    click.click_id.length > 0 &&
    typeof click.clicked_at === 'string' &&
    ISO_TIME.test(click.clicked_at) &&
    Number.isSafeInteger(click.offer_id) &&
    Number.isSafeInteger(click.publisher_id) &&
    typeof click.visitor_hash === 'string' &&
    (click.is_bot === 0 || click.is_bot === 1)
  );
}

const isIdList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((id) => typeof id === 'string');

const isImpressionCount = (value: unknown): value is ImpressionCount => {
  const c = value as Partial<ImpressionCount> | null;
  return (
    typeof c?.day === 'string' &&
    /^\d{4}-\d\d-\d\d$/.test(c.day) &&
    Number.isSafeInteger(c.quarter) &&
    Number.isSafeInteger(c.offer_id) &&
    Number.isSafeInteger(c.publisher_id) &&
    Number.isSafeInteger(c.impressions) &&
    (c.impressions as number) > 0
  );
};

/** The impressions of some messages, each counted once under its message id. */
const storeImpressions = (env: Env, messages: { message: Message<ClicksMessage>; impressions: ImpressionCount[] }[]) =>
  countImpressionsOnce(
    env.DB,
    messages.map(({ message, impressions }) => ({ batchKey: `imp:${message.id}`, counts: impressions })),
  );

/** Why a message body is not a clicks message (null when it is one). */
export function malformedReason(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return `not a JSON object (${body === null ? 'null' : Array.isArray(body) ? 'array' : typeof body})`;
  }
  const message = body as Partial<ClicksMessage>;
  if (message.v !== 1) return `unknown message version ${JSON.stringify(message.v) ?? 'undefined'}`;
  if (!Array.isArray(message.clicks)) return 'clicks is not a list';
  if (message.settle !== undefined && !isIdList(message.settle)) return 'settle is not a list of ids';
  return null;
}

/**
 * Failure is bounded at every level: a message that cannot be decoded is acknowledged at once
 * (retrying cannot make it readable); clicks that lack a field are dropped from their message;
 * a batch whose one write fails is written again message by message, and a message that still
 * fails is retried with backoff by the Queue at most max_retries times (wrangler.jsonc), then
 * goes to the dead-letter queue. Writes are split under every platform limit before they are
 * sent (docs/capacity.md), so a size limit is not among the failures a retry would repeat.
 */
export async function consumeClicks(batch: MessageBatch<ClicksMessage>, env: Env): Promise<void> {
  const valid: {
    message: Message<ClicksMessage>;
    clicks: ClickRecord[];
    settle: string[];
    impressions: ImpressionCount[];
  }[] = [];
  for (const message of batch.messages) {
    const reason = malformedReason(message.body);
    if (reason !== null) {
      log('error', 'clicks.malformed_message', { message_id: message.id, attempts: message.attempts, reason });
      message.ack();
      continue;
    }
    const body = message.body;
    const clicks = body.clicks.filter(isClickRecord);
    if (clicks.length < body.clicks.length) {
      log('error', 'clicks.malformed_clicks', { message_id: message.id, dropped: body.clicks.length - clicks.length });
    }
    const impressions = Array.isArray(body.impressions) ? body.impressions.filter(isImpressionCount) : [];
    valid.push({ message, clicks, settle: body.settle ?? [], impressions });
  }
  try {
    // The message id is stable across redeliveries: the key rollups are counted once under.
    const rows = await storeClicks(
      env,
      valid.map(({ message, clicks }) => ({ batchKey: message.id, clicks })),
    );
    await storeImpressions(env, valid);
    // Rows written are what storage bills (docs/capacity.md, price per million clicks).
    log('info', 'clicks.stored', {
      messages: valid.length,
      clicks: valid.reduce((n, v) => n + v.clicks.length, 0),
      partition_rows_written: rows.partition,
      d1_rows_written: rows.d1,
    });
    for (const { message, settle } of valid) await settleAndAck(env, message, settle);
    // Click caps met by these clicks close their offers at the edge (never throws).
    await checkClickCaps(
      env,
      valid.flatMap(({ clicks }) => clicks.map((click) => click.offer_id)),
    );
    return;
  } catch (error) {
    log('warn', 'clicks.batch_failed', { messages: valid.length, ...errorFields(error) });
  }
  // One message at a time, so one bad message cannot hold back the others.
  for (const { message, clicks, settle, impressions } of valid) {
    try {
      await storeClicks(env, [{ batchKey: message.id, clicks }]);
      await storeImpressions(env, [{ message, impressions }]);
      await settleAndAck(env, message, settle);
    } catch (error) {
      log('error', 'clicks.message_failed', {
        message_id: message.id,
        attempts: message.attempts,
        ...errorFields(error),
      });
      message.retry({ delaySeconds: ingestRetryDelay(message.attempts) });
    }
  }
}
