// Hands clicks to the clicks Queue without delaying the redirect. Clicks from concurrent
// requests in one isolate are coalesced into one queue message: the request that opens a batch
// owns it (its waitUntil flushes it after a short timer), later requests only add to it. If the
// Queue refuses the message twice, the clicks are stored directly (partition or D1); a click is never
// silently dropped (a failure of both is logged with the count).
import type { ClickRecord } from '../db/clicks';
import { chunkByBudget, jsonBytes } from '../lib/chunks';
import { type HmacSigner, hmacSigner, randomId, toBase64Url } from '../lib/crypto';
import { ipPrefix } from '../lib/ip';
import { errorFields, log } from '../lib/log';
import { QUEUE_MESSAGE_BYTES, QUEUE_METADATA_BYTES } from '../lib/queue-limits';
import type { WaitUntil } from './config';
import { type ClicksMessage, storeClicks } from './ingest';

/**
 * A click before privacy processing: holds the raw IP only in memory, until the flush. The
 * visitor hash is computed there too, unless the redirect needed it already (for the shard).
 */
export interface PendingClick extends Omit<ClickRecord, 'ip_prefix' | 'visitor_hash'> {
  ip: string | null;
  visitor_hash?: string;
}

export const FLUSH_AFTER_MS = 25;
/** The consumer's unit of work: a batch of 100 messages is at most 10,000 clicks. */
const MAX_CLICKS_PER_MESSAGE = 100;
/**
 * Clicks gather in a message while this estimate of its size allows. The estimate is cheap and
 * usually high; what is sent is measured exactly (below).
 */
const MAX_MESSAGE_BYTES = 96 * 1024;
/**
 * The exact JSON size a clicks message may have: a Queue message is at most 128,000 bytes with
 * ~100 bytes of the Queue's metadata (src/lib/queue-limits.ts); a little more is kept back.
 */
export const CLICKS_MESSAGE_BYTES = QUEUE_MESSAGE_BYTES - QUEUE_METADATA_BYTES - 2_000;

interface OpenBatch {
  clicks: PendingClick[];
  bytes: number;
}

let open: OpenBatch | null = null;

export function recordClick(env: Env, ctx: WaitUntil, click: PendingClick): void {
  const size = approximateSize(click);
  if (open && open.clicks.length < MAX_CLICKS_PER_MESSAGE && open.bytes + size <= MAX_MESSAGE_BYTES) {
    open.clicks.push(click);
    open.bytes += size;
    return;
  }
  const batch: OpenBatch = { clicks: [click], bytes: size };
  open = batch;
  ctx.waitUntil(
    scheduler.wait(FLUSH_AFTER_MS).then(() => {
      if (open === batch) open = null;
      return flush(env, batch.clicks);
    }),
  );
}

function approximateSize(click: PendingClick): number {
  let size = 600;
  for (const value of Object.values(click)) if (typeof value === 'string') size += value.length * 3;
  return size;
}

let visitorKey: { secret: string; key: HmacSigner } | undefined;

/** Keyed hash of IP + user agent: stable per visitor, useless without the Worker's secret. */
export function visitorDigest(env: Env, ip: string | null, userAgent: string | null): Uint8Array {
  if (visitorKey?.secret !== env.CLICK_ID_SECRET) {
    visitorKey = { secret: env.CLICK_ID_SECRET, key: hmacSigner(`visitor:${env.CLICK_ID_SECRET}`) };
  }
  const digest = new Uint8Array(16);
  visitorKey.key.macStringInto(`${ip ?? ''}\n${userAgent ?? ''}`, digest, 0, 16);
  return digest;
}

export const visitorHash = (digest: Uint8Array) => toBase64Url(digest);

export function toClickRecords(env: Env, clicks: PendingClick[]): ClickRecord[] {
  return clicks.map(({ ip, visitor_hash, ...click }) => ({
    ...click,
    ip_prefix: ipPrefix(ip),
    visitor_hash: visitor_hash ?? visitorHash(visitorDigest(env, ip, click.user_agent)),
  }));
}

/**
 * The messages that carry `clicks`: one, unless its exact JSON exceeds CLICKS_MESSAGE_BYTES (a
 * click's escaped characters can outgrow the estimate), then as many as needed.
 */
export function clickMessages(clicks: ClickRecord[]): ClicksMessage[] {
  const whole: ClicksMessage = { v: 1, clicks };
  if (jsonBytes(whole) <= CLICKS_MESSAGE_BYTES) return [whole];
  const envelope = jsonBytes({ v: 1, clicks: [] });
  return chunkByBudget(
    clicks,
    { maxBytes: CLICKS_MESSAGE_BYTES, maxCount: MAX_CLICKS_PER_MESSAGE, overhead: envelope },
    (click) => jsonBytes(click) + 1,
  ).map((group) => ({ v: 1, clicks: group }));
}

async function flush(env: Env, pending: PendingClick[]): Promise<void> {
  for (const message of clickMessages(toClickRecords(env, pending))) await send(env, message);
}

async function send(env: Env, message: ClicksMessage): Promise<void> {
  const { clicks } = message;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      await env.CLICKS_QUEUE.send(message, { contentType: 'json' });
      return;
    } catch (error) {
      log('warn', 'clicks.queue_send_failed', { attempt, clicks: clicks.length, ...errorFields(error) });
    }
  }
  try {
    // Partitioned clicks are stored through their partition; rollups counted under a fresh key.
    await storeClicks(env, [{ batchKey: randomId('direct_', 12), clicks }]);
    log('warn', 'clicks.written_directly', { clicks: clicks.length });
  } catch (error) {
    log('error', 'clicks.lost', {
      clicks: clicks.length,
      click_ids: clicks.map((c) => c.click_id),
      ...errorFields(error),
    });
  }
}
