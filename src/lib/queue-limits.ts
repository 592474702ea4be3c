// What one Queues call may carry (Queues limits page, developers.cloudflare.com, read
// 2026-12-08), and the split of a list of messages into sendBatch calls that respect it.
import { chunkByBudget, jsonBytes } from './chunks';

/** A message may be 128 KB, 1 KB being 1,000 bytes, including the Queue's own metadata. */
export const QUEUE_MESSAGE_BYTES = 128_000;
/** "Messages can include up to ~100 bytes of internal metadata that counts towards total message limits." */
export const QUEUE_METADATA_BYTES = 100;
/** sendBatch takes at most 100 messages ... */
export const QUEUE_BATCH_MESSAGES = 100;
/** ... and 256 KB in all. */
export const QUEUE_BATCH_BYTES = 256_000;

/** Bytes a JSON message counts against the limits: its body and the metadata. */
export const jsonMessageBytes = (body: unknown): number => jsonBytes(body) + QUEUE_METADATA_BYTES;

/** Groups JSON messages into sendBatch calls within the count and total-size limits. */
export function sendBatches<T>(messages: readonly MessageSendRequest<T>[]): MessageSendRequest<T>[][] {
  return chunkByBudget(messages, { maxBytes: QUEUE_BATCH_BYTES, maxCount: QUEUE_BATCH_MESSAGES }, (message) =>
    jsonMessageBytes(message.body),
  );
}
