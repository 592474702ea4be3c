// The notifications consumer against a real HTTP receiver on loopback: exact bytes and headers
// of each format, signatures checked with the standardwebhooks package, and what every kind of
// answer does to the delivery, the endpoint and the queue message.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { buildSnapshot } from '../../src/conversions/snapshot';
import worker from '../../src/index';
import { consumeNotifications } from '../../src/notify/consumer';
import type { NotificationMessage } from '../../src/notify/fanout';
import { conversionRow, goalIdOf, seedCreatedConversion, setDelivery, storedClick } from '../fixtures';
import { adminOk, createFixture, type Fixture, RECEIVER, received, uniqueKey } from '../helpers';
import { attemptsOf, deliveryRow } from '../postback-helpers';

interface Seeded {
  fixture: Fixture;
  endpoint: { id: number; signing_secret: string };
  conversionId: string;
  eventId: string;
  deliveryId: string;
}

let fixture: Fixture | undefined;
async function sharedFixture(): Promise<Fixture> {
  fixture ??= await createFixture();
  return fixture;
}
// A publisher may have at most 10 active endpoints (src/admin/endpoint-limit.ts): each test
// starts with its own.
beforeEach(() => {
  fixture = undefined;
});

/**
 * One endpoint, one conversion with fixed values, its conversion.created event and the
 * delivery row fanned out from it (no queue message is sent: tests hand batches to the consumer).
 */
async function seed(endpointInput: Record<string, unknown>, conversionId = `cv_${uniqueKey('t')}`): Promise<Seeded> {
  const f = await sharedFixture();
  const endpoint = await adminOk<{ id: number; signing_secret: string }>('POST', '/endpoints', {
    publisher_id: f.publisherId,
    events: ['conversion.created'],
    ...endpointInput,
  });
  const conversion = conversionRow(f, await goalIdOf(f.offerId, 'sale'), {
    id: conversionId,
    click_id: 'CLICK123',
    click_time: '2026-11-23T09:00:00.000Z',
    order_id: 'ORD-1',
    dedupe_key: `o:${conversionId}`,
    amount: 2609,
    revenue: 261,
    payout: 130,
    voucher: 'SUMMER',
    products: JSON.stringify([
      { sku: 'SKU-1', name: 'Shoe', unit_price: '26.09', quantity: 1, category: 'shoes', commission_group: null },
    ]),
    sub1: 'a&b=c',
    sub2: 'x y',
    sub5: 'z',
    created_at: '2026-11-23T10:15:00.000Z',
    updated_at: '2026-11-23T10:15:00.000Z',
  });
  const snapshot = buildSnapshot({
    event: 'conversion.created',
    eventTime: '2026-11-23T10:15:00.000Z',
    conversion,
    goalKey: 'sale',
    offerName: 'Summer sale',
    click: storedClick(f, '2026-11-23T09:00:00.000Z', {
      click_id: 'CLICK123',
      sub1: 'a&b=c',
      sub2: 'x y',
      sub5: 'z',
      referrer: 'https://www.google.com/search?q=red+shoes',
      search_engine: 'google',
      search_phrase: 'red shoes',
    }),
  });
  const { eventId, deliveries } = await seedCreatedConversion(conversion, { snapshot });
  const delivery = deliveries.find((d) => d.endpoint_id === endpoint.id);
  if (!delivery) throw new Error('no delivery row was fanned out');
  return { fixture: f, endpoint, conversionId, eventId, deliveryId: delivery.id };
}

function message(deliveryId: string, attempts = 1, id = `msg-${uniqueKey('m')}`) {
  return { id, timestamp: new Date(), attempts, body: { v: 1 as const, delivery_id: deliveryId } };
}

/**
 * Runs a batch through the Worker's queue handler. getQueueResult reports which messages were
 * acknowledged or retried but not the retry delays, so those are read off the retry() calls.
 */
async function runBatch(messages: ReturnType<typeof message>[], runEnv: Env = env) {
  const batch = createMessageBatch<NotificationMessage>('clickhop-notifications', messages);
  const ctx = createExecutionContext();
  const delays = watchRetries(batch);
  await worker.queue(batch, runEnv);
  return queueResult(batch, ctx, delays);
}

function watchRetries(batch: MessageBatch<NotificationMessage>) {
  const delays = new Map<string, number | undefined>();
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    m.retry = (options?: QueueRetryOptions) => {
      delays.set(m.id, options?.delaySeconds);
      retry(options);
    };
  }
  return delays;
}

async function queueResult(
  batch: MessageBatch<NotificationMessage>,
  ctx: ExecutionContext,
  delays: Map<string, number | undefined>,
) {
  const result = await getQueueResult(batch, ctx);
  return {
    explicitAcks: result.explicitAcks,
    retryMessages: result.retryMessages.map((r) => ({ msgId: r.msgId, delaySeconds: delays.get(r.msgId) })),
  };
}

/** What the seed's fixed conversion looks like in a payload (ids are this file's fixtures). */
function expectedData(f: Fixture, conversionId: string, extra = '') {
  return (
    `{"conversion_id":"${conversionId}","status":"pending","goal":"sale","offer_id":${f.offerId},` +
    `"offer_name":"Summer sale","advertiser_id":${f.advertiserId},"publisher_id":${f.publisherId},` +
    `"click_id":"CLICK123","click_time":"2026-11-23T09:00:00.000Z","conversion_time":"2026-11-23T10:15:00.000Z",` +
    `"order_id":"ORD-1","amount":"26.09","currency":"EUR","payout":"1.30","payout_currency":"EUR","voucher":"SUMMER",` +
    `"sub1":"a&b=c","sub2":"x y","sub3":null,"sub4":null,"sub5":"z","sub6":null${extra}}`
  );
}

describe('payload formats on the wire', () => {
  it('json: posts the exact envelope with Standard Webhooks headers that the standardwebhooks package verifies', async () => {
    const key = uniqueKey('json');
    const s = await seed({ url: `${RECEIVER}/${key}/hook`, format: 'json' }, 'cv_bytes_json');
    const result = await runBatch([message(s.deliveryId)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);

    const [request, ...more] = await received(key);
    expect(more).toEqual([]);
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(`/${key}/hook`);
    expect(request?.body).toBe(
      `{"type":"conversion.created","timestamp":"2026-11-23T10:15:00.000Z","data":${expectedData(s.fixture, 'cv_bytes_json')}}`,
    );
    const headers = request?.headers ?? {};
    expect(headers['content-type']).toBe('application/json');
    expect(headers['user-agent']).toBe('Clickhop-Notifications/1.0');
    expect(headers['webhook-id']).toBe(s.deliveryId);
    expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(headers['clickhop-test']).toBeUndefined();

    const verified = new Webhook(s.endpoint.signing_secret).verify(request?.body ?? '', headers);
    expect(verified).toMatchObject({ type: 'conversion.created', data: { conversion_id: 'cv_bytes_json' } });
    // The same check fails for a different secret or a changed body.
    expect(() => new Webhook(`whsec_${btoa('x'.repeat(32))}`).verify(request?.body ?? '', headers)).toThrow();
    expect(() => new Webhook(s.endpoint.signing_secret).verify(`${request?.body} `, headers)).toThrow();
  });

  it('json: adds products and click data only when the endpoint includes them', async () => {
    const key = uniqueKey('json-full');
    const s = await seed(
      { url: `${RECEIVER}/${key}`, format: 'json', include_products: true, include_click_data: true },
      'cv_bytes_json_full',
    );
    await runBatch([message(s.deliveryId)]);
    const [request] = await received(key);
    expect(request?.body).toBe(
      `{"type":"conversion.created","timestamp":"2026-11-23T10:15:00.000Z","data":${expectedData(
        s.fixture,
        'cv_bytes_json_full',
        ',"products":[{"sku":"SKU-1","name":"Shoe","unit_price":"26.09","quantity":1,"category":"shoes","commission_group":null}]' +
          ',"click":{"referrer":"https://www.google.com/search?q=red+shoes","search_engine":"google","search_phrase":"red shoes","country":"NL","device":"desktop","deep_link":null}',
      )}}`,
    );
  });

  it('form (flat fields): posts every field form-encoded, signed over the exact body', async () => {
    const key = uniqueKey('form');
    const s = await seed({ url: `${RECEIVER}/${key}`, format: 'form', include_click_data: true }, 'cv_bytes_form');
    await runBatch([message(s.deliveryId)]);
    const [request] = await received(key);
    const f = s.fixture;
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.body).toBe(
      'event=conversion.created&timestamp=2026-11-23T10%3A15%3A00.000Z&conversion_id=cv_bytes_form&status=pending' +
        `&goal=sale&offer_id=${f.offerId}&offer_name=Summer+sale&advertiser_id=${f.advertiserId}&publisher_id=${f.publisherId}` +
        '&click_id=CLICK123&click_time=2026-11-23T09%3A00%3A00.000Z&conversion_time=2026-11-23T10%3A15%3A00.000Z' +
        '&order_id=ORD-1&amount=26.09&currency=EUR&payout=1.30&payout_currency=EUR&voucher=SUMMER' +
        '&sub1=a%26b%3Dc&sub2=x+y&sub3=&sub4=&sub5=z&sub6=' +
        '&referrer=https%3A%2F%2Fwww.google.com%2Fsearch%3Fq%3Dred%2Bshoes&search_engine=google&phrase=red+shoes' +
        '&country=NL&device=desktop&deep_link=',
    );
    expect(new URLSearchParams(request?.body).get('sub1')).toBe('a&b=c');
    // A form body is not JSON: verify without parsing, as a form receiver would.
    expect(
      new Webhook(s.endpoint.signing_secret).verify(request?.body ?? '', request?.headers ?? {}, { jsonParse: false }),
    ).toBeUndefined();
  });

  it('form with one field (AwinTransactionPush): posts the JSON envelope in that field', async () => {
    const key = uniqueKey('awin-push');
    const s = await seed(
      { url: `${RECEIVER}/${key}/awin.php`, format: 'form', form_field: 'AwinTransactionPush' },
      'cv_bytes_awin',
    );
    await runBatch([message(s.deliveryId)]);
    const [request] = await received(key);
    const envelope = `{"type":"conversion.created","timestamp":"2026-11-23T10:15:00.000Z","data":${expectedData(s.fixture, 'cv_bytes_awin')}}`;
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.body).toBe(new URLSearchParams([['AwinTransactionPush', envelope]]).toString());
    expect(request?.body.startsWith('AwinTransactionPush=%7B%22type%22%3A%22conversion.created%22')).toBe(true);
    expect(new URLSearchParams(request?.body).get('AwinTransactionPush')).toBe(envelope);
    expect(
      new Webhook(s.endpoint.signing_secret).verify(request?.body ?? '', request?.headers ?? {}, { jsonParse: false }),
    ).toBeUndefined();
  });

  it('query (GET): renders the Awin example template, values URL-encoded, no body and no signature', async () => {
    const key = uniqueKey('awin-get');
    const s = await seed(
      {
        url: `${RECEIVER}/${key}/!!!merchantId!!!/pixel.php?clk=!!!clickRef!!!&cnv=!!!transactionId!!!&com=!!!commission!!!`,
        method: 'GET',
        format: 'query',
      },
      'cv_bytes_get',
    );
    const result = await runBatch([message(s.deliveryId)]);
    expect(result.explicitAcks).toHaveLength(1);
    const [request] = await received(key);
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe(`/${key}/${s.fixture.advertiserId}/pixel.php?clk=a%26b%3Dc&cnv=cv_bytes_get&com=1.30`);
    expect(request?.body).toBe('');
    expect(request?.headers['webhook-id']).toBe(s.deliveryId);
    expect(request?.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(request?.headers['webhook-signature']).toBeUndefined();
    expect(request?.headers['content-type']).toBeUndefined();
    const attempts = await attemptsOf(s.deliveryId);
    expect(attempts[0]?.request_url).toBe(
      `${RECEIVER}/${key}/${s.fixture.advertiserId}/pixel.php?clk=a%26b%3Dc&cnv=cv_bytes_get&com=1.30`,
    );
  });
});

describe('delivery outcomes', () => {
  it('marks a 2xx delivered and logs the attempt with status, latency and snippet', async () => {
    const key = uniqueKey('ok');
    const s = await seed({ url: `${RECEIVER}/${key}?status=201&body=thanks`, format: 'json' });
    const result = await runBatch([message(s.deliveryId)]);
    expect(result.explicitAcks).toEqual([expect.stringMatching(/^msg-/)]);
    const row = await deliveryRow(s.deliveryId);
    expect(row).toMatchObject({
      status: 'delivered',
      attempts: 1,
      last_status_code: 201,
      last_error: null,
      next_attempt_at: null,
    });
    expect(row?.delivered_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const [attempt, ...more] = await attemptsOf(s.deliveryId);
    expect(more).toEqual([]);
    expect(attempt).toMatchObject({
      attempt: 1,
      request_method: 'POST',
      status_code: 201,
      response_snippet: 'thanks',
      error: null,
    });
    expect(attempt?.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('retries a 500 with the schedule delay, keeping webhook-id and body across attempts', async () => {
    const key = uniqueKey('retry');
    const s = await seed({ url: `${RECEIVER}/${key}?status=500&body=boom`, format: 'json' });
    const msgId = `msg-${uniqueKey('retry')}`;
    const first = await runBatch([message(s.deliveryId, 1, msgId)]);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toEqual([{ msgId, delaySeconds: 15 }]);
    let row = await deliveryRow(s.deliveryId);
    expect(row).toMatchObject({ status: 'retrying', attempts: 1, last_status_code: 500, last_error: 'HTTP 500' });
    const due = Date.parse(row?.next_attempt_at ?? '') - Date.parse(row?.last_attempt_at ?? '');
    expect(due).toBeGreaterThanOrEqual(14_000);
    expect(due).toBeLessThan(20_000);

    // The Queue brings the same message back: attempt 2 waits 30 s, attempt 5 waits 4 min.
    expect((await runBatch([message(s.deliveryId, 2, msgId)])).retryMessages).toEqual([{ msgId, delaySeconds: 30 }]);
    expect((await runBatch([message(s.deliveryId, 5, msgId)])).retryMessages).toEqual([{ msgId, delaySeconds: 240 }]);
    row = await deliveryRow(s.deliveryId);
    expect(row).toMatchObject({ status: 'retrying', attempts: 3 });

    const requests = await received(key);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([s.deliveryId]));
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    for (const r of requests) expect(new Webhook(s.endpoint.signing_secret).verify(r.body, r.headers)).toBeTruthy();
    const attempts = await attemptsOf(s.deliveryId);
    expect(attempts.map((a) => [a.attempt, a.status_code, a.response_snippet])).toEqual([
      [1, 500, 'boom'],
      [2, 500, 'boom'],
      [3, 500, 'boom'],
    ]);
  });

  it('marks the delivery dead after the 21st attempt and hands the message to the dead-letter queue', async () => {
    const key = uniqueKey('dead');
    const s = await seed({ url: `${RECEIVER}/${key}?status=502`, format: 'json' });
    const msgId = `msg-${uniqueKey('dead')}`;
    const twentieth = await runBatch([message(s.deliveryId, 20, msgId)]);
    expect(twentieth.retryMessages).toEqual([{ msgId, delaySeconds: 7200 }]);
    const last = await runBatch([message(s.deliveryId, 21, msgId)]);
    // Retried without a delay: the Queue has no retries left (max_retries 20) and dead-letters it.
    expect(last.explicitAcks).toEqual([]);
    expect(last.retryMessages).toEqual([{ msgId, delaySeconds: undefined }]);
    const row = await deliveryRow(s.deliveryId);
    expect(row).toMatchObject({ status: 'dead', attempts: 2, next_attempt_at: null, last_status_code: 502 });
    expect(row?.last_error).toBe('HTTP 502; gave up after 21 attempts');
    // Should the Queue bring it back anyway, nothing is sent again.
    const again = await runBatch([message(s.deliveryId, 22, msgId)]);
    expect(again.retryMessages).toEqual([{ msgId, delaySeconds: undefined }]);
    expect(await received(key)).toHaveLength(2);
  });

  it('treats a 3xx as a failure and never follows the redirect', async () => {
    const key = uniqueKey('redirect');
    const target = uniqueKey('redirect-target');
    const s = await seed({
      url: `${RECEIVER}/${key}?status=302&location=${encodeURIComponent(`${RECEIVER}/${target}`)}`,
      format: 'json',
    });
    const result = await runBatch([message(s.deliveryId)]);
    expect(result.retryMessages).toHaveLength(1);
    expect(await received(key)).toHaveLength(1);
    expect(await received(target)).toEqual([]);
    const row = await deliveryRow(s.deliveryId);
    expect(row).toMatchObject({ status: 'retrying', last_status_code: 302 });
    expect(row?.last_error).toBe(`HTTP 302: redirect not followed (Location: ${RECEIVER}/${target})`);
  });

  it('disables the endpoint on 410 Gone, ends the delivery and acknowledges the message', async () => {
    const key = uniqueKey('gone');
    const s = await seed({ url: `${RECEIVER}/${key}?status=410`, format: 'json' });
    const result = await runBatch([message(s.deliveryId)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect(await deliveryRow(s.deliveryId)).toMatchObject({ status: 'dead', last_status_code: 410 });
    const endpoint = await adminOk<{ status: string; disabled_reason: string }>('GET', `/endpoints/${s.endpoint.id}`);
    expect(endpoint.status).toBe('disabled');
    expect(endpoint.disabled_reason).toMatch(/^410 Gone from http:\/\/127\.0\.0\.1:\d+\/.+ at \d{4}-/);
  });

  it('ends, without sending, a delivery whose endpoint was disabled meanwhile', async () => {
    const key = uniqueKey('disabled');
    const s = await seed({ url: `${RECEIVER}/${key}`, format: 'json' });
    await adminOk('PATCH', `/endpoints/${s.endpoint.id}`, { status: 'disabled' });
    const result = await runBatch([message(s.deliveryId)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await deliveryRow(s.deliveryId)).toMatchObject({
      status: 'dead',
      attempts: 0,
      last_error: 'endpoint disabled',
    });
    expect(await received(key)).toEqual([]);
  });

  it.each([
    ['429', 'retry_after=120', 120],
    ['503', 'retry_after=7', 15],
    ['429', 'retry_after=<HTTP date in 1 h>', 3600],
    ['503', 'retry_after=999999', 43_200],
    ['500', 'retry_after=600', 15],
  ])('on %s with %s waits the longer of Retry-After and the schedule (%i s)', async (status, query, delay) => {
    const key = uniqueKey(`ra-${status}`);
    const retryAfter = query.replace(
      '<HTTP date in 1 h>',
      encodeURIComponent(new Date(Date.now() + 3_600_000).toUTCString()),
    );
    const s = await seed({ url: `${RECEIVER}/${key}?status=${status}&${retryAfter}`, format: 'json' });
    const msgId = `msg-${uniqueKey('ra')}`;
    const result = await runBatch([message(s.deliveryId, 1, msgId)]);
    expect(result.retryMessages).toHaveLength(1);
    // An HTTP date is converted to seconds from now (allow a second or two of clock movement).
    expect(result.retryMessages[0]?.delaySeconds).toBeGreaterThanOrEqual(delay - 2);
    expect(result.retryMessages[0]?.delaySeconds).toBeLessThanOrEqual(delay);
    expect((await deliveryRow(s.deliveryId))?.status).toBe('retrying');
  });

  it('gives up on an attempt after the timeout and retries it', async () => {
    const key = uniqueKey('slow');
    const s = await seed({ url: `${RECEIVER}/${key}?delay_ms=3000`, format: 'json' });
    const batch = createMessageBatch<NotificationMessage>('clickhop-notifications', [message(s.deliveryId)]);
    const ctx = createExecutionContext();
    const delays = watchRetries(batch);
    const started = Date.now();
    await consumeNotifications(batch, env, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2500);
    const result = await queueResult(batch, ctx, delays);
    expect(result.retryMessages).toEqual([{ msgId: batch.messages[0]?.id, delaySeconds: 15 }]);
    const row = await deliveryRow(s.deliveryId);
    expect(row).toMatchObject({ status: 'retrying', last_status_code: null });
    expect(row?.last_error).toBe('timeout: no complete answer within 300 ms');
    expect((await attemptsOf(s.deliveryId))[0]).toMatchObject({ status_code: null, error: row?.last_error });
  });

  it('retries when the receiver closes the connection without answering', async () => {
    const key = uniqueKey('close');
    const s = await seed({ url: `${RECEIVER}/${key}?close=1`, format: 'json' });
    const result = await runBatch([message(s.deliveryId)]);
    expect(result.retryMessages).toHaveLength(1);
    const row = await deliveryRow(s.deliveryId);
    expect(row).toMatchObject({ status: 'retrying', last_status_code: null });
    expect(row?.last_error).toMatch(/^connection failed: /);
    expect(await received(key)).toHaveLength(1);
  });

  it('caps the logged response snippet at 1024 bytes', async () => {
    const key = uniqueKey('big');
    const s = await seed({ url: `${RECEIVER}/${key}?body=${'x'.repeat(1500)}`, format: 'json' });
    await runBatch([message(s.deliveryId)]);
    expect((await attemptsOf(s.deliveryId))[0]?.response_snippet).toBe('x'.repeat(1024));
  });

  it('refuses at send time a destination that is not allowed, without sending', async () => {
    const key = uniqueKey('ssrf');
    const s = await seed({ url: `${RECEIVER}/${key}`, format: 'json' });
    const result = await runBatch([message(s.deliveryId)], { ...env, ALLOW_PRIVATE_DESTINATIONS: 'false' });
    expect(result.explicitAcks).toHaveLength(1);
    const row = await deliveryRow(s.deliveryId);
    expect(row).toMatchObject({ status: 'dead', attempts: 1, last_status_code: null });
    expect(row?.last_error).toMatch(/^destination refused: URL port \d+ is not allowed/);
    expect(await received(key)).toEqual([]);
  });

  it('says in the log when a delivery dies without being sent, without its URL', async () => {
    const key = uniqueKey('ssrf-log');
    const s = await seed({ url: `${RECEIVER}/${key}?token=publisher-secret`, format: 'json' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await runBatch([message(s.deliveryId)], { ...env, ALLOW_PRIVATE_DESTINATIONS: 'false' });
    const lines = warn.mock.calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>);
    warn.mockRestore();
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: 'notify.attempt',
        delivery_id: s.deliveryId,
        outcome: 'dead',
        reason: 'destination_refused',
      }),
    );
    expect(JSON.stringify(lines)).not.toContain(key);
  });

  it('delivers the messages of one batch concurrently', async () => {
    const keys = [uniqueKey('par'), uniqueKey('par'), uniqueKey('par')];
    const seeded = [];
    for (const key of keys) seeded.push(await seed({ url: `${RECEIVER}/${key}?delay_ms=800`, format: 'json' }));
    const started = Date.now();
    const result = await runBatch(seeded.map((s) => message(s.deliveryId)));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.explicitAcks).toHaveLength(3);
    for (const s of seeded) expect((await deliveryRow(s.deliveryId))?.status).toBe('delivered');
  });
});

describe('at-least-once bookkeeping', () => {
  it('acknowledges a second message for a delivery another message owns, without sending', async () => {
    const key = uniqueKey('dup');
    const s = await seed({ url: `${RECEIVER}/${key}?status=500`, format: 'json' });
    const owner = await runBatch([message(s.deliveryId, 1, 'msg-owner')]);
    expect(owner.retryMessages).toHaveLength(1);
    const duplicate = await runBatch([message(s.deliveryId, 1, 'msg-duplicate')]);
    expect(duplicate.explicitAcks).toEqual(['msg-duplicate']);
    expect(await received(key)).toHaveLength(1);
    expect((await deliveryRow(s.deliveryId))?.message_id).toBe('msg-owner');
  });

  it('acknowledges a redelivered message of a delivery that is already delivered', async () => {
    const key = uniqueKey('redeliver');
    const s = await seed({ url: `${RECEIVER}/${key}`, format: 'json' });
    await runBatch([message(s.deliveryId, 1, 'msg-a')]);
    const again = await runBatch([message(s.deliveryId, 2, 'msg-a')]);
    expect(again.explicitAcks).toEqual(['msg-a']);
    expect(await received(key)).toHaveLength(1);
    expect(await attemptsOf(s.deliveryId)).toHaveLength(1);
  });

  it('retries the message when recording the outcome fails, and logs the attempt exactly once later', async () => {
    const key = uniqueKey('d1-fail');
    const s = await seed({ url: `${RECEIVER}/${key}`, format: 'json' });
    let batches = 0;
    const flakyDb = {
      prepare: (sql: string) => env.DB.prepare(sql),
      batch: (statements: D1PreparedStatement[]) => {
        batches++;
        // The first batch claims and loads; every later one (recording) fails.
        if (batches > 1) return Promise.reject(new Error('D1_ERROR: simulated outage'));
        return env.DB.batch(statements);
      },
    } as unknown as D1Database;
    const batch = createMessageBatch<NotificationMessage>('clickhop-notifications', [
      message(s.deliveryId, 1, 'msg-flaky'),
    ]);
    const ctx = createExecutionContext();
    const delays = watchRetries(batch);
    await consumeNotifications(batch, { ...env, DB: flakyDb }, { recordRetryWaitsMs: [1, 1] });
    const result = await queueResult(batch, ctx, delays);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: 'msg-flaky', delaySeconds: 15 }]);
    expect(batches).toBe(4); // claim + three tries to record
    expect(await deliveryRow(s.deliveryId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await attemptsOf(s.deliveryId)).toEqual([]);

    // The retried message sends again (same webhook-id) and records attempt 1 once.
    const retried = await runBatch([message(s.deliveryId, 2, 'msg-flaky')]);
    expect(retried.explicitAcks).toEqual(['msg-flaky']);
    const requests = await received(key);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([s.deliveryId, s.deliveryId]);
    expect((await attemptsOf(s.deliveryId)).map((a) => a.attempt)).toEqual([1]);
    expect(await deliveryRow(s.deliveryId)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('goes on normally when a recording write landed but its answer was lost', async () => {
    const key = uniqueKey('lost-answer');
    const s = await seed({ url: `${RECEIVER}/${key}?status=500`, format: 'json' });
    let batches = 0;
    const lossyDb = {
      prepare: (sql: string) => env.DB.prepare(sql),
      batch: async (statements: D1PreparedStatement[]) => {
        batches++;
        const results = await env.DB.batch(statements);
        if (batches === 2) throw new Error('D1_ERROR: network connection lost');
        return results;
      },
    } as unknown as D1Database;
    const batch = createMessageBatch<NotificationMessage>('clickhop-notifications', [
      message(s.deliveryId, 1, 'msg-lossy'),
    ]);
    const ctx = createExecutionContext();
    const delays = watchRetries(batch);
    await consumeNotifications(batch, { ...env, DB: lossyDb }, { recordRetryWaitsMs: [1] });
    const result = await queueResult(batch, ctx, delays);
    // The replayed write changed nothing, yet the attempt was ours: the retry chain goes on.
    expect(result.retryMessages).toEqual([{ msgId: 'msg-lossy', delaySeconds: 15 }]);
    expect(await attemptsOf(s.deliveryId)).toHaveLength(1);
    expect(await deliveryRow(s.deliveryId)).toMatchObject({ status: 'retrying', attempts: 1 });
  });

  it('lets the first message to record an attempt keep the chain when two raced past the claim', async () => {
    const key = uniqueKey('race');
    const s = await seed({ url: `${RECEIVER}/${key}?status=500&delay_ms=400`, format: 'json' });
    const first = runBatch([message(s.deliveryId, 1, 'msg-first')]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // As the reconciliation does when it believes the first message lost.
    await setDelivery(s.deliveryId, { message_id: null });
    const second = runBatch([message(s.deliveryId, 1, 'msg-second')]);
    const [a, b] = await Promise.all([first, second]);
    expect(a.retryMessages).toEqual([{ msgId: 'msg-first', delaySeconds: 15 }]);
    expect(b.explicitAcks).toEqual(['msg-second']);
    expect(await received(key)).toHaveLength(2);
    expect((await attemptsOf(s.deliveryId)).map((r) => r.attempt)).toEqual([1]);
  });

  it('retries the message when claiming fails, sending nothing', async () => {
    const key = uniqueKey('claim-fail');
    const s = await seed({ url: `${RECEIVER}/${key}`, format: 'json' });
    const brokenDb = {
      prepare: (sql: string) => env.DB.prepare(sql),
      batch: () => Promise.reject(new Error('D1_ERROR: simulated outage')),
    } as unknown as D1Database;
    const result = await runBatch([message(s.deliveryId, 3, 'msg-claim')], { ...env, DB: brokenDb });
    expect(result.retryMessages).toEqual([{ msgId: 'msg-claim', delaySeconds: 60 }]);
    expect(await received(key)).toEqual([]);
  });

  it('acknowledges a malformed message and one for an unknown delivery', async () => {
    const result = await runBatch([
      { id: 'msg-bad', timestamp: new Date(), attempts: 1, body: { v: 2 } as unknown as NotificationMessage },
      message('dlv_does_not_exist', 1, 'msg-unknown'),
    ] as ReturnType<typeof message>[]);
    expect(result.explicitAcks.sort()).toEqual(['msg-bad', 'msg-unknown']);
  });
});

describe('signing secret rotation', () => {
  it('signs with both secrets during the grace period, each verifiable on its own', async () => {
    const key = uniqueKey('rotate');
    const s = await seed({ url: `${RECEIVER}/${key}`, format: 'json' });
    const rotated = await adminOk<{ signing_secret: string }>('POST', `/endpoints/${s.endpoint.id}/rotate-secret`);
    expect(rotated.signing_secret).not.toBe(s.endpoint.signing_secret);
    await runBatch([message(s.deliveryId)]);
    const [request] = await received(key);
    expect(request?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(rotated.signing_secret).verify(request?.body ?? '', request?.headers ?? {})).toBeTruthy();
    expect(new Webhook(s.endpoint.signing_secret).verify(request?.body ?? '', request?.headers ?? {})).toBeTruthy();
  });

  it('signs with the new secret only when rotated with grace_hours 0', async () => {
    const key = uniqueKey('rotate0');
    const s = await seed({ url: `${RECEIVER}/${key}`, format: 'json' });
    const rotated = await adminOk<{ signing_secret: string }>('POST', `/endpoints/${s.endpoint.id}/rotate-secret`, {
      grace_hours: 0,
    });
    await runBatch([message(s.deliveryId)]);
    const [request] = await received(key);
    expect(request?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(rotated.signing_secret).verify(request?.body ?? '', request?.headers ?? {})).toBeTruthy();
    expect(() => new Webhook(s.endpoint.signing_secret).verify(request?.body ?? '', request?.headers ?? {})).toThrow();
  });
});
