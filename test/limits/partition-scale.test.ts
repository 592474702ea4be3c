/// <reference types="vite/client" />
// Scale of one click partition: a lookup by ID and a consumer batch's ingest at 10^4 stored
// clicks and at a larger size (VITE_SCALE_CLICKS, set by `npm run bench -- --only=scale`), and a
// consumer batch across 64 shards. The stored clicks are inserted synthetically, straight into
// the partition's SQLite in the block layout (as many blocks and visitor rows as the consumer
// would have written for a week of them), so a large partition takes seconds, not hours.
// Each measurement prints one `SCALE {json}` line for the bench; the asserts check that a
// lookup and an ingest read only what their keys name, whatever the partition holds.
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import type { ClicksMessage } from '../../src/click/ingest';
import { PERIOD_MS, partitionName, periodOf } from '../../src/clicks/partition-key';
import { BLOCK_CODEC, BLOCK_MS, BLOCK_SCHEMA, bucketOf, type Rec, toRec } from '../../src/db/click-blocks';
import type { PartitionClick } from '../../src/db/click-partition';
import { SLOT_MS, slotOf, visitorBucket } from '../../src/db/click-visits';
import worker from '../../src/index';
import { clickRecord } from '../fixtures';
import { createFixture } from '../helpers';

const WEEK = (periodOf(Date.now()) - 1) * PERIOD_MS;
// Vite writes VITE_* variables of the host into import.meta.env when it transforms this file.
const SIZES = [10_000, Number(import.meta.env.VITE_SCALE_CLICKS ?? 0)].filter((n) => n > 0);
const OFFER = 11;
const PUBLISHER = 12;

/** A v2 ID for routing only (placement is read without the MAC). */
function fakeV2(at: number, shard: number, n: number): string {
  const bytes = new Uint8Array(36);
  bytes[0] = 2;
  bytes[1] = 1;
  let t = at;
  for (let i = 7; i >= 2; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes[11] = OFFER;
  bytes[15] = PUBLISHER;
  bytes[16] = shard;
  for (let i = 17; i < 36; i++) bytes[i] = (n * 31 + i * 17) % 256;
  new DataView(bytes.buffer).setUint32(20, n);
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

/** Fills a partition with `n` typical clicks spread over its week, in blocks and visitor rows. */
async function fill(name: string, n: number): Promise<string[]> {
  const stub = env.CLICK_PARTITIONS.getByName(name);
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    sql.exec(BLOCK_SCHEMA);
    const step = PERIOD_MS / n;
    const sample: string[] = [];
    let bucket = null as { b: number; recs: Rec[] } | null;
    const visits = new Map<string, [string, number][]>();
    let currentSlot = -1;
    const flushVisits = () => {
      for (const [slotKey, items] of visits) {
        const [vb, slot] = slotKey.split('/').map(Number);
        sql.exec(
          'INSERT INTO visits (vb, slot, part, n, data) VALUES (?, ?, 0, ?, ?)',
          vb,
          slot,
          items.length,
          JSON.stringify(items),
        );
      }
      visits.clear();
    };
    const flushBucket = () => {
      if (bucket)
        sql.exec(
          'INSERT INTO blocks (bucket, part, n, data) VALUES (?, 0, ?, ?)',
          bucket.b,
          bucket.recs.length,
          BLOCK_CODEC.encode(bucket.recs),
        );
    };
    for (let i = 0; i < n; i++) {
      const at = WEEK + Math.floor(i * step);
      const id = fakeV2(at, 1, i);
      if (i % Math.ceil(n / 200) === 0) sample.push(id);
      const visitor = `v${(i * 2654435761) % 1e9}`.padEnd(43, 'x');
      const click = clickRecord({ offerId: OFFER, publisherId: PUBLISHER }, new Date(at).toISOString(), {
        click_id: id,
        visitor_hash: visitor,
        sub1: i % 2 ? `s${i % 97}` : null,
      });
      const b = bucketOf(at);
      if (bucket?.b !== b) {
        flushBucket();
        bucket = { b, recs: [] };
      }
      bucket.recs.push(toRec(click, at, { bot: 0, unique: 1, batch: 1 }));
      const key = `${OFFER}/${PUBLISHER}/${visitor}`;
      // Clicks come in time order: an hour's visitor rows are complete once the next begins.
      if (slotOf(at) !== currentSlot) flushVisits();
      currentSlot = slotOf(at);
      const slotKey = `${visitorBucket(key)}/${slotOf(at)}`;
      const list = visits.get(slotKey) ?? [];
      list.push([key, at]);
      visits.set(slotKey, list);
    }
    flushBucket();
    flushVisits();
    return sample;
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe('scale of one partition', () => {
  for (const size of SIZES) {
    it(`looks up and ingests at ${size.toLocaleString('en')} stored clicks`, { timeout: 1_800_000 }, async () => {
      const name = `${partitionName({ period: periodOf(WEEK), shard: 1 })}:scale-${size}`;
      const fillStart = performance.now();
      const sample = await fill(name, size);
      const fillMs = performance.now() - fillStart;
      const stub = env.CLICK_PARTITIONS.getByName(name);
      const stats = await stub.stats();
      expect(stats.clicks).toBe(size);
      const lookups: number[] = [];
      for (const id of sample) {
        const t = performance.now();
        const row = await stub.click(id);
        lookups.push(performance.now() - t);
        expect(row?.click_id).toBe(id);
      }
      // Batches of 100 new clicks in the middle of the week, a quarter of them repeat visitors.
      const keys = await clickIdKeys(env);
      const ingests: number[] = [];
      let written = 0;
      for (let b = 0; b < 10; b++) {
        const at = WEEK + 3 * 86_400_000 + b * BLOCK_MS;
        const clicks: PartitionClick[] = [];
        for (let i = 0; i < 100; i++) {
          const id = await mintClickId(keys, { clickedAt: at + i, offerId: OFFER, publisherId: PUBLISHER, shard: 1 });
          const visitor = i % 4 === 0 ? `v${((b * 100 + i) * 2654435761) % 1e9}`.padEnd(43, 'x') : `new-${b}-${i}`;
          const click = clickRecord({ offerId: OFFER, publisherId: PUBLISHER }, new Date(at + i).toISOString(), {
            click_id: id,
            visitor_hash: visitor,
          });
          clicks.push({ ...click, batch: 100 + b });
        }
        const t = performance.now();
        const result = await stub.ingest(clicks, {});
        ingests.push(performance.now() - t);
        written += result.rowsWritten;
        expect(result.stored).toHaveLength(100);
      }
      const line = {
        size,
        fillSeconds: fillMs / 1000,
        megabytes: stats.bytes / 1e6,
        bytesPerClick: stats.bytes / size,
        lookupMedianMs: median(lookups),
        lookupMaxMs: Math.max(...lookups),
        ingestMedianMs: median(ingests),
        ingestMaxMs: Math.max(...ingests),
        rowsWrittenPerBatch: written / 10,
        slotMs: SLOT_MS,
      };
      console.log(`SCALE ${JSON.stringify(line)}`);
      expect(written / 10).toBeLessThanOrEqual(10);
    });
  }

  it('stores a consumer batch across 64 shards', { timeout: 300_000 }, async () => {
    const f = await createFixture();
    const keys = await clickIdKeys(env);
    const at = Date.now() - 60_000;
    const messages = [];
    for (let m = 0; m < 100; m++) {
      const clicks = [];
      for (let i = 0; i < 10; i++) {
        const n = m * 10 + i;
        const id = await mintClickId(keys, {
          clickedAt: at + n,
          offerId: f.offerId,
          publisherId: f.publisherId,
          shard: n % 64,
        });
        clicks.push(clickRecord(f, new Date(at + n).toISOString(), { click_id: id, visitor_hash: `wide-${n}` }));
      }
      const body: ClicksMessage = { v: 1, clicks };
      messages.push({ id: `wide-${m}`, timestamp: new Date(), attempts: 1, body });
    }
    const batch = createMessageBatch('clickhop-clicks', messages) as MessageBatch;
    const ctx = createExecutionContext();
    const t = performance.now();
    await (worker as ExportedHandler<Env>).queue?.(batch, env, ctx);
    const ms = performance.now() - t;
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(100);
    const { n } = (await env.DB.prepare('SELECT SUM(clicks) AS n FROM daily_click_stats WHERE offer_id = ?')
      .bind(f.offerId)
      .first<{ n: number }>()) ?? { n: 0 };
    expect(n).toBe(1_000);
    console.log(`SCALE ${JSON.stringify({ shards: 64, clicks: 1_000, messages: 100, batchMs: ms })}`);
  });
});
