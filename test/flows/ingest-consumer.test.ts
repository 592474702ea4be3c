// The clicks pipeline after the redirect: coalesced hand-off to the clicks Queue, the consumer's
// one-row-per-click insert with rollups, at-least-once redelivery, retries when D1 fails,
// malformed messages, and the direct-write fallback when the Queue refuses a message.
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClicksMessage } from '../../src/click/ingest';
import { ingestRetryDelay } from '../../src/click/ingest';
import { type ClickRecord, ingestStatements } from '../../src/db/clicks';
import worker from '../../src/index';
import { jsonChunks, SQL_JSON_PARAM_BYTES } from '../../src/lib/chunks';
import { clickRecord } from '../fixtures';
import { BASE, worker as call, clickRow, clicksOfOffer, createFixture, eventually, type Fixture } from '../helpers';

const QUEUE = 'clickhop-clicks';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0';
const handler = worker as ExportedHandler<Env>;

afterEach(() => {
  vi.restoreAllMocks();
});

/** A hand-made click as the redirect would enqueue it, with a controlled time and visitor. */
const makeClick = clickRecord;

let messageSerial = 0;
function message(clicks: unknown, attempts = 1, id?: string) {
  messageSerial += 1;
  return { id: id ?? `msg-${messageSerial}`, timestamp: Date.now(), attempts, body: clicks };
}

const body = (clicks: ClickRecord[]): ClicksMessage => ({ v: 1, clicks });

/**
 * Runs the Worker's queue handler on a hand-made batch and returns what it acked and retried.
 * The test runtime's QueueResult drops retry options, so each message's retry() is watched for
 * its delaySeconds.
 */
async function consume(messages: ReturnType<typeof message>[], testEnv: Env = env) {
  const batch = createMessageBatch(QUEUE, messages) as MessageBatch;
  const retries: { msgId: string; delaySeconds?: number }[] = [];
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    m.retry = (options?: QueueRetryOptions) => {
      retries.push({ msgId: m.id, delaySeconds: options?.delaySeconds });
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await handler.queue?.(batch, testEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retries };
}

async function uniqueFlags(ids: string[]) {
  const out: number[] = [];
  for (const id of ids) out.push(((await clickRow(id))?.is_unique as number | undefined) ?? -1);
  return out;
}

async function countRows(f: Fixture) {
  return (await clicksOfOffer(f.offerId)).filter((c) => c.publisher_id === f.publisherId).length;
}

async function rollups(f: Fixture) {
  const { results } = await env.DB.prepare(
    'SELECT day, clicks, unique_clicks, bot_clicks FROM daily_click_stats WHERE offer_id = ? AND publisher_id = ? ORDER BY day',
  )
    .bind(f.offerId, f.publisherId)
    .all<{ day: string; clicks: number; unique_clicks: number; bot_clicks: number }>();
  return results;
}

/** A D1 binding whose batch() fails on the calls `failOn` says, passing everything else through. */
function flakyDb(failOn: (call: number) => boolean) {
  let calls = 0;
  const db = {
    prepare: (sql: string) => env.DB.prepare(sql),
    batch: (statements: D1PreparedStatement[]) => {
      calls += 1;
      if (failOn(calls)) return Promise.reject(new Error('D1_ERROR: simulated outage'));
      return env.DB.batch(statements);
    },
    exec: (sql: string) => env.DB.exec(sql),
  };
  return { db: db as unknown as D1Database, calls: () => calls };
}

function logged(spy: { mock: { calls: unknown[][] } }, event: string) {
  return spy.mock.calls
    .map((args) => {
      try {
        return JSON.parse(String(args[0])) as Record<string, unknown>;
      } catch {
        return null;
      }
    })
    .filter((line): line is Record<string, unknown> => line?.event === event);
}

/** Lets any open coalescing batch of earlier requests flush, so a test's clicks start a new one. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 60));

describe('clicks through the route', () => {
  it('land as exactly one row per answered click', async () => {
    const f = await createFixture();
    const n = 40;
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(`/c/${f.offerId}/${f.publisherId}?sub1=c${i}`, {
          headers: { 'user-agent': CHROME, 'cf-connecting-ip': `198.51.100.${i + 1}` },
        }),
      ),
    );
    expect(responses.every((r) => r.status === 302)).toBe(true);
    const ids = responses.map((r) => new URL(r.headers.get('location') ?? '').searchParams.get('click_id'));
    expect(new Set(ids).size).toBe(n);
    await eventually(async () => ((await countRows(f)) >= n ? true : null));
    // Give a stray duplicate time to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await countRows(f)).toBe(n);
    const results = await clicksOfOffer(f.offerId);
    expect(new Set(results.map((r) => r.click_id))).toEqual(new Set(ids));
    expect(new Set(results.map((r) => r.sub1)).size).toBe(n);
    expect(await rollups(f)).toEqual([expect.objectContaining({ clicks: n, unique_clicks: n, bot_clicks: 0 })]);
  });

  it('coalesces concurrent clicks into few queue messages of at most 100 clicks, with no raw IP', async () => {
    const f = await createFixture();
    await settle();
    const sent: ClicksMessage[] = [];
    const queue = {
      send: (msg: ClicksMessage, options?: QueueSendOptions) => {
        sent.push(msg);
        return env.CLICKS_QUEUE.send(msg, options);
      },
      sendBatch: env.CLICKS_QUEUE.sendBatch.bind(env.CLICKS_QUEUE),
    };
    const testEnv = { ...env, CLICKS_QUEUE: queue as unknown as Queue } as Env;
    const n = 150;
    const contexts = Array.from({ length: n }, () => createExecutionContext());
    const responses = await Promise.all(
      contexts.map((ctx, i) =>
        handler.fetch?.(
          new Request(`${BASE}/c/${f.offerId}/${f.publisherId}`, {
            headers: { 'user-agent': CHROME, 'cf-connecting-ip': `203.0.113.${(i % 250) + 1}` },
          }) as Request<unknown, IncomingRequestCfProperties>,
          testEnv,
          ctx,
        ),
      ),
    );
    await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    expect(responses.every((r) => r?.status === 302)).toBe(true);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    // Coalesced: far fewer messages than clicks (tolerant of a slow, shared machine).
    expect(sent.length).toBeLessThan(n / 3);
    expect(sent.every((m) => m.v === 1 && m.clicks.length <= 100)).toBe(true);
    expect(sent.reduce((sum, m) => sum + m.clicks.length, 0)).toBe(n);
    const wire = JSON.stringify(sent);
    expect(wire).not.toMatch(/203\.0\.113\.\d+"/);
    expect(wire).toContain('"ip_prefix":"203.0.113.0/24"');
    expect(wire).not.toContain('"ip"');
    await eventually(async () => ((await countRows(f)) === n ? true : null));
  });
});

describe('clicks consumer', () => {
  it('inserts every click of a batch and acks every message', async () => {
    const f = await createFixture();
    const a = makeClick(f, '2026-01-10T12:00:00.000Z');
    const b = makeClick(f, '2026-01-10T12:00:01.000Z', { visitor_hash: 'visitor-b' });
    const c = makeClick(f, '2026-01-10T12:00:02.000Z', { visitor_hash: 'visitor-c' });
    const m1 = message(body([a, b]));
    const m2 = message(body([c]));
    const result = await consume([m1, m2]);
    expect(result.explicitAcks.sort()).toEqual([m1.id, m2.id].sort());
    expect(result.retryMessages).toEqual([]);
    expect(await countRows(f)).toBe(3);
    expect(await clickRow(a.click_id)).toMatchObject({ ...a, is_unique: 1 });
    expect(await rollups(f)).toEqual([{ day: '2026-01-10', clicks: 3, unique_clicks: 3, bot_clicks: 0 }]);
  });

  it('production limit: a full batch (several MB of JSON) reaches D1 in chunks under its 2 MB string limit, in one transaction', async () => {
    const f = await createFixture();
    // 100 messages x 30 clicks with long referrers and unicode sub IDs: about 3.5 MB of JSON.
    const messages = Array.from({ length: 100 }, (_, m) =>
      message(
        body(
          Array.from({ length: 30 }, (_, i) =>
            makeClick(
              f,
              `2026-02-0${1 + (i % 3)}T10:00:00.${String(m * 30 + i)
                .padStart(3, '0')
                .slice(-3)}Z`,
              {
                visitor_hash: `bulk-${m}-${i}`,
                referrer: `https://blog.example/${'r'.repeat(900)}?m=${m}`,
                sub1: `naïve-€-${'😀'.repeat(10)}`,
              },
            ),
          ),
        ),
      ),
    );
    const all = messages.flatMap((m) => (m.body as ClicksMessage).clicks);
    const statements = ingestStatements(
      env.DB,
      all.map((c) => ({ ...c, first_in_batch: 1 as const })),
      'ib_size',
    );
    expect(statements.length).toBeGreaterThan(4); // several inserts, then one rollup
    for (const chunk of jsonChunks(all, SQL_JSON_PARAM_BYTES)) {
      expect(new TextEncoder().encode(chunk).length).toBeLessThanOrEqual(SQL_JSON_PARAM_BYTES);
    }
    const chunked = jsonChunks(all, SQL_JSON_PARAM_BYTES).flatMap((chunk) => JSON.parse(chunk) as ClickRecord[]);
    expect(chunked).toEqual(all);

    const result = await consume(messages);
    expect(result.explicitAcks).toHaveLength(100);
    expect(result.retryMessages).toEqual([]);
    expect(await countRows(f)).toBe(3000);
    expect(await rollups(f)).toEqual(
      ['2026-02-01', '2026-02-02', '2026-02-03'].map((day) => ({
        day,
        clicks: 1000,
        unique_clicks: 1000,
        bot_clicks: 0,
      })),
    );
    expect((await clickRow(all[2999]?.click_id ?? ''))?.sub1).toBe(`naïve-€-${'😀'.repeat(10)}`);
  });

  it('writes nothing twice when a message is redelivered: no duplicate rows, no double rollup', async () => {
    const f = await createFixture();
    const clicks = [
      makeClick(f, '2026-01-11T08:00:00.000Z'),
      makeClick(f, '2026-01-11T08:00:05.000Z'),
      makeClick(f, '2026-01-11T08:00:09.000Z', { visitor_hash: 'visitor-b', is_bot: 1, device: 'bot' }),
    ];
    const first = message(body(clicks), 1, 'redelivered-1');
    expect((await consume([first])).explicitAcks).toEqual(['redelivered-1']);
    const before = await rollups(f);
    expect(before).toEqual([{ day: '2026-01-11', clicks: 2, unique_clicks: 1, bot_clicks: 1 }]);
    const flagsBefore = await uniqueFlags(clicks.map((c) => c.click_id));

    // The same message again (the consumer crashed after the write, before the ack).
    const again = message(body(clicks), 2, 'redelivered-1');
    expect((await consume([again])).explicitAcks).toEqual(['redelivered-1']);
    expect(await countRows(f)).toBe(3);
    expect(await rollups(f)).toEqual(before);
    expect(await uniqueFlags(clicks.map((c) => c.click_id))).toEqual(flagsBefore);
  });

  it('counts only the new clicks when a redelivered message shares a batch with new ones', async () => {
    const f = await createFixture();
    const old = makeClick(f, '2026-01-12T08:00:00.000Z');
    await consume([message(body([old]))]);
    const fresh = makeClick(f, '2026-01-12T09:00:00.000Z', { visitor_hash: 'visitor-new' });
    const result = await consume([message(body([old]), 3), message(body([fresh]))]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(await countRows(f)).toBe(2);
    expect(await rollups(f)).toEqual([{ day: '2026-01-12', clicks: 2, unique_clicks: 2, bot_clicks: 0 }]);
  });

  it('retries every message with a growing delay and acks none when D1 refuses the batch', async () => {
    const f = await createFixture();
    const { db, calls } = flakyDb(() => true);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m1 = message(body([makeClick(f, '2026-01-13T08:00:00.000Z')]), 1);
    const m2 = message(body([makeClick(f, '2026-01-13T08:00:01.000Z', { visitor_hash: 'v2' })]), 3);
    const result = await consume([m1, m2], { ...env, DB: db } as Env);
    expect(result.explicitAcks).toEqual([]);
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual([m1.id, m2.id].sort());
    expect(result.retries).toEqual([
      { msgId: m1.id, delaySeconds: ingestRetryDelay(1) },
      { msgId: m2.id, delaySeconds: ingestRetryDelay(3) },
    ]);
    expect(ingestRetryDelay(1)).toBeGreaterThan(0);
    expect(ingestRetryDelay(3)).toBeGreaterThan(ingestRetryDelay(1));
    expect(calls()).toBeGreaterThanOrEqual(1);
    expect(await countRows(f)).toBe(0);
    expect(logged(errors, 'clicks.message_failed')).toHaveLength(2);

    // Once D1 is back, the redelivered messages land once.
    const retried = await consume([
      { ...m1, attempts: 2 },
      { ...m2, attempts: 4 },
    ]);
    expect(retried.explicitAcks).toHaveLength(2);
    expect(await countRows(f)).toBe(2);
  });

  it('caps the retry delay', () => {
    expect(ingestRetryDelay(1)).toBe(5);
    expect(ingestRetryDelay(2)).toBe(10);
    expect(ingestRetryDelay(100)).toBe(600);
  });

  it('acks the messages that can be written and retries only the one that cannot', async () => {
    const f = await createFixture();
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    // Call 1: the whole batch fails; then one message at a time: the second fails again.
    const { db } = flakyDb((n) => n === 1 || n === 3);
    const m1 = message(body([makeClick(f, '2026-01-14T08:00:00.000Z', { visitor_hash: 'p1' })]));
    const m2 = message(body([makeClick(f, '2026-01-14T08:00:01.000Z', { visitor_hash: 'p2' })]));
    const m3 = message(body([makeClick(f, '2026-01-14T08:00:02.000Z', { visitor_hash: 'p3' })]));
    const result = await consume([m1, m2, m3], { ...env, DB: db } as Env);
    expect(result.explicitAcks.sort()).toEqual([m1.id, m3.id].sort());
    expect(result.retryMessages).toEqual([{ msgId: m2.id }]);
    expect(result.retries).toEqual([{ msgId: m2.id, delaySeconds: ingestRetryDelay(1) }]);
    expect(await countRows(f)).toBe(2);
  });

  it('acks and logs malformed messages, still writing the good ones beside them', async () => {
    const f = await createFixture();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const good = makeClick(f, '2026-01-15T08:00:00.000Z');
    const bad = [
      message(null),
      message('not json at all'),
      message({ v: 2, clicks: [] }),
      message({ v: 1, clicks: 'nope' }),
      message({ v: 1 }),
      message([good]),
    ];
    const ok = message(body([good]));
    const result = await consume([...bad, ok]);
    expect(result.explicitAcks.sort()).toEqual([...bad, ok].map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(await countRows(f)).toBe(1);
    const lines = logged(errors, 'clicks.malformed_message');
    expect(lines.map((l) => l.message_id).sort()).toEqual(bad.map((m) => m.id).sort());
  });
});

describe('clicks consumer: malformed clicks inside a well-formed message', () => {
  it('drops and logs clicks that are not click records, writes the rest, and acks', async () => {
    const f = await createFixture();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const good = makeClick(f, '2026-01-16T08:00:00.000Z');
    const junk = [
      1,
      'text',
      null,
      [],
      {},
      { ...makeClick(f, '2026-01-16T08:00:01.000Z'), click_id: 42 },
      { ...makeClick(f, '2026-01-16T08:00:02.000Z'), clicked_at: 'yesterday' },
      { ...makeClick(f, '2026-01-16T08:00:03.000Z'), offer_id: '1' },
      { ...makeClick(f, '2026-01-16T08:00:04.000Z'), visitor_hash: null },
    ];
    const m = message({ v: 1, clicks: [good, ...junk] });
    const result = await consume([m]);
    expect(result.explicitAcks).toEqual([m.id]);
    expect(result.retryMessages).toEqual([]);
    expect(await countRows(f)).toBe(1);
    expect(await clickRow(good.click_id)).not.toBeNull();
    expect(logged(errors, 'clicks.malformed_clicks')).toEqual([
      expect.objectContaining({ message_id: m.id, dropped: junk.length }),
    ]);
  });
});

describe('unique clicks across consumer batches (24 hour window)', () => {
  async function ingestSeparately(clicks: ClickRecord[]) {
    for (const c of clicks) expect((await consume([message(body([c]))])).explicitAcks).toHaveLength(1);
    return uniqueFlags(clicks.map((c) => c.click_id));
  }

  async function ingestTogether(clicks: ClickRecord[]) {
    expect((await consume([message(body(clicks))])).explicitAcks).toHaveLength(1);
    return uniqueFlags(clicks.map((c) => c.click_id));
  }

  it('marks a repeat within 24 hours in a later batch not unique', async () => {
    const f = await createFixture();
    expect(
      await ingestSeparately([
        makeClick(f, '2026-02-01T10:00:00.000Z'),
        makeClick(f, '2026-02-01T22:00:00.000Z'),
        makeClick(f, '2026-02-02T09:59:59.999Z'),
      ]),
    ).toEqual([1, 0, 0]);
  });

  it('marks a click unique again once 24 hours have passed since the visitor’s last click', async () => {
    const f = await createFixture();
    expect(
      await ingestSeparately([
        makeClick(f, '2026-02-03T10:00:00.000Z'),
        makeClick(f, '2026-02-04T10:00:00.001Z'),
        makeClick(f, '2026-02-05T12:00:00.000Z'),
      ]),
    ).toEqual([1, 1, 1]);
  });

  it('measures the window from the latest click, not the first unique one', async () => {
    const f = await createFixture();
    expect(
      await ingestSeparately([
        makeClick(f, '2026-02-06T10:00:00.000Z'),
        makeClick(f, '2026-02-07T09:00:00.000Z'),
        makeClick(f, '2026-02-07T11:00:00.000Z'),
      ]),
    ).toEqual([1, 0, 0]);
  });

  it('decides a click exactly 24 hours later the same way in one batch and across batches', async () => {
    const f = await createFixture();
    const g = await createFixture();
    const separate = await ingestSeparately([
      makeClick(f, '2026-02-08T10:00:00.000Z'),
      makeClick(f, '2026-02-09T10:00:00.000Z'),
    ]);
    const together = await ingestTogether([
      makeClick(g, '2026-02-08T10:00:00.000Z'),
      makeClick(g, '2026-02-09T10:00:00.000Z'),
    ]);
    expect(separate).toEqual(together);
    expect(separate).toEqual([1, 1]);
  });

  it('marks only one of two clicks in the same millisecond unique, even in separate batches', async () => {
    const f = await createFixture();
    const at = '2026-02-10T10:00:00.000Z';
    const flags = await ingestSeparately([makeClick(f, at), makeClick(f, at)]);
    expect(flags.sort()).toEqual([0, 1]);
    const g = await createFixture();
    expect((await ingestTogether([makeClick(g, at), makeClick(g, at)])).sort()).toEqual([0, 1]);
  });

  it('orders clicks by time inside a batch, whatever order they arrive in', async () => {
    const f = await createFixture();
    const early = makeClick(f, '2026-02-11T10:00:00.000Z');
    const late = makeClick(f, '2026-02-11T11:00:00.000Z');
    await ingestTogether([late, early]);
    expect(await uniqueFlags([early.click_id, late.click_id])).toEqual([1, 0]);
  });

  it('ignores bot clicks when deciding uniqueness, and never marks a bot unique', async () => {
    const f = await createFixture();
    expect(
      await ingestSeparately([
        makeClick(f, '2026-02-12T10:00:00.000Z', { is_bot: 1, device: 'bot' }),
        makeClick(f, '2026-02-12T10:30:00.000Z'),
        makeClick(f, '2026-02-12T10:45:00.000Z', { is_bot: 1, device: 'bot' }),
      ]),
    ).toEqual([0, 1, 0]);
  });

  it('keeps visitors, offers and publishers apart', async () => {
    const f = await createFixture();
    const g = await createFixture();
    expect(
      await ingestSeparately([
        makeClick(f, '2026-02-13T10:00:00.000Z'),
        makeClick(f, '2026-02-13T10:01:00.000Z', { visitor_hash: 'someone-else' }),
        makeClick(g, '2026-02-13T10:02:00.000Z'),
        makeClick({ ...f, publisherId: g.publisherId }, '2026-02-13T10:03:00.000Z'),
      ]),
    ).toEqual([1, 1, 1, 1]);
  });

  it('decides the same whether clicks arrive in one batch or split across batches in time order (property)', async () => {
    const f = await createFixture();
    const DAY = 86_400_000;
    const base = Date.UTC(2026, 2, 1, 0, 0, 0, 0);
    // Gaps that sit on and around the 24 hour boundary, plus arbitrary ones.
    const gap = fc.oneof(fc.constantFrom(0, 1, DAY - 1, DAY, DAY + 1, DAY / 2), fc.integer({ min: 0, max: 2 * DAY }));
    const clickSpec = fc.record({ gap, bot: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(clickSpec, { minLength: 1, maxLength: 7 }),
        fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
        async (specs, cuts) => {
          run += 1;
          let at = base;
          const timeline = specs.map((spec) => {
            at += spec.gap;
            return { at, bot: spec.bot };
          });
          // Reference: unique when not a bot and no earlier non-bot click less than 24 h before.
          const expected = timeline.map((click, i) =>
            !click.bot && !timeline.slice(0, i).some((e) => !e.bot && click.at - e.at < DAY) ? 1 : 0,
          );
          const build = (visitor: string) =>
            timeline.map((click) =>
              makeClick(f, new Date(click.at).toISOString(), {
                visitor_hash: visitor,
                is_bot: click.bot ? 1 : 0,
                device: click.bot ? 'bot' : 'desktop',
              }),
            );
          const together = build(`together-${run}`);
          await consume([message(body(together))]);
          expect(await uniqueFlags(together.map((c) => c.click_id))).toEqual(expected);

          const split = build(`split-${run}`);
          let chunk: ClickRecord[] = [];
          for (let i = 0; i < split.length; i++) {
            chunk.push(split[i] as ClickRecord);
            if (cuts[i] || i === split.length - 1) {
              await consume([message(body(chunk))]);
              chunk = [];
            }
          }
          expect(await uniqueFlags(split.map((c) => c.click_id))).toEqual(expected);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rolls clicks up per UTC day', async () => {
    const f = await createFixture();
    await ingestTogether([
      makeClick(f, '2026-02-14T23:59:59.999Z'),
      makeClick(f, '2026-02-15T00:00:00.000Z'),
      makeClick(f, '2026-02-15T00:00:01.000Z', { visitor_hash: 'other' }),
    ]);
    expect(await rollups(f)).toEqual([
      { day: '2026-02-14', clicks: 1, unique_clicks: 1, bot_clicks: 0 },
      { day: '2026-02-15', clicks: 2, unique_clicks: 1, bot_clicks: 0 },
    ]);
  });
});

describe('when the clicks Queue refuses a message', () => {
  it('writes the click to D1 directly, once', async () => {
    const f = await createFixture();
    await settle();
    const warns = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let sends = 0;
    const queue = {
      send: async () => {
        sends += 1;
        throw new Error('Queue send failed: simulated');
      },
      sendBatch: async () => {
        throw new Error('Queue send failed: simulated');
      },
    };
    const testEnv = { ...env, CLICKS_QUEUE: queue as unknown as Queue } as Env;
    const ctx = createExecutionContext();
    const response = await handler.fetch?.(
      new Request(`${BASE}/c/${f.offerId}/${f.publisherId}?sub1=fallback`, {
        headers: { 'user-agent': CHROME, 'cf-connecting-ip': '192.0.2.200' },
      }) as Request<unknown, IncomingRequestCfProperties>,
      testEnv,
      ctx,
    );
    expect(response?.status).toBe(302);
    const clickId = new URL(response?.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
    await waitOnExecutionContext(ctx);
    expect(sends).toBeGreaterThanOrEqual(1);
    // Written by the time the request's waitUntil work is done: no queue involved.
    expect(await clickRow(clickId)).toMatchObject({
      offer_id: f.offerId,
      sub1: 'fallback',
      ip_prefix: '192.0.2.0/24',
      is_unique: 1,
    });
    expect(logged(warns, 'clicks.written_directly')).toHaveLength(1);
    expect(await countRows(f)).toBe(1);
    expect(await rollups(f)).toEqual([expect.objectContaining({ clicks: 1, unique_clicks: 1 })]);
  });

  it('logs the click IDs it could not write anywhere, and still answers the visitor', async () => {
    const f = await createFixture();
    await settle();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const queue = {
      send: async () => {
        throw new Error('Queue send failed: simulated');
      },
    };
    const { db } = flakyDb(() => true);
    const testEnv = { ...env, CLICKS_QUEUE: queue as unknown as Queue, DB: db } as Env;
    const ctx = createExecutionContext();
    const response = await handler.fetch?.(
      new Request(`${BASE}/c/${f.offerId}/${f.publisherId}`, { headers: { 'user-agent': CHROME } }) as Request<
        unknown,
        IncomingRequestCfProperties
      >,
      testEnv,
      ctx,
    );
    expect(response?.status).toBe(302);
    const clickId = new URL(response?.headers.get('location') ?? '').searchParams.get('click_id');
    await waitOnExecutionContext(ctx);
    const lost = logged(errors, 'clicks.lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]?.click_ids).toEqual([clickId]);
  });
});
