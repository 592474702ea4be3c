// The clicks consumer's worst cases on bindings that enforce production's limits (test/setup.ts):
// a full consumer batch of the heaviest clicks the redirect can produce, and a full batch of
// 10,000 clicks, each to one shard, go through the one-transaction path (no fallback, no retry)
// and store every click exactly once.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import type { ClicksMessage } from '../../src/click/ingest';
import { CLICKS_MESSAGE_BYTES, clickMessages } from '../../src/click/record';
import { periodOf } from '../../src/clicks/partition-key';
import { findClick } from '../../src/clicks/reads';
import { partitionStub } from '../../src/clicks/store';
import type { ClickRecord } from '../../src/db/clicks';
import worker from '../../src/index';
import { jsonBytes } from '../../src/lib/chunks';
import { clickRecord } from '../fixtures';
import { createFixture, type Fixture } from '../helpers';
import { PRODUCTION_LIMITS } from '../production-limits';

const handler = worker as ExportedHandler<Env>;
const SHARD = 2;
/** The second test's shard: storage is shared by the tests of a file. */
const COUNT_SHARD = 3;
const DAY = 86_400_000;

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Every field at the most the redirect lets through: sub1..sub6 at 255 characters (sub-ids.ts)
 * of 3-byte UTF-8; the user agent (512) and referrer (1,024) as cut by route.ts, of Latin-1
 * characters (2 bytes each); a search phrase (255) of control characters, which JSON writes as
 * 6 bytes each; a deep link of percent-encoded characters as long as a 16 KB request URL allows
 * (Workers limits); long place names and both creative ids. No real click carries all of these
 * at once (the URL cannot hold the sub IDs and the longest deep link together), so this is
 * heavier than any click can be.
 */
function heaviest(f: Fixture, clickedAt: string, clickId: string, visitor: string): ClickRecord {
  const sub = (n: number) => `${n}${'€'.repeat(254)}`;
  return clickRecord(f, clickedAt, {
    click_id: clickId,
    sub1: sub(1),
    sub2: sub(2),
    sub3: sub(3),
    sub4: sub(4),
    sub5: sub(5),
    sub6: sub(6),
    creative_id: 999_999_999_999_999,
    creative_group_id: 999_999_999_999_999,
    deep_link: `https://shop.example/${'%E2%82%AC'.repeat(1_770)}`,
    referrer: `https://search.example/?q=${'ÿ'.repeat(998)}`,
    search_engine: 'Google',
    search_phrase: '\u0001'.repeat(255),
    region: 'Region '.repeat(14),
    city: 'Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch',
    user_agent: 'ÿ'.repeat(512),
    visitor_hash: visitor,
  });
}

let serial = 0;
async function consume(messages: ClicksMessage[]) {
  serial += 1;
  const batch = createMessageBatch(
    'clickhop-clicks',
    messages.map((body, i) => ({ id: `limits-${serial}-${i}`, timestamp: new Date(), attempts: 1, body })),
  ) as MessageBatch;
  const ctx = createExecutionContext();
  await handler.queue?.(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

function logLines(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls.map((args) => String(args[0]));
}

/** Clicks stored in the partitions of these clicks (all on `shard`; a week boundary may split them). */
async function partitionClicks(clicks: ClickRecord[], shard = SHARD) {
  const periods = new Set(clicks.map((c) => periodOf(Date.parse(c.clicked_at))));
  let n = 0;
  for (const period of periods) n += (await partitionStub(env, { period, shard }).stats()).clicks;
  return n;
}

async function storedOfOffer(f: Fixture) {
  const row = await env.DB.prepare(
    'SELECT SUM(clicks) AS n, SUM(unique_clicks) AS u FROM daily_click_stats WHERE offer_id = ? AND publisher_id = ?',
  )
    .bind(f.offerId, f.publisherId)
    .first<{ n: number; u: number }>();
  return row ?? { n: 0, u: 0 };
}

describe('production limit: a full consumer batch to one shard', () => {
  it('of the heaviest clicks: every message within 128 KB, every statement within 2 MB, every click stored', async () => {
    const f = await createFixture();
    const keys = await clickIdKeys(env);
    const base = Date.now() - 2 * DAY;
    const clicks: ClickRecord[] = [];
    for (let i = 0; i < 500; i++) {
      const at = base + i * 1_000;
      const id = await mintClickId(keys, {
        clickedAt: at,
        offerId: f.offerId,
        publisherId: f.publisherId,
        shard: SHARD,
      });
      clicks.push(heaviest(f, new Date(at).toISOString(), id, `heavy-${i % 50}`));
    }
    expect(jsonBytes(clicks[0])).toBeGreaterThan(20_000);
    // As the redirect's hand-off packs them; a consumer batch holds at most 100 messages.
    const messages = clickMessages(clicks).slice(0, 100);
    expect(messages).toHaveLength(100);
    for (const message of messages) {
      expect(jsonBytes(message)).toBeLessThanOrEqual(CLICKS_MESSAGE_BYTES);
      expect(jsonBytes(message) + PRODUCTION_LIMITS.queueMetadataBytes).toBeLessThanOrEqual(
        PRODUCTION_LIMITS.queueMessageBytes,
      );
    }
    const sent = messages.flatMap((m) => m.clicks);
    // Several MB in all: far over what one SQL string may hold.
    expect(jsonBytes(sent)).toBeGreaterThan(4 * PRODUCTION_LIMITS.sqlValueBytes);

    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    const result = await consume(messages);
    expect(result.explicitAcks).toHaveLength(100);
    expect(result.retryMessages).toEqual([]);
    // The one-transaction path took the whole batch: no fallback to one message at a time.
    expect(logLines(warn).filter((line) => line.includes('clicks.batch_failed'))).toEqual([]);
    expect(logLines(error)).toEqual([]);

    expect(await storedOfOffer(f)).toEqual({ n: sent.length, u: 50 });
    expect(await partitionClicks(sent)).toBe(sent.length);
    const last = sent[sent.length - 1] as ClickRecord;
    const row = await findClick(env, last.click_id);
    expect(row).toMatchObject({
      sub1: last.sub1,
      sub6: last.sub6,
      deep_link: last.deep_link,
      referrer: last.referrer,
      search_phrase: last.search_phrase,
      user_agent: last.user_agent,
      city: last.city,
    });
  }, 120_000);

  it('of 10,000 clicks: every click stored once, rollups exact, nothing retried', async () => {
    const f = await createFixture();
    const keys = await clickIdKeys(env);
    const base = Date.now() - 8 * DAY;
    const messages: ClicksMessage[] = [];
    for (let m = 0; m < 100; m++) {
      const clicks: ClickRecord[] = [];
      for (let i = 0; i < 100; i++) {
        const at = base + (m * 100 + i) * 60_000;
        const id = await mintClickId(keys, {
          clickedAt: at,
          offerId: f.offerId,
          publisherId: f.publisherId,
          shard: COUNT_SHARD,
        });
        // 200 visitors, each back every 200 minutes: a repeat within 24 h is not unique.
        clicks.push(
          clickRecord(f, new Date(at).toISOString(), {
            click_id: id,
            visitor_hash: `visitor-${(m * 100 + i) % 200}`,
            sub1: `campaign-${m}`,
            referrer: `https://blog.example/post/${'r'.repeat(400)}`,
          }),
        );
      }
      messages.push({ v: 1, clicks });
    }
    for (const message of messages) {
      expect(jsonBytes(message) + PRODUCTION_LIMITS.queueMetadataBytes).toBeLessThanOrEqual(
        PRODUCTION_LIMITS.queueMessageBytes,
      );
    }
    const warn = vi.spyOn(console, 'warn');
    const result = await consume(messages);
    expect(result.explicitAcks).toHaveLength(100);
    expect(result.retryMessages).toEqual([]);
    expect(logLines(warn).filter((line) => line.includes('clicks.batch_failed'))).toEqual([]);
    // Every visitor comes back within 24 h of its previous click: only its first is unique.
    expect(await storedOfOffer(f)).toEqual({ n: 10_000, u: 200 });
    expect(
      await partitionClicks(
        messages.flatMap((m) => m.clicks),
        COUNT_SHARD,
      ),
    ).toBe(10_000);
  }, 120_000);
});
