// Impressions: GET /i/:offerId/:publisherId and TUNE's /aff_i?offer_id=&aff_id= answer a GIF
// and count one impression in the rollups. Nothing is stored per impression: counts are summed
// per offer, publisher and quarter inside the isolate, and the request that opens a batch hands
// them to the clicks Queue as one message after a short timer (as src/click/record.ts does for
// clicks); the consumer adds them to the rollups once per message. If the Queue refuses twice
// the counts are written to D1 directly. The edge config decides (no storage read): unknown or
// paused offers and publishers, and bots, count nothing. For offers with a view-through window
// the answer sets the signed view cookie `ch_vid`.
import { deviceClass } from '../click/agent';
import { offerConfig, publisherConfig, type WaitUntil } from '../click/config';
import type { ClicksMessage } from '../click/ingest';
import { countImpressionsOnce, type ImpressionCount } from '../db/impressions';
import { quarterOf } from '../db/quarter-stats';
import { randomId } from '../lib/crypto';
import { errorFields, log } from '../lib/log';
import { utcDay } from '../lib/time';
import { mintViewToken, viewCookie } from './cookies';
import { gifResponse } from './gif';

export const IMPRESSIONS_FLUSH_AFTER_MS = 25;
/** Distinct offer/publisher/quarter keys per message: far below the Queue's 128 KB. */
const MAX_KEYS_PER_MESSAGE = 500;

interface OpenBatch {
  counts: Map<string, ImpressionCount>;
}

let open: OpenBatch | null = null;

/** Adds one impression to this isolate's open batch (opening one, and its flush, if needed). */
export function countImpression(env: Env, ctx: WaitUntil, offerId: number, publisherId: number, at: number): void {
  const quarter = quarterOf(at);
  const key = `${quarter}/${offerId}/${publisherId}`;
  const existing = open?.counts.get(key);
  if (existing) {
    existing.impressions++;
    return;
  }
  const count = { day: utcDay(at), quarter, offer_id: offerId, publisher_id: publisherId, impressions: 1 };
  if (open && open.counts.size < MAX_KEYS_PER_MESSAGE) {
    open.counts.set(key, count);
    return;
  }
  const batch: OpenBatch = { counts: new Map([[key, count]]) };
  open = batch;
  ctx.waitUntil(
    scheduler.wait(IMPRESSIONS_FLUSH_AFTER_MS).then(() => {
      if (open === batch) open = null;
      return flush(env, [...batch.counts.values()]);
    }),
  );
}

async function flush(env: Env, impressions: ImpressionCount[]): Promise<void> {
  const message: ClicksMessage = { v: 1, clicks: [], impressions };
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      await env.CLICKS_QUEUE.send(message, { contentType: 'json' });
      return;
    } catch (error) {
      log('warn', 'impressions.queue_send_failed', { attempt, keys: impressions.length, ...errorFields(error) });
    }
  }
  try {
    await countImpressionsOnce(env.DB, [{ batchKey: randomId('imp_direct_', 12), counts: impressions }]);
    log('warn', 'impressions.written_directly', { keys: impressions.length });
  } catch (error) {
    const lost = impressions.reduce((n, c) => n + c.impressions, 0);
    log('error', 'impressions.lost', { impressions: lost, ...errorFields(error) });
  }
}

const ID = /^[1-9]\d{0,9}$/;
const parseId = (text: string | null) =>
  text !== null && ID.test(text) && Number(text) <= 0xffffffff ? Number(text) : null;

/** The answer to an impression: always the GIF; counted (and the view cookie set) when it should be. */
export async function handleImpression(
  request: Request,
  env: Env,
  ctx: WaitUntil,
  offerText: string | null,
  publisherText: string | null,
): Promise<Response> {
  const offerId = parseId(offerText);
  const publisherId = parseId(publisherText);
  // HEAD (link checkers) and bots get the image and count nothing.
  if (offerId === null || publisherId === null || request.method !== 'GET') return gifResponse();
  if (['bot', 'unknown'].includes(deviceClass(request.headers.get('user-agent')))) return gifResponse();
  try {
    const [offer, publisher] = await Promise.all([
      offerConfig(env, ctx, offerId),
      publisherConfig(env, ctx, publisherId),
    ]);
    if (!offer?.active || !publisher?.active) return gifResponse();
    const now = Date.now();
    countImpression(env, ctx, offerId, publisherId, now);
    const hours = offer.viewThroughHours ?? 0;
    if (hours <= 0) return gifResponse();
    return gifResponse([viewCookie(mintViewToken(env, { offerId, publisherId, viewedAt: now }), hours)]);
  } catch (error) {
    log('warn', 'impressions.failed', { offer_id: offerId, publisher_id: publisherId, ...errorFields(error) });
    return gifResponse();
  }
}
