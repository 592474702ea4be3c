// Faults driven to the end, where the per-feature suites check one attempt at a time: the
// clicks consumer under random D1 failures (before and after commit) until every message is
// acknowledged; postbacks whose conversion write fails or whose answer is lost, retried by the
// advertiser, with the notification queue refusing too, until the cron has reconciled; and
// deliveries to publishers that time out, fail, close, redirect or answer slowly, run through
// every retry until each one is delivered or dead.
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClicksMessage } from '../../src/click/ingest';
import type { ClickRecord } from '../../src/db/clicks';
import type { DeliveryRow } from '../../src/db/deliveries';
import worker from '../../src/index';
import { consumeNotifications } from '../../src/notify/consumer';
import type { NotificationMessage } from '../../src/notify/fanout';
import { reconcileDeliveries } from '../../src/notify/reconcile';
import { MAX_ATTEMPTS } from '../../src/notify/schedule';
import { clickRecord } from '../fixtures';
import { fuzz, quietWorkerLogs, report } from '../fuzz/helpers';
import {
  adminOk,
  BASE,
  createFixture,
  eventually,
  type Fixture,
  RECEIVER,
  received,
  scalar,
  uniqueKey,
} from '../helpers';
import { attemptsOf, mintLandedClick } from '../postback-helpers';

const handler = worker as ExportedHandler<Env>;

beforeEach(() => {
  quietWorkerLogs();
  // The faults below are logged as warnings and errors on purpose; keep them out of the output.
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterEach(() => {
  vi.restoreAllMocks();
});

type Fault = 'ok' | 'fail' | 'lost';

/**
 * A D1 binding whose batch() calls follow `plan`: 'fail' throws before anything is written,
 * 'lost' commits and then throws (the answer never arrived). Reads and single statements pass.
 */
function faultyDb(plan: () => Fault) {
  let faults = 0;
  const db = {
    prepare: (sql: string) => env.DB.prepare(sql),
    exec: (sql: string) => env.DB.exec(sql),
    batch: async (statements: D1PreparedStatement[]) => {
      const fault = plan();
      if (fault === 'fail') {
        faults++;
        throw new Error('D1_ERROR: simulated outage');
      }
      const results = await env.DB.batch(statements);
      if (fault === 'lost') {
        faults++;
        throw new Error('D1_ERROR: Network connection lost.');
      }
      return results;
    },
  };
  return { db: db as unknown as D1Database, faults: () => faults };
}

describe('clicks consumer under D1 faults', () => {
  /** A click of `visitor` (a bot or a browser) `at` seconds into the test day. */
  const clickOf = (f: Fixture, visitor: number, bot: boolean, at: number): ClickRecord =>
    clickRecord(f, new Date(Date.UTC(2026, 0, 20, 10) + at * 1000).toISOString(), {
      sub1: `v${visitor}`,
      user_agent: bot ? 'Googlebot/2.1' : 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0',
      device: bot ? 'bot' : 'desktop',
      visitor_hash: `visitor-${visitor}`,
      is_bot: bot ? 1 : 0,
    });

  it('lands every click exactly once, rollups included, whatever D1 fails and whenever (property)', async () => {
    let rounds = 0;
    let injected = 0;
    let clicksTotal = 0;
    await fuzz(
      'faults/clicks-consumer',
      fc.record({
        // Clicks: [visitor, bot, second of the day], split into messages of 1-5 clicks.
        clicks: fc.array(fc.tuple(fc.nat(5), fc.boolean(), fc.nat(600)), {
          minLength: 1,
          maxLength: 30,
        }),
        sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 30, maxLength: 30 }),
        // What each D1 batch call does, in order; after the plan runs out, D1 is healthy.
        plan: fc.array(fc.constantFrom<Fault>('ok', 'fail', 'fail', 'lost'), { maxLength: 20 }),
        // How the queue groups the messages still to deliver into consumer batches.
        batchSize: fc.integer({ min: 1, max: 4 }),
      }),
      async ({ clicks, sizes, plan, batchSize }) => {
        const f = await createFixture();
        const records = clicks.map(([visitor, bot, at]) => clickOf(f, visitor, bot, at));
        clicksTotal += records.length;
        const messages: { id: string; attempts: number; body: ClicksMessage }[] = [];
        for (let i = 0, k = 0; i < records.length; k++) {
          const size = sizes[k % sizes.length] as number;
          messages.push({
            id: `m-${clicksTotal}-${k}`,
            attempts: 0,
            body: { v: 1, clicks: records.slice(i, i + size) },
          });
          i += size;
        }
        let step = 0;
        const { db, faults } = faultyDb(() => plan[step++] ?? 'ok');
        const faultEnv = { ...env, DB: db } as Env;
        let pending = [...messages];
        for (let round = 0; pending.length > 0; round++) {
          expect(round, 'the consumer never finished').toBeLessThan(100);
          const next: typeof pending = [];
          for (let i = 0; i < pending.length; i += batchSize) {
            const group = pending.slice(i, i + batchSize).map((m) => ({ ...m, attempts: m.attempts + 1 }));
            const batch = createMessageBatch(
              'clickhop-clicks',
              group.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts, body: m.body })),
            );
            const ctx = createExecutionContext();
            await handler.queue?.(batch as MessageBatch, faultEnv, ctx);
            const result = await getQueueResult(batch, ctx);
            const acked = new Set(result.explicitAcks);
            const retried = new Set(result.retryMessages.map((r) => r.msgId));
            for (const m of group) {
              // Every message is either acknowledged or handed back for a retry, never dropped.
              expect(acked.has(m.id) !== retried.has(m.id), `message ${m.id} neither acked nor retried`).toBe(true);
              if (retried.has(m.id)) next.push(m);
            }
            rounds++;
          }
          pending = next;
        }
        injected += faults();

        expect(await scalar('SELECT COUNT(*) AS n FROM clicks WHERE offer_id = ?', f.offerId)).toBe(records.length);
        const humans = records.filter((r) => r.is_bot === 0);
        // The rollup counts exactly the stored rows: nothing counted twice by a replayed batch.
        const rows = await env.DB.prepare(
          `SELECT SUM(is_bot = 0) AS clicks, SUM(is_unique) AS unique_clicks, SUM(is_bot) AS bot_clicks
           FROM clicks WHERE offer_id = ?`,
        )
          .bind(f.offerId)
          .first();
        const rollup = await env.DB.prepare(
          `SELECT SUM(clicks) AS clicks, SUM(unique_clicks) AS unique_clicks, SUM(bot_clicks) AS bot_clicks
           FROM daily_click_stats WHERE offer_id = ?`,
        )
          .bind(f.offerId)
          .first();
        expect(rollup).toEqual(rows);
        expect(rollup).toMatchObject({ clicks: humans.length, bot_clicks: records.length - humans.length });
        // Every human visitor has a unique click, no bot has one. (That a visitor has only one
        // when its clicks land out of time order is checked on its own below.)
        const { results } = await env.DB.prepare(
          'SELECT visitor_hash, SUM(is_unique) AS uniques, MAX(is_bot) AS bot FROM clicks WHERE offer_id = ? GROUP BY visitor_hash, is_bot',
        )
          .bind(f.offerId)
          .all<{ visitor_hash: string; uniques: number; bot: number }>();
        for (const row of results) {
          if (row.bot === 1) expect(row.uniques).toBe(0);
          else expect(row.uniques).toBeGreaterThanOrEqual(1);
        }
      },
      60,
    );
    report(
      `faults: clicks consumer ${clicksTotal} clicks through ${rounds} consumer batches with ${injected} injected D1 faults -> every click exactly once`,
    );
  }, 120_000);

  it('keeps one unique click per visitor when a retried message lands after a later click of the same visitor', async () => {
    const f = await createFixture();
    const first = clickOf(f, 1, false, 0);
    const second = clickOf(f, 1, false, 60);
    const consume = async (id: string, clicks: ClickRecord[], db: D1Database = env.DB) => {
      const batch = createMessageBatch('clickhop-clicks', [
        { id, timestamp: new Date(), attempts: 1, body: { v: 1, clicks } },
      ]);
      const ctx = createExecutionContext();
      await handler.queue?.(batch as MessageBatch, { ...env, DB: db } as Env, ctx);
      return getQueueResult(batch, ctx);
    };
    // The first click's message meets a D1 outage and is retried later; the visitor's second
    // click, a minute after the first, lands in the meantime.
    const { db } = faultyDb(() => 'fail');
    expect((await consume('m-first', [first], db)).retryMessages).toHaveLength(1);
    expect((await consume('m-second', [second])).explicitAcks).toEqual(['m-second']);
    expect((await consume('m-first', [first])).explicitAcks).toEqual(['m-first']);
    // By definition the first click is the unique one and the second is not; either way the
    // visitor counts once.
    const { results } = await env.DB.prepare(
      'SELECT click_id, is_unique FROM clicks WHERE offer_id = ? ORDER BY clicked_at',
    )
      .bind(f.offerId)
      .all<{ click_id: string; is_unique: number }>();
    expect(results).toEqual([
      { click_id: first.click_id, is_unique: 1 },
      { click_id: second.click_id, is_unique: 0 },
    ]);
    expect(await scalar('SELECT SUM(unique_clicks) AS n FROM daily_click_stats WHERE offer_id = ?', f.offerId)).toBe(1);
  });
});

describe('postbacks under D1 and queue faults', () => {
  it('leaves exactly one conversion and one delivered notification per order when writes fail, answers get lost and the queue refuses', async () => {
    const f = await createFixture();
    const hook = uniqueKey('faults-postbacks');
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${hook}`,
      format: 'json',
      events: ['conversion.created'],
    });
    const orders = Array.from({ length: 40 }, (_, i) => ({ id: `F-${i}`, cents: 1_000 + i * 137 }));
    const clicks = new Map<string, string>();
    for (const order of orders) clicks.set(order.id, await mintLandedClick(f));

    // D1's batch() fails before commit or loses its answer after commit on a fixed share of
    // calls; the notifications queue refuses every other send.
    let calls = 0;
    const { db, faults } = faultyDb(() => (['fail', 'ok', 'lost', 'ok', 'ok'] as Fault[])[calls++ % 5] as Fault);
    let sends = 0;
    const queue = {
      send: (body: unknown, options?: QueueSendOptions) => env.NOTIFICATIONS_QUEUE.send(body, options),
      sendBatch: (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
        sends++;
        if (sends % 2 === 1) return Promise.reject(new Error('Queue send failed: simulated'));
        return env.NOTIFICATIONS_QUEUE.sendBatch(messages, options);
      },
    };
    const faultEnv = { ...env, DB: db, NOTIFICATIONS_QUEUE: queue as unknown as Queue } as Env;

    const statuses = new Map<number, number>();
    const answers = await Promise.all(
      orders.map(async (order) => {
        // The advertiser retries until it gets a 200, as S2S integrations do.
        for (let attempt = 1; ; attempt++) {
          expect(attempt, `order ${order.id} never succeeded`).toBeLessThan(20);
          const params = new URLSearchParams({
            click_id: clicks.get(order.id) as string,
            event: 'sale',
            order_id: order.id,
            amount: (order.cents / 100).toFixed(2),
            key: f.postbackKey,
          });
          const ctx = createExecutionContext();
          const response = await handler.fetch?.(
            new Request(`${BASE}/postback?${params}`) as Request<unknown, IncomingRequestCfProperties>,
            faultEnv,
            ctx,
          );
          await waitOnExecutionContext(ctx);
          const status = response?.status ?? 0;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          const body = (await response?.json()) as { conversion_id?: string; error?: { code: string } };
          if (status === 200) return { order, conversionId: body.conversion_id as string, attempts: attempt };
          // An infrastructure fault is a 5xx with the JSON error shape: the advertiser retries.
          expect(status).toBe(500);
          expect(body.error?.code).toBe('internal_error');
        }
      }),
    );
    expect(faults()).toBeGreaterThan(0);
    expect(statuses.get(500) ?? 0).toBeGreaterThan(0);

    // Exactly one conversion per order, the answers agree with it, and the money adds up.
    const { results } = await env.DB.prepare(
      'SELECT id, order_id, amount, revenue, payout FROM conversions WHERE offer_id = ? ORDER BY order_id',
    )
      .bind(f.offerId)
      .all<{ id: string; order_id: string; amount: number; revenue: number; payout: number }>();
    expect(results).toHaveLength(orders.length);
    const byOrder = new Map(results.map((r) => [r.order_id, r]));
    for (const answer of answers) expect(byOrder.get(answer.order.id)?.id).toBe(answer.conversionId);
    const sum = (pick: (cents: number) => number) => orders.reduce((total, o) => total + pick(o.cents), 0);
    expect(await scalar('SELECT SUM(amount) AS n FROM conversions WHERE offer_id = ?', f.offerId)).toBe(sum((c) => c));
    expect(await scalar('SELECT SUM(revenue) AS n FROM conversions WHERE offer_id = ?', f.offerId)).toBe(
      sum((c) => Math.floor((c + 5) / 10)),
    );
    expect(
      await scalar('SELECT SUM(payout_pending) AS n FROM daily_conversion_stats WHERE offer_id = ?', f.offerId),
    ).toBe(sum((c) => Math.floor((c + 10) / 20)));
    expect(
      await scalar(
        `SELECT COUNT(*) AS n FROM conversion_events e JOIN conversions c ON c.id = e.conversion_id WHERE c.offer_id = ?`,
        f.offerId,
      ),
    ).toBe(orders.length);
    expect(await scalar('SELECT COUNT(*) AS n FROM deliveries')).toBe(orders.length);

    // Deliveries whose enqueue failed (or whose request answered 500 after the commit) wait
    // for the cron; a reconciliation run as if a few minutes had passed sends them.
    await reconcileDeliveries(env, Date.now() + 5 * 60_000);
    await eventually(
      async () =>
        (await scalar(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'delivered'`)) === orders.length
          ? true
          : null,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const hits = await received(hook);
    expect(new Set(hits.map((h) => h.headers['webhook-id'])).size).toBe(orders.length);
    expect(hits).toHaveLength(orders.length);
    const retries = answers.reduce((n, a) => n + a.attempts - 1, 0);
    report(
      `faults: ${orders.length} orders, ${retries} advertiser retries after ${statuses.get(500) ?? 0} injected 500s ` +
        `(${faults()} D1 faults, ${Math.ceil(sends / 2)} refused queue sends) -> ${results.length} conversions, ` +
        `${hits.length} notifications, sums exact`,
    );
  }, 60_000);
});

describe('deliveries to misbehaving publishers', () => {
  const TIMEOUT_MS = 250;

  /** Runs one message through the consumer and says what became of it. */
  async function deliverOnce(deliveryId: string, messageId: string, attempts: number) {
    const batch = createMessageBatch<NotificationMessage>('clickhop-notifications', [
      { id: messageId, timestamp: new Date(), attempts, body: { v: 1, delivery_id: deliveryId } },
    ]);
    const ctx = createExecutionContext();
    let delay: number | undefined;
    const message = batch.messages[0] as Message<NotificationMessage>;
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delay = options?.delaySeconds;
      retry(options);
    };
    await consumeNotifications(batch, env, { timeoutMs: TIMEOUT_MS });
    const result = await getQueueResult(batch, ctx);
    if (result.explicitAcks.includes(messageId)) return 'acked' as const;
    expect(result.retryMessages.map((r) => r.msgId)).toEqual([messageId]);
    // Without a delay at the last attempt: the Queue hands the message to the dead-letter queue.
    return delay === undefined ? ('dead-lettered' as const) : ('retry' as const);
  }

  it('ends every delivery delivered or dead, with one logged attempt per request the publisher received', async () => {
    const f = await createFixture();
    const elsewhere = uniqueKey('fault-redirect-target');
    const behaviours = {
      ok: { query: 'status=204', end: 'delivered', attempts: 1 },
      slow: { query: 'delay_ms=100', end: 'delivered', attempts: 1 },
      recovers: { query: 'status=500', end: 'delivered', attempts: 4 },
      timeout: { query: `delay_ms=${TIMEOUT_MS * 4}`, end: 'dead', attempts: MAX_ATTEMPTS },
      closes: { query: 'close=1', end: 'dead', attempts: MAX_ATTEMPTS },
      redirects: {
        query: `status=307&location=${encodeURIComponent(`${RECEIVER}/${elsewhere}`)}`,
        end: 'dead',
        attempts: MAX_ATTEMPTS,
      },
      overloaded: { query: 'status=503&retry_after=1', end: 'dead', attempts: MAX_ATTEMPTS },
      missing: { query: 'status=404', end: 'dead', attempts: MAX_ATTEMPTS },
      gone: { query: 'status=410', end: 'dead', attempts: 1 },
    } as const;
    const endpoints = new Map<string, { id: number; key: string }>();
    for (const name of Object.keys(behaviours) as (keyof typeof behaviours)[]) {
      const key = uniqueKey(`fault-${name}`);
      const endpoint = await adminOk<{ id: number }>('POST', '/endpoints', {
        publisher_id: f.publisherId,
        url: `${RECEIVER}/${key}?${behaviours[name].query}`,
        format: 'json',
        events: ['conversion.created'],
      });
      endpoints.set(name, { id: endpoint.id, key });
    }
    // One conversion fans out to every endpoint; the queue messages are held back, so this test
    // plays the Queue and drives each delivery through every retry itself.
    const held: string[] = [];
    const queue = {
      send: async () => {},
      sendBatch: async (messages: Iterable<MessageSendRequest<NotificationMessage>>) => {
        for (const m of messages) held.push(m.body.delivery_id);
      },
    };
    const ctx = createExecutionContext();
    const response = await handler.fetch?.(
      new Request(
        `${BASE}/postback?${new URLSearchParams({ click_id: await mintLandedClick(f), order_id: 'FAULTS-1', key: f.postbackKey })}`,
      ) as Request<unknown, IncomingRequestCfProperties>,
      { ...env, NOTIFICATIONS_QUEUE: queue as unknown as Queue } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response?.status).toBe(200);
    expect(held).toHaveLength(endpoints.size);

    const deliveryOf = async (endpointId: number) =>
      (await env.DB.prepare('SELECT * FROM deliveries WHERE endpoint_id = ?')
        .bind(endpointId)
        .first<DeliveryRow>()) as DeliveryRow;
    const outcomes = new Map<string, string>();
    for (const [name, { id, key }] of endpoints) {
      const delivery = await deliveryOf(id);
      const messageId = `msg-${name}`;
      for (let attempt = 1; ; attempt++) {
        expect(attempt, `${name} never ended`).toBeLessThanOrEqual(MAX_ATTEMPTS);
        if (name === 'recovers' && attempt === 4) {
          // The publisher fixes its server; the next retry goes through.
          await adminOk('PATCH', `/endpoints/${id}`, { url: `${RECEIVER}/${key}?status=200` });
        }
        const outcome = await deliverOnce(delivery.id, messageId, attempt);
        if (outcome !== 'retry') {
          outcomes.set(name, outcome);
          break;
        }
      }
    }

    const lines: string[] = [];
    for (const [name, { id, key }] of endpoints) {
      const expected = behaviours[name as keyof typeof behaviours];
      const delivery = await deliveryOf(id);
      const attempts = await attemptsOf(delivery.id);
      const requests = await received(key);
      expect(delivery.status, name).toBe(expected.end);
      expect(delivery.attempts, name).toBe(expected.attempts);
      // Nothing sent without a record, nothing recorded that was not sent; same webhook-id throughout.
      expect(
        attempts.map((a) => a.attempt),
        name,
      ).toEqual(Array.from({ length: expected.attempts }, (_, i) => i + 1));
      expect(requests, name).toHaveLength(expected.attempts);
      expect(new Set(requests.map((r) => r.headers['webhook-id'])), name).toEqual(new Set([delivery.id]));
      expect(new Set(requests.map((r) => r.body)).size, name).toBe(1);
      // The dead ones after 21 attempts go to the dead-letter queue; 410 is acknowledged.
      expect(outcomes.get(name), name).toBe(
        expected.end === 'delivered' || name === 'gone' ? 'acked' : 'dead-lettered',
      );
      lines.push(`${name} ${delivery.status} after ${delivery.attempts}`);
    }
    // The redirect was never followed.
    expect(await received(elsewhere)).toEqual([]);
    const gone = await adminOk<{ status: string }>('GET', `/endpoints/${endpoints.get('gone')?.id}`);
    expect(gone.status).toBe('disabled');
    report(`faults: deliveries ${lines.join(', ')}; every attempt logged once and received once`);
  }, 90_000);
});
