// The clicks Queue consumer: writes every click of a batch to D1 in one transaction and bumps
// the daily rollups. At-least-once safe: INSERT OR IGNORE on the click ID, and the rollup counts
// only rows inserted by this invocation.
import { type ClickRecord, ingestStatements } from '../db/clicks';
import { randomId } from '../lib/crypto';
import { errorFields, log } from '../lib/log';

export interface ClicksMessage {
  v: 1;
  clicks: ClickRecord[];
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

/** Inserts clicks and their rollups in one D1 transaction. */
export async function ingestClicks(db: D1Database, clicks: ClickRecord[]): Promise<void> {
  if (clicks.length === 0) return;
  await db.batch(ingestStatements(db, markFirstInBatch(clicks), randomId('ib_', 12)));
}

/** Backoff for a batch D1 refused: 5 s, 10 s, 20 s ... capped at 10 minutes. */
export const ingestRetryDelay = (attempts: number) => Math.min(600, 5 * 2 ** Math.max(0, attempts - 1));

export async function consumeClicks(batch: MessageBatch<ClicksMessage>, env: Env): Promise<void> {
  const valid = batch.messages.filter((message) => {
    if (message.body?.v === 1 && Array.isArray(message.body.clicks)) return true;
    log('error', 'clicks.malformed_message', { message_id: message.id });
    message.ack();
    return false;
  });
  try {
    await ingestClicks(
      env.DB,
      valid.flatMap((message) => message.body.clicks),
    );
    for (const message of valid) message.ack();
    return;
  } catch (error) {
    log('warn', 'clicks.batch_failed', { messages: valid.length, ...errorFields(error) });
  }
  // One message at a time, so one bad message cannot hold back the others.
  for (const message of valid) {
    try {
      await ingestClicks(env.DB, message.body.clicks);
      message.ack();
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
