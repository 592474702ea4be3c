// Clicks in partitions (Durable Objects): v2 click IDs name their partition; the consumer stores
// each click once in it (a row per block and visitor row, not per click), rollups stay exact under redelivery, the unique rule
// holds across week boundaries, and a 302 we answered is a stored click under injected faults.
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, clickIdPlacement, mintClickId, verifyClickId } from '../../src/click/click-id';
import type { ClicksMessage } from '../../src/click/ingest';
import { handleClick } from '../../src/click/route';
import { PERIOD_MS, partitionName, periodOf } from '../../src/clicks/partition-key';
import { findClick } from '../../src/clicks/reads';
import { batchNumber, partitionStub } from '../../src/clicks/store';
import { visitorKey } from '../../src/db/click-partition';
import { visitorBucket } from '../../src/db/click-visits';
import type { ClickRecord } from '../../src/db/clicks';
import worker from '../../src/index';
import { clickRecord } from '../fixtures';
import { createFixture, eventually, type Fixture } from '../helpers';

const handler = worker as ExportedHandler<Env>;
const QUEUE = 'clickhop-clicks';
const HOUR = 3_600_000;
const SHARD = 3;
/** A week boundary a few weeks back, so "now" is past it (neighbour checks apply). */
const BOUNDARY = (periodOf(Date.now()) - 3) * PERIOD_MS;

async function v2Click(f: Fixture, at: number, overrides: Partial<ClickRecord> = {}, shard = SHARD) {
  const id = await mintClickId(await clickIdKeys(env), {
    clickedAt: at,
    offerId: f.offerId,
    publisherId: f.publisherId,
    shard,
  });
  return clickRecord(f, new Date(at).toISOString(), { click_id: id, ...overrides });
}

let serial = 0;
async function consume(clicks: ClickRecord[], options: { id?: string; testEnv?: Env } = {}) {
  serial += 1;
  const body: ClicksMessage = { v: 1, clicks };
  const batch = createMessageBatch(QUEUE, [
    { id: options.id ?? `part-msg-${serial}`, timestamp: Date.now(), attempts: 1, body },
  ]) as MessageBatch;
  const ctx = createExecutionContext();
  await handler.queue?.(batch, options.testEnv ?? env, ctx);
  return getQueueResult(batch, ctx);
}

const stored = (clickId: string) => {
  const placement = clickIdPlacement(clickId);
  if (!placement) throw new Error('not a v2 id');
  return partitionStub(env, { period: periodOf(placement.clickedAt), shard: placement.shard }).click(clickId);
};

async function rollups(f: Fixture) {
  const { results } = await env.DB.prepare(
    'SELECT day, clicks, unique_clicks, bot_clicks FROM daily_click_stats WHERE offer_id = ? AND publisher_id = ? ORDER BY day',
  )
    .bind(f.offerId, f.publisherId)
    .all<{ day: string; clicks: number; unique_clicks: number; bot_clicks: number }>();
  return results;
}

async function uniqueFlags(ids: string[]) {
  const flags: number[] = [];
  for (const id of ids) flags.push((await stored(id))?.is_unique ?? -1);
  return flags;
}

describe('v2 click IDs', () => {
  it('carry the shard and keep 48 characters; v1 IDs still verify', async () => {
    const keys = await clickIdKeys(env);
    const at = Date.UTC(2026, 10, 23, 10);
    const v2 = await mintClickId(keys, { clickedAt: at, offerId: 4, publisherId: 5, shard: 200 });
    const v1 = await mintClickId(keys, { clickedAt: at, offerId: 4, publisherId: 5 });
    expect(v2).toHaveLength(48);
    expect(await verifyClickId(keys, v2)).toEqual({ keyId: 1, clickedAt: at, offerId: 4, publisherId: 5, shard: 200 });
    expect(await verifyClickId(keys, v1)).toEqual({ keyId: 1, clickedAt: at, offerId: 4, publisherId: 5 });
    expect(clickIdPlacement(v2)).toEqual({ clickedAt: at, shard: 200 });
    expect(clickIdPlacement(v1)).toBeNull();
  });
});

describe('a click partition', () => {
  it('writes one block row per bucket and one visitor row per visitor bucket, nothing for a redelivered batch', async () => {
    const f = await createFixture();
    const at = BOUNDARY + 3 * 86_400_000;
    const clicks = [
      await v2Click(f, at, { visitor_hash: 'rw-a' }),
      await v2Click(f, at + 1, { visitor_hash: 'rw-b' }),
      await v2Click(f, at + 2, { visitor_hash: 'rw-c', is_bot: 1, device: 'bot' }),
    ].map((c) => ({ ...c, batch: 42 }));
    const stub = env.CLICK_PARTITIONS.getByName(partitionName({ period: periodOf(at), shard: 77 }));
    const first = await stub.ingest(clicks, {});
    // The three clicks share a 10-second block (1 row); the two humans' times go to the visitor
    // log, one row per visitor bucket (the bot is not logged).
    const visitorRows = new Set(clicks.filter((c) => !c.is_bot).map((c) => visitorBucket(visitorKey(c)))).size;
    expect(first.rowsWritten).toBe(1 + visitorRows);
    expect(first.stored.map((s) => [s.was_unique, s.is_bot])).toEqual([
      [1, 0],
      [1, 0],
      [0, 1],
    ]);
    const again = await stub.ingest(clicks, {});
    expect(again.rowsWritten).toBe(0);
    expect(again.stored).toEqual(first.stored);
    const stats = await stub.stats();
    expect(stats.clicks).toBe(3);
    expect(stats.bytes).toBeGreaterThan(0);
  });

  it('returns a stored click in the shape of the D1 clicks row', async () => {
    const f = await createFixture();
    const click = await v2Click(f, BOUNDARY + HOUR * 30, { sub1: 'camp-1', visitor_hash: 'shape' });
    await consume([click]);
    const row = await stored(click.click_id);
    expect(row).toMatchObject({
      click_id: click.click_id,
      clicked_at: click.clicked_at,
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      sub1: 'camp-1',
      is_unique: 1,
      is_bot: 0,
    });
  });
});

describe('the clicks consumer with partitions', () => {
  it('stores each click once and counts rollups once when a message is redelivered', async () => {
    const f = await createFixture();
    const at = BOUNDARY + 2 * 86_400_000;
    const clicks = [
      await v2Click(f, at, { visitor_hash: 'redeliver-a' }),
      await v2Click(f, at + HOUR, { visitor_hash: 'redeliver-a' }),
      await v2Click(f, at + 2 * HOUR, { visitor_hash: 'redeliver-b' }),
      await v2Click(f, at + 3 * HOUR, { visitor_hash: 'redeliver-c', is_bot: 1, device: 'bot' }),
    ];
    expect((await consume(clicks, { id: 'same-message' })).explicitAcks).toEqual(['same-message']);
    await consume(clicks, { id: 'same-message' });
    const day = new Date(at).toISOString().slice(0, 10);
    expect(await rollups(f)).toEqual([{ day, clicks: 3, unique_clicks: 2, bot_clicks: 1 }]);
    expect(await uniqueFlags(clicks.map((c) => c.click_id))).toEqual([1, 0, 1, 0]);
  });

  it('counts a click once when it arrives in two different messages (queue and fallback)', async () => {
    const f = await createFixture();
    const click = await v2Click(f, BOUNDARY + 4 * 86_400_000, { visitor_hash: 'twice' });
    await consume([click]);
    await consume([click]);
    expect(await rollups(f)).toEqual([
      { day: click.clicked_at.slice(0, 10), clicks: 1, unique_clicks: 1, bot_clicks: 0 },
    ]);
  });

  it('keeps the unique rule across a week boundary, in either arrival order', async () => {
    const f = await createFixture();
    const before = await v2Click(f, BOUNDARY - HOUR, { visitor_hash: 'edge' });
    const after = await v2Click(f, BOUNDARY + HOUR, { visitor_hash: 'edge' });
    expect(periodOf(Date.parse(before.clicked_at))).not.toBe(periodOf(Date.parse(after.clicked_at)));
    await consume([before]);
    await consume([after]);
    expect(await uniqueFlags([before.click_id, after.click_id])).toEqual([1, 0]);

    // Reversed: the later click is stored first, then the earlier one demotes it.
    const g = await createFixture();
    const early = await v2Click(g, BOUNDARY - HOUR, { visitor_hash: 'edge-late' });
    const late = await v2Click(g, BOUNDARY + HOUR, { visitor_hash: 'edge-late' });
    await consume([late]);
    await consume([early]);
    await consume([early]); // a redelivery changes nothing
    expect(await uniqueFlags([early.click_id, late.click_id])).toEqual([1, 0]);
    const days = await rollups(g);
    expect(days.reduce((n, d) => n + d.unique_clicks, 0)).toBe(1);
    expect(days.reduce((n, d) => n + d.clicks, 0)).toBe(2);
  });

  it('keeps v1 clicks (queued before partitions were on) in D1', async () => {
    const f = await createFixture();
    const legacy = clickRecord(f, new Date(BOUNDARY).toISOString(), { visitor_hash: 'legacy' });
    await consume([legacy]);
    const row = await env.DB.prepare('SELECT is_unique FROM clicks WHERE click_id = ?').bind(legacy.click_id).first();
    expect(row).toEqual({ is_unique: 1 });
  });
});

describe('nothing lost under faults', () => {
  /** A partition namespace whose stubs fail their first `failures` ingest calls. */
  function flakyPartitions(failures: number, after: 'before' | 'after' = 'before') {
    let left = failures;
    const ns = {
      getByName(name: string) {
        const real = env.CLICK_PARTITIONS.getByName(name);
        return new Proxy(real, {
          get(target, prop) {
            if (prop === 'ingest') {
              return async (...args: Parameters<typeof real.ingest>) => {
                if (left > 0 && after === 'before') {
                  left -= 1;
                  throw new Error('partition unavailable');
                }
                const result = await target.ingest(...args);
                if (left > 0) {
                  left -= 1;
                  throw new Error('Durable Object reset'); // the write landed, the answer did not
                }
                return result;
              };
            }
            const value = Reflect.get(target, prop);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    };
    return { ...env, CLICK_PARTITIONS: ns as unknown as Env['CLICK_PARTITIONS'] } as Env;
  }

  it('retries a message whose partition write failed, then stores it exactly once', async () => {
    const f = await createFixture();
    const click = await v2Click(f, BOUNDARY + 5 * 86_400_000, { visitor_hash: 'fail-write' });
    const failing = flakyPartitions(2);
    const first = await consume([click], { id: 'flaky-1', testEnv: failing });
    expect(first.retryMessages.map((m) => m.msgId)).toEqual(['flaky-1']);
    expect(await stored(click.click_id)).toBeNull();
    await consume([click], { id: 'flaky-1', testEnv: failing });
    expect(await rollups(f)).toEqual([
      { day: click.clicked_at.slice(0, 10), clicks: 1, unique_clicks: 1, bot_clicks: 0 },
    ]);
  });

  it('counts a batch once when the partition stored it but its answer was lost (reset mid-batch)', async () => {
    const f = await createFixture();
    const at = BOUNDARY + 5 * 86_400_000;
    const clicks = [
      await v2Click(f, at, { visitor_hash: 'reset' }),
      await v2Click(f, at + 1, { visitor_hash: 'reset' }),
    ];
    const resetting = flakyPartitions(2, 'after');
    const first = await consume(clicks, { id: 'reset-1', testEnv: resetting });
    expect(first.retryMessages).toHaveLength(1);
    expect(await stored(clicks[0]?.click_id as string)).not.toBeNull();
    await consume(clicks, { id: 'reset-1', testEnv: resetting });
    expect(await rollups(f)).toEqual([
      { day: clicks[0]?.clicked_at.slice(0, 10), clicks: 2, unique_clicks: 1, bot_clicks: 0 },
    ]);
  });

  it('counts a batch once when D1 refused the rollup after the partition write', async () => {
    const f = await createFixture();
    const click = await v2Click(f, BOUNDARY + 6 * 86_400_000, { visitor_hash: 'd1-down' });
    let calls = 0;
    const db = {
      prepare: (sql: string) => env.DB.prepare(sql),
      batch: (statements: D1PreparedStatement[]) => {
        calls += 1;
        if (calls <= 2) return Promise.reject(new Error('D1 overloaded'));
        return env.DB.batch(statements);
      },
    } as unknown as D1Database;
    const testEnv = { ...env, DB: db } as Env;
    const first = await consume([click], { id: 'd1-down-1', testEnv });
    expect(first.retryMessages).toHaveLength(1);
    expect(await rollups(f)).toEqual([]);
    await consume([click], { id: 'd1-down-1', testEnv });
    await consume([click], { id: 'd1-down-1', testEnv });
    expect(await rollups(f)).toEqual([
      { day: click.clicked_at.slice(0, 10), clicks: 1, unique_clicks: 1, bot_clicks: 0 },
    ]);
  });
});

describe('the redirect with partitions on', () => {
  const partitionEnv = (overrides: Partial<Env> = {}) =>
    ({ ...env, CLICK_PARTITION_SHARDS: '16', ...overrides }) as Env;

  async function redirect(f: Fixture, testEnv: Env, ip: string) {
    const request = new Request(`https://clickhop.test/c/${f.offerId}/${f.publisherId}?sub1=p`, {
      headers: { 'user-agent': 'Mozilla/5.0 Chrome/130.0', 'cf-connecting-ip': ip },
    });
    const ctx = createExecutionContext();
    const response = await handleClick(request, testEnv, ctx, String(f.offerId), String(f.publisherId));
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location') ?? '').searchParams.get('click_id') as string;
  }

  it('mints v2 IDs whose shard follows the visitor, and the click lands in its partition', async () => {
    const f = await createFixture();
    const a1 = await redirect(f, partitionEnv(), '198.51.100.7');
    const a2 = await redirect(f, partitionEnv(), '198.51.100.7');
    expect(clickIdPlacement(a1)?.shard).toBe(clickIdPlacement(a2)?.shard);
    const row = await eventually(() => stored(a1));
    expect(row).toMatchObject({ click_id: a1, sub1: 'p', is_unique: 1 });
    expect(await eventually(() => stored(a2))).toMatchObject({ is_unique: 0 });
  });

  it('stores the click through its partition when the Queue refuses it', async () => {
    const f = await createFixture();
    const queue = { send: () => Promise.reject(new Error('queue down')) } as unknown as Queue;
    const clickId = await redirect(f, partitionEnv({ CLICKS_QUEUE: queue }), '203.0.113.9');
    expect(await stored(clickId)).toMatchObject({ click_id: clickId });
    expect(await rollups(f)).toEqual([
      { day: new Date().toISOString().slice(0, 10), clicks: 1, unique_clicks: 1, bot_clicks: 0 },
    ]);
  });
});

it('batch numbers are stable per key', () => {
  expect(batchNumber('msg-1')).toBe(batchNumber('msg-1'));
  expect(batchNumber('msg-1')).not.toBe(batchNumber('msg-2'));
  expect(Number.isSafeInteger(batchNumber('x'))).toBe(true);
});

describe('findClick', () => {
  it('reads a v2 click from its partition and a v1 click from D1', async () => {
    const f = await createFixture();
    const v2 = await v2Click(f, BOUNDARY + 86_400_000, { visitor_hash: 'find-2' });
    const v1 = clickRecord(f, new Date(BOUNDARY).toISOString(), { visitor_hash: 'find-1' });
    await consume([v2, v1]);
    expect(await findClick(env, v2.click_id)).toMatchObject({ click_id: v2.click_id, offer_id: f.offerId });
    expect(await findClick(env, v1.click_id)).toMatchObject({ click_id: v1.click_id, offer_id: f.offerId });
  });

  it('answers null for a click of an empty week without creating storage there', async () => {
    const f = await createFixture();
    const empty = await v2Click(f, BOUNDARY - 40 * PERIOD_MS, {}, 250);
    expect(await findClick(env, empty.click_id)).toBeNull();
    const stub = env.CLICK_PARTITIONS.getByName(partitionName({ period: periodOf(BOUNDARY) - 40, shard: 250 }));
    expect(await stub.stats()).toEqual({ clicks: 0, bytes: 0 });
  });
});
