// No dead end loses data: a message whose consumer gives up goes to its dead-letter queue, the
// DLQ's consumer parks it in D1, the operator sees it on the dashboard (count and oldest age)
// and retries it, and its clicks or its notification then land exactly once. Poison messages
// (bodies no consumer can decode) are parked with their reason and cannot be retried.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inviteUser, tokenOperator } from '../../src/auth';
import type { ClicksMessage } from '../../src/click/ingest';
import { PARKED_SUMMARY_SQL, type ParkedRow } from '../../src/db/parked';
import worker from '../../src/index';
import type { NotificationMessage } from '../../src/notify';
import { MAX_ATTEMPTS } from '../../src/notify/schedule';
import { clickRecord, conversionRow, goalIdOf, seedCreatedConversion, seedEndpoint } from '../fixtures';
import {
  admin,
  adminOk,
  worker as call,
  clicksOfOffer,
  createFixture,
  eventually,
  RECEIVER,
  received,
  uniqueKey,
} from '../helpers';

const handler = worker as Required<Pick<ExportedHandler<Env>, 'queue'>>;
const SIGNED_IN = { authorization: `Basic ${btoa('operator:test-admin-token')}` };

afterEach(() => {
  vi.restoreAllMocks();
});

type Sent = { id: string; attempts: number; body: unknown };

/** Runs the Worker's queue handler on one batch of `queue` and answers what it acked and retried. */
async function consume(queue: string, messages: Sent[], testEnv: Env = env) {
  const batch = createMessageBatch(
    queue,
    messages.map((m) => ({ ...m, timestamp: new Date() })),
  ) as MessageBatch;
  const delays: (number | undefined)[] = [];
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    m.retry = (options?: QueueRetryOptions) => {
      delays.push(options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await handler.queue(batch, testEnv, ctx);
  return { ...(await getQueueResult(batch, ctx)), delays };
}

/** An Env whose D1 refuses every batch, as during an outage. */
function d1Down(): Env {
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'batch') return () => Promise.reject(new Error('D1_ERROR: simulated outage'));
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return Object.create(env, { DB: { value: db } }) as Env;
}

async function parkedRows(): Promise<ParkedRow[]> {
  return (await env.DB.prepare('SELECT * FROM parked_messages ORDER BY first_failed_at, id').all<ParkedRow>()).results;
}

async function parkedOf(messageId: string): Promise<ParkedRow> {
  const row = await env.DB.prepare('SELECT * FROM parked_messages WHERE message_id = ?')
    .bind(messageId)
    .first<ParkedRow>();
  if (!row) throw new Error(`nothing parked for ${messageId}`);
  return row;
}

async function dashboard(query = ''): Promise<string> {
  const response = await call(`/dashboard${query}`, { headers: SIGNED_IN });
  expect(response.status).toBe(200);
  return response.text();
}

/** The retry button's form on the dashboard for a parked message: its action and CSRF token. */
function retryForm(page: string, parkedId: string): { action: string; csrf: string } {
  const form = new RegExp(
    `<tr data-parked-id="${parkedId}">[\\s\\S]*?<form class="inline" method="post" action="([^"]+)"><input type="hidden" name="_csrf" value="([^"]+)">`,
  ).exec(page);
  if (!form) throw new Error(`no retry form for ${parkedId}`);
  return { action: form[1] as string, csrf: form[2] as string };
}

function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = SIGNED_IN) {
  return call(path, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

const rollupClicks = async (offerId: number) =>
  (
    await env.DB.prepare('SELECT COALESCE(SUM(clicks), 0) AS n FROM daily_click_stats WHERE offer_id = ?')
      .bind(offerId)
      .first<{ n: number }>()
  )?.n ?? 0;

describe('a click message from failure to the dead-letter queue to recovery', () => {
  it('is parked from the DLQ, shown on the dashboard, retried once, and its clicks land exactly once', async () => {
    const f = await createFixture();
    const now = Date.now();
    const body: ClicksMessage = {
      v: 1,
      clicks: [
        clickRecord(f, new Date(now - 60_000).toISOString(), { visitor_hash: 'visitor-dlq-1' }),
        clickRecord(f, new Date(now - 30_000).toISOString(), { visitor_hash: 'visitor-dlq-2' }),
      ],
    };

    // The last of the clicks queue's 11 deliveries fails: the consumer retries, so the Queue
    // hands the message to clickhop-clicks-dlq.
    const failed = await consume('clickhop-clicks', [{ id: 'clicks-msg-1', attempts: 11, body }], d1Down());
    expect(failed.retryMessages.map((m) => m.msgId)).toEqual(['clicks-msg-1']);
    expect(failed.explicitAcks).toEqual([]);
    expect(await clicksOfOffer(f.offerId)).toEqual([]);

    const dead = await consume('clickhop-clicks-dlq', [{ id: 'clicks-dlq-1', attempts: 1, body }]);
    expect(dead.explicitAcks).toEqual(['clicks-dlq-1']);
    const parked = await parkedOf('clicks-dlq-1');
    expect(parked).toMatchObject({
      queue: 'clickhop-clicks',
      body_encoding: 'json',
      reason: 'retries_exhausted',
      error: 'the clickhop-clicks consumer gave up after 11 deliveries',
      attempts: 11,
      status: 'parked',
      retries: 0,
      retried_at: null,
    });
    expect(JSON.parse(parked.body)).toEqual(body);
    expect(parked.first_failed_at).toBe(parked.parked_at);

    // The DLQ delivers the same message again (its ack was lost): nothing changes.
    expect((await consume('clickhop-clicks-dlq', [{ id: 'clicks-dlq-1', attempts: 2, body }])).explicitAcks).toEqual([
      'clicks-dlq-1',
    ]);
    expect(await parkedOf('clicks-dlq-1')).toEqual(parked);

    // The dashboard says so at the top, with the age of the oldest, and lists it with a retry button.
    const page = await dashboard();
    const alert = /<p class="notice error" role="alert" id="parked-alert" data-parked="1">([\s\S]*?)<\/p>/.exec(page);
    expect(alert?.[1]).toContain('1 click message (clickhop-clicks), oldest failed 0 min ago');
    expect(page.indexOf('id="parked-alert"')).toBeLessThan(page.indexOf('id="today-title"'));
    const form = retryForm(page, parked.id);
    expect(form.action).toBe(`/dashboard/parked/${parked.id}/retry`);

    // The API lists it, body included.
    const listed = await adminOk<{ data: Record<string, unknown>[] }>('GET', '/parked?status=parked');
    expect(listed.data).toEqual([expect.objectContaining({ id: parked.id, body: parked.body, attempts: 11 })]);

    // A post without the page's token changes nothing, even with the Basic credential.
    const forged = await postForm(form.action, { _csrf: `${Math.floor(now / 1000)}.${'A'.repeat(43)}` });
    expect(forged.status).toBe(403);
    expect((await parkedOf('clicks-dlq-1')).status).toBe('parked');

    // The cause is gone; the operator retries from the dashboard.
    const retried = await postForm(form.action, { _csrf: form.csrf });
    expect(retried.status).toBe(303);
    expect(retried.headers.get('location')).toBe('/dashboard?parked=resent#parked');
    expect((await dashboard('?parked=resent')).match(/id="parked-notice">([^<]*)</)?.[1]).toBe(
      'The message was sent back to its queue.',
    );

    // The real clicks queue delivers it to the consumer: both clicks, once each, in the rollup too.
    const rows = await eventually(async () => {
      const stored = await clicksOfOffer(f.offerId);
      return stored.length >= 2 ? stored : null;
    });
    expect(rows.map((r) => r.click_id).sort()).toEqual(body.clicks.map((c) => c.click_id).sort());
    expect(await eventually(async () => ((await rollupClicks(f.offerId)) === 2 ? 2 : null))).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await clicksOfOffer(f.offerId)).toHaveLength(2);
    expect(await rollupClicks(f.offerId)).toBe(2);

    const after = await parkedOf('clicks-dlq-1');
    expect(after).toMatchObject({ status: 'retried', retries: 1, retried_at: expect.stringMatching(/^\d{4}-/) });
    expect(await dashboard()).toContain('id="parked-alert" data-parked="0">No queue message is parked.');

    // Audited, as the admin token that signs the dashboard in.
    const audit = await env.DB.prepare(
      "SELECT actor_kind, resource, resource_id FROM audit_log WHERE action = 'retryParked' AND resource_id = ?",
    )
      .bind(parked.id)
      .all();
    expect(audit.results).toEqual([{ actor_kind: 'token', resource: 'parked_message', resource_id: parked.id }]);

    // A second retry sends nothing.
    const again = await admin('POST', `/parked/${parked.id}/retry`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'not_parked' } });
  });

  it('comes back to the same row when the retried message fails again, its attempts added up', async () => {
    const f = await createFixture();
    const body: ClicksMessage = { v: 1, clicks: [clickRecord(f, new Date().toISOString())] };
    await consume('clickhop-clicks-dlq', [{ id: 'again-dlq-1', attempts: 1, body }]);
    const first = await parkedOf('again-dlq-1');
    // Sent back, but into a queue that is not consumed here: the DLQ hands it back later.
    const send = vi.spyOn(env.CLICKS_QUEUE, 'send').mockResolvedValue(undefined as unknown as QueueSendResponse);
    expect((await admin('POST', `/parked/${first.id}/retry`)).status).toBe(202);
    expect(send).toHaveBeenCalledWith(body, { contentType: 'json' });
    await consume('clickhop-clicks-dlq', [{ id: 'again-dlq-2', attempts: 1, body }]);
    const back = await parkedOf('again-dlq-2');
    expect(back).toMatchObject({
      id: first.id,
      status: 'parked',
      attempts: 22,
      retries: 1,
      first_failed_at: first.first_failed_at,
    });
    expect(back.parked_at >= first.parked_at).toBe(true);
  });

  it('gives the claim back and says so when the queue refuses the retried message', async () => {
    const f = await createFixture();
    const body: ClicksMessage = { v: 1, clicks: [clickRecord(f, new Date().toISOString())] };
    await consume('clickhop-clicks-dlq', [{ id: 'refused-dlq-1', attempts: 1, body }]);
    const parked = await parkedOf('refused-dlq-1');
    vi.spyOn(env.CLICKS_QUEUE, 'send').mockRejectedValue(new Error('Queue send failed: overloaded'));
    const refused = await admin('POST', `/parked/${parked.id}/retry`);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { code: 'queue_unavailable' } });
    expect(await parkedOf('refused-dlq-1')).toMatchObject({ status: 'parked', retries: 0 });
  });

  it('keeps a DLQ message in its queue, retried with backoff, while D1 refuses to park it', async () => {
    const body = { v: 1, clicks: [] };
    const result = await consume('clickhop-clicks-dlq', [{ id: 'outage-dlq-1', attempts: 3, body }], d1Down());
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(['outage-dlq-1']);
    expect(result.delays).toEqual([120]);
    expect((await parkedRows()).some((row) => row.message_id === 'outage-dlq-1')).toBe(false);
  });
});

describe('a notification message from failure to the dead-letter queue to recovery', () => {
  it('is parked, its dead delivery reopened by the retry, and the publisher gets it exactly once', async () => {
    const f = await createFixture();
    const key = uniqueKey('parked');
    const endpoint = await seedEndpoint({ publisher_id: f.publisherId, url: `${RECEIVER}/${key}?status=500` });
    const { deliveries } = await seedCreatedConversion(conversionRow(f, await goalIdOf(f.offerId)));
    const delivery = deliveries[0];
    if (!delivery) throw new Error('no delivery');
    const body: NotificationMessage = { v: 1, delivery_id: delivery.id };

    // Its last attempt (21st) fails: the delivery is dead and the message goes to the DLQ.
    const failed = await consume('clickhop-notifications', [{ id: 'note-msg-1', attempts: MAX_ATTEMPTS, body }]);
    expect(failed.retryMessages.map((m) => m.msgId)).toEqual(['note-msg-1']);
    expect((await adminOk<{ status: string }>('GET', `/deliveries/${delivery.id}`)).status).toBe('dead');

    await consume('clickhop-notifications-dlq', [{ id: 'note-dlq-1', attempts: 1, body }]);
    const parked = await parkedOf('note-dlq-1');
    expect(parked).toMatchObject({ queue: 'clickhop-notifications', reason: 'retries_exhausted', attempts: 21 });
    expect(await dashboard()).toMatch(
      /data-queue="clickhop-notifications" data-waiting="1">1 notification message \(clickhop-notifications\)/,
    );

    // Retrying while the endpoint is disabled says why and leaves the message parked.
    await adminOk('PATCH', `/endpoints/${endpoint.id}`, { status: 'disabled' });
    const disabled = await admin('POST', `/parked/${parked.id}/retry`);
    expect(disabled.status).toBe(409);
    expect(disabled.body).toMatchObject({ error: { code: 'endpoint_disabled' } });
    expect((await parkedOf('note-dlq-1')).status).toBe('parked');

    // The publisher fixed their server; the operator re-enables the endpoint and retries.
    await adminOk('PATCH', `/endpoints/${endpoint.id}`, { status: 'active', url: `${RECEIVER}/${key}` });
    const retried = await adminOk<{ outcome: string; status: string }>('POST', `/parked/${parked.id}/retry`);
    expect(retried).toMatchObject({ outcome: 'resent', status: 'retried' });

    const done = await eventually(async () => {
      const row = await adminOk<{ status: string; attempt_count: number }>('GET', `/deliveries/${delivery.id}`);
      return row.status === 'delivered' ? row : null;
    });
    expect(done.attempt_count).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const requests = await received(key);
    const answered = requests.filter((r) => !r.url.includes('status=500'));
    expect(answered).toHaveLength(1);
    expect(answered[0]?.headers['webhook-id']).toBe(delivery.id);

    // Retrying a parked copy of a delivery that was delivered meanwhile sends nothing.
    await consume('clickhop-notifications-dlq', [{ id: 'note-dlq-2', attempts: 1, body }]);
    const stale = await adminOk<{ outcome: string }>('POST', `/parked/${(await parkedOf('note-dlq-2')).id}/retry`);
    expect(stale.outcome).toBe('already_delivered');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await received(key)).filter((r) => !r.url.includes('status=500'))).toHaveLength(1);
  });
});

describe('the retry from the portal', () => {
  /** Cookies as a browser keeps them, for one signed-in operator. */
  const jar = new Map<string, string>();
  async function browse(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await call(path, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [name = '', value = ''] = (line.split(';')[0] ?? '').split('=');
      jar.set(name, value);
    }
    return response;
  }
  const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

  it('shows the operator overview’s line and retries with the session’s CSRF token', async () => {
    const { token } = await inviteUser(
      env.DB,
      tokenOperator,
      { email: 'ops-parked@example.com', role: 'operator', publisher_id: null, advertiser_id: null },
      Date.now(),
    );
    const invite = await browse(`/portal/invite?token=${token}`);
    const password = 'parked portal password';
    const accepted = await browse('/portal/invite', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, password, confirm: password, _csrf: csrfOf(await invite.text()) }).toString(),
    });
    expect(accepted.status).toBe(303);

    const f = await createFixture();
    const body: ClicksMessage = { v: 1, clicks: [clickRecord(f, new Date().toISOString())] };
    await consume('clickhop-clicks-dlq', [{ id: 'portal-dlq-1', attempts: 1, body }]);
    const parked = await parkedOf('portal-dlq-1');

    const home = await (await browse('/portal')).text();
    expect(home).toMatch(/id="parked-summary" data-parked="\d+">Parked: /);
    const form = new RegExp(
      `<tr data-parked-id="${parked.id}">[\\s\\S]*?<form class="inline" method="post" action="([^"]+)"><input type="hidden" name="_csrf" value="([^"]+)">`,
    ).exec(home);
    expect(form?.[1]).toBe(`/portal/parked/${parked.id}/retry`);
    const post = (csrf: string) =>
      browse(form?.[1] ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf }).toString(),
      });

    // A form from elsewhere (no session token) changes nothing.
    expect((await post('forged')).status).toBe(403);
    expect((await parkedOf('portal-dlq-1')).status).toBe('parked');

    const retried = await post(form?.[2] ?? '');
    expect(retried.status).toBe(303);
    expect(retried.headers.get('location')).toBe('/portal?parked=resent#parked');
    expect(await parkedOf('portal-dlq-1')).toMatchObject({ status: 'retried', retries: 1 });
    const audit = await env.DB.prepare(
      "SELECT actor_kind, actor_label FROM audit_log WHERE action = 'retryParked' AND resource_id = ?",
    )
      .bind(parked.id)
      .first();
    expect(audit).toEqual({ actor_kind: 'user', actor_label: expect.stringContaining('<ops-parked@example.com>') });
    await eventually(async () => ((await clicksOfOffer(f.offerId)).length === 1 ? true : null));
  });
});

describe('poison messages', () => {
  it('parks an undecodable clicks message before the consumer drops it, with its reason, and refuses to retry it', async () => {
    const result = await consume('clickhop-clicks', [{ id: 'poison-1', attempts: 1, body: { v: 9, clicks: 'x' } }]);
    expect(result.explicitAcks).toEqual(['poison-1']);
    const parked = await parkedOf('poison-1');
    expect(parked).toMatchObject({
      queue: 'clickhop-clicks',
      reason: 'undecodable',
      error: 'unknown message version 9',
      attempts: 1,
      body: '{"v":9,"clicks":"x"}',
    });
    const retry = await admin('POST', `/parked/${parked.id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body).toMatchObject({ error: { code: 'not_retryable' } });
    expect(await dashboard()).toMatch(new RegExp(`data-parked-id="${parked.id}">[\\s\\S]*?not retryable`));
  });

  it('parks what the DLQ holds whatever its body: text, bytes, a notification without a delivery', async () => {
    const bytes = new Uint8Array([0, 255, 1, 2]);
    await consume('clickhop-notifications-dlq', [
      { id: 'poison-text', attempts: 1, body: 'not json at all' },
      { id: 'poison-bytes', attempts: 1, body: bytes.buffer },
      { id: 'poison-shape', attempts: 1, body: { v: 1 } },
    ]);
    expect(await parkedOf('poison-text')).toMatchObject({
      body: 'not json at all',
      body_encoding: 'text',
      reason: 'undecodable',
      error: 'not a JSON object (string)',
    });
    expect(await parkedOf('poison-bytes')).toMatchObject({
      body: 'AP8BAg==',
      body_encoding: 'bytes',
      reason: 'undecodable',
    });
    expect(await parkedOf('poison-shape')).toMatchObject({ error: 'delivery_id is not a string', body: '{"v":1}' });
  });

  it('retries a poison message instead of letting the consumer drop it while D1 refuses to park it', async () => {
    const result = await consume('clickhop-notifications', [{ id: 'poison-outage', attempts: 1, body: [] }], d1Down());
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(['poison-outage']);
    expect(result.delays).toEqual([30]);
  });
});

describe('the parked reads', () => {
  it('counts what waits per queue through the partial index', async () => {
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${PARKED_SUMMARY_SQL}`).all();
    expect(JSON.stringify(plan.results)).toContain('parked_messages_waiting');
  });

  it('lists oldest failure first, page by page, and filters by queue and status', async () => {
    const all = await parkedRows();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: { id: string }[]; next_cursor: string | null } = await adminOk(
        'GET',
        `/parked?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.data.map((row) => row.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.map((row) => row.id));
    const notifications = await adminOk<{ data: { queue: string }[] }>('GET', '/parked?queue=clickhop-notifications');
    expect(notifications.data.length).toBeGreaterThan(0);
    expect(notifications.data.every((row) => row.queue === 'clickhop-notifications')).toBe(true);
    const bad = await admin('GET', '/parked?queue=clickhop-elsewhere');
    expect(bad.status).toBe(400);
  });
});
