// Section "cost": rows written per click and per consumer batch, as the runtime reports them
// (the consumer logs `clicks.stored` with the Durable Object cursor's rowsWritten and D1's
// meta.rows_written for every batch), and the price per million clicks at list prices
// (docs/capacity.md). Clicks go on the clicks Queue with v2 IDs, as the redirect sends them with
// partitions on, in the shapes a deployment sees: full consumer batches (traffic above about 100
// messages a second), batches of 10 messages, and batches of one small message.
import { randomBytes } from 'node:crypto';
import type { BenchContext } from './context.ts';
import { CLICK_HEADERS } from './fixtures.ts';
import { epochNow, sleep } from './stats.ts';

/** Shards in wrangler.jsonc's CLICK_PARTITION_SHARDS, which the consumer under test uses. */
const SHARDS = 4;

/** List prices (docs/capacity.md, "Price per million clicks"). */
const PRICE = { request: 0.3, queueOp: 0.4, rowWritten: 1.0, doRequest: 0.15 } as const;

export interface CostScenario {
  name: string;
  clicksPerMessage: number;
  messagesPerBatch: number;
  clicks: number;
  batches: number;
  partitionRows: number;
  d1Rows: number;
  rowsPerClick: number;
  rowsPerBatch: number;
  /** Worker requests + queue operations + rows written + partition requests, per million clicks. */
  pricePerMillion: number;
  complete: boolean;
}

export interface CostResult {
  scenarios: CostScenario[];
}

/** A v2 click ID as the redirect mints it (the consumer routes by it without checking the MAC). */
function v2ClickId(at: number, offer: number, publisher: number, shard: number): string {
  const bytes = Buffer.alloc(36);
  bytes[0] = 2;
  bytes[1] = 1;
  bytes.writeUIntBE(at, 2, 6);
  bytes.writeUInt32BE(offer, 8);
  bytes.writeUInt32BE(publisher, 12);
  bytes[16] = shard;
  randomBytes(19).copy(bytes, 17);
  return bytes.toString('base64url');
}

function click(fx: BenchContext['fx'], at: number, visitor: string, k: number) {
  const shard = visitor.charCodeAt(0) % SHARDS;
  return {
    click_id: v2ClickId(at, fx.offer.id, fx.publisher.id, shard),
    clicked_at: new Date(at).toISOString(),
    offer_id: fx.offer.id,
    publisher_id: fx.publisher.id,
    sub1: k % 2 === 0 ? `s${k % 97}` : null,
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    deep_link: null,
    referrer: CLICK_HEADERS.referer,
    search_engine: null,
    search_phrase: null,
    country: 'DE',
    region: 'BE',
    city: 'Berlin',
    colo: 'FRA',
    asn: 3320,
    user_agent: CLICK_HEADERS['user-agent'],
    device: 'desktop',
    ip_prefix: '203.0.113.0/24',
    visitor_hash: visitor,
    is_bot: 0,
  };
}

async function scenario(
  ctx: BenchContext,
  name: string,
  clicksPerMessage: number,
  messagesPerBatch: number,
  batches: number,
): Promise<CostScenario> {
  const { rt, fx } = ctx;
  const producer = await rt.mf.getQueueProducer('CLICKS_QUEUE', 'clickhop');
  const seen = rt.logs.stored.length;
  const pool: string[] = [];
  let k = 0;
  let sent = 0;
  for (let b = 0; b < batches; b++) {
    const messages = [];
    for (let m = 0; m < messagesPerBatch; m++) {
      const clicks = [];
      for (let c = 0; c < clicksPerMessage; c++) {
        // One click in four repeats a recent visitor, so the unique rule finds matches.
        const visitor =
          k % 4 === 0 && pool.length > 0
            ? (pool[k % pool.length] as string)
            : randomBytes(32).toString('base64url').slice(0, 43);
        if (pool.length < 500) pool.push(visitor);
        clicks.push(click(fx, Date.now() - 50, visitor, k++));
      }
      messages.push({ body: { v: 1, clicks }, contentType: 'json' as const });
    }
    // sendBatch: at most 100 messages and 256 KB per call (a 100-click message is about 60 KB).
    const group = clicksPerMessage > 20 ? 3 : 20;
    for (let i = 0; i < messages.length; i += group) await producer.sendBatch(messages.slice(i, i + group));
    sent += clicksPerMessage * messagesPerBatch;
    // The local consumer batches for 1 s (max_batch_timeout): wait it out between batches.
    await sleep(1_500);
  }
  const deadline = epochNow() + 60_000;
  const stored = () => rt.logs.stored.slice(seen);
  while (stored().reduce((n, s) => n + (s.clicks ?? 0), 0) < sent && epochNow() < deadline) await sleep(200);
  const lines = stored();
  const clicks = lines.reduce((n, s) => n + (s.clicks ?? 0), 0);
  const partitionRows = lines.reduce((n, s) => n + (s.partition_rows_written ?? 0), 0);
  const d1Rows = lines.reduce((n, s) => n + (s.d1_rows_written ?? 0), 0);
  const perMillion = 1e6 / Math.max(1, clicks);
  const messages = lines.reduce((n, s) => n + (s.messages ?? 0), 0);
  const pricePerMillion =
    PRICE.request +
    (messages * perMillion * 3 * PRICE.queueOp) / 1e6 +
    ((partitionRows + d1Rows) * perMillion * PRICE.rowWritten) / 1e6 +
    (lines.length * perMillion * Math.min(SHARDS, clicksPerMessage * messagesPerBatch) * PRICE.doRequest) / 1e6;
  ctx.log(`cost ${name}: ${clicks} clicks, ${lines.length} batches, ${partitionRows}+${d1Rows} rows`);
  return {
    name,
    clicksPerMessage,
    messagesPerBatch,
    clicks,
    batches: lines.length,
    partitionRows,
    d1Rows,
    rowsPerClick: (partitionRows + d1Rows) / Math.max(1, clicks),
    rowsPerBatch: (partitionRows + d1Rows) / Math.max(1, lines.length),
    pricePerMillion,
    complete: clicks >= sent,
  };
}

export async function costSection(ctx: BenchContext): Promise<CostResult> {
  const quick = ctx.opts.quick;
  return {
    scenarios: [
      await scenario(ctx, 'full batches: 100 messages of 10 clicks', 10, 100, quick ? 2 : 10),
      await scenario(ctx, 'batches of 10 messages of 10 clicks', 10, 10, quick ? 3 : 20),
      await scenario(ctx, 'batches of 1 message of 10 clicks', 10, 1, quick ? 3 : 20),
      await scenario(ctx, 'full batches: 100 messages of 100 clicks', 100, 100, quick ? 1 : 3),
    ],
  };
}

/** The report's lines for this section. */
export function renderCost(result: CostResult | undefined, error: string | undefined): string[] {
  const out = ['## Cost: rows written per click and price per million clicks', ''];
  if (error) return [...out, `Not measured: ${error}`, ''];
  if (!result) return [...out, 'Not measured: section not selected (`--only=cost`).', ''];
  out.push(
    '| consumer batches | clicks | batches | rows written (partitions + D1) | per click | per batch | $ per million clicks |',
    '|---|---|---|---|---|---|---|',
  );
  for (const s of result.scenarios) {
    out.push(
      `| ${s.name}${s.complete ? '' : ' (INCOMPLETE)'} | ${s.clicks} | ${s.batches} | ${s.partitionRows} + ${s.d1Rows} | ${s.rowsPerClick.toFixed(3)} | ${s.rowsPerBatch.toFixed(1)} | $${s.pricePerMillion.toFixed(2)} |`,
    );
  }
  out.push(
    '',
    "Rows written as the runtime reports them (Durable Object SQL cursor `rowsWritten`, D1 `meta.rows_written`), summed from the consumer's `clicks.stored` log lines. Price: Worker requests ($0.30), queue operations (3 per message, $0.40 per million), rows written ($1.00 per million) and partition requests ($0.15 per million, one per shard a batch touches); storage and the marker purge (one row per message, an hour or more later) are not in it: docs/capacity.md adds them.",
    '',
  );
  return out;
}
