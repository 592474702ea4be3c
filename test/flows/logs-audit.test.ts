// Audit of what reaches Workers Logs. Every console line the Worker writes while it serves real
// flows (clicks with client addresses, the clicks and notifications consumers, postbacks with the
// key in the query, in a Bearer header and refused, admin calls with wrong credentials, a failing
// delivery and one to a URL that carries a publisher token, the cron, and failures whose error
// text quotes secrets) is captured, and the last test checks every line: one JSON object with
// level, event and time, and no secret, key, full IP address or notification URL query in it.
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import { log, redactSecrets } from '../../src/lib/log';
import {
  adminOk,
  BASE,
  worker as call,
  click,
  clickRow,
  createFixture,
  eventually,
  type Fixture,
  RECEIVER,
  received,
  uniqueKey,
} from '../helpers';
import { getPostback, postJson, withPayout } from '../postback-helpers';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0';

// Distinctive client addresses: documentation ranges, host parts no test elsewhere uses.
const IPV4 = '203.0.113.219';
const IPV4_PREFIX = '203.0.113.0/24';
const IPV6 = '2001:db8:7c4e:91a2:5b3d:e8f0:1a2b:3c4d';
const IPV6_PREFIX = '2001:db8:7c4e::/48';
const FORWARDED_IPV4 = '198.51.100.143';

const WRONG_ADMIN_TOKEN = 'wrong-admin-token-5f2c9e1a7b';
const WRONG_POSTBACK_KEY = 'pbk_WrongWrongWrongWrongWrongWr';
const UNPREFIXED_WRONG_KEY = 'not-a-key-8d3f0c2b9a71';
// A publisher's own secrets inside its notification URL, under an obvious and a neutral name.
const PUBLISHER_TOKEN = 'pubtok-4e9a1c7d3b8f';
const PUBLISHER_HASH = 'h-0b7e3a9c5d1f';
const VOUCHER = 'VCHR-LOGAUDIT-93';
const DESCRIPTION = 'desc-logaudit-57';

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';
const METHODS: ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug'];
// Workers Logs files a line under the console method's level, so each level has its own method.
const METHOD_OF_LEVEL: Record<string, ConsoleMethod> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error' };

interface Line {
  method: ConsoleMethod;
  text: string;
}

// Every line of the whole file: consumers run on their own schedule, between and after tests.
const lines: Line[] = [];
// Everything that must never appear in a log line, gathered while the flows run.
const forbidden = new Set<string>();

interface Entry {
  level: string;
  event: string;
  time: string;
  [field: string]: unknown;
}

function entries(event?: string): Entry[] {
  const parsed: Entry[] = [];
  for (const line of lines) {
    try {
      const value = JSON.parse(line.text) as Entry;
      if (event === undefined || value.event === event) parsed.push(value);
    } catch {
      // Non-JSON lines are reported by the last test.
    }
  }
  return parsed;
}

let fixture: Fixture;
let failingEndpoint: { id: number; signing_secret: string };
let tokenEndpoint: { id: number; signing_secret: string };
let failingKey: string;
let tokenKey: string;

beforeAll(async () => {
  for (const method of METHODS) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push({ method, text: args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ') });
    });
  }
  fixture = await createFixture();
  failingKey = uniqueKey('audit-fail');
  tokenKey = uniqueKey('audit-token');
  failingEndpoint = await adminOk('POST', '/endpoints', {
    publisher_id: fixture.publisherId,
    url: `${RECEIVER}/${failingKey}/hook?status=500`,
    format: 'json',
    events: ['conversion.created'],
  });
  tokenEndpoint = await adminOk('POST', '/endpoints', {
    publisher_id: fixture.publisherId,
    url: `${RECEIVER}/${tokenKey}/pb?token=${PUBLISHER_TOKEN}&h=${PUBLISHER_HASH}&cv={conversion_id}`,
    format: 'query',
    events: ['conversion.created'],
  });
  for (const value of [
    env.ADMIN_TOKEN,
    env.CLICK_ID_SECRET,
    WRONG_ADMIN_TOKEN,
    fixture.postbackKey,
    WRONG_POSTBACK_KEY,
    UNPREFIXED_WRONG_KEY,
    failingEndpoint.signing_secret,
    failingEndpoint.signing_secret.slice('whsec_'.length),
    tokenEndpoint.signing_secret,
    tokenEndpoint.signing_secret.slice('whsec_'.length),
    PUBLISHER_TOKEN,
    PUBLISHER_HASH,
    IPV4,
    FORWARDED_IPV4,
    IPV6,
    // The interface part of the IPv6 address, in whatever spelling a line might use.
    '5b3d:e8f0:1a2b:3c4d',
    '5B3D:E8F0:1A2B:3C4D',
    VOUCHER,
    DESCRIPTION,
  ]) {
    expect(value.length).toBeGreaterThan(8);
    forbidden.add(value);
  }
});

afterAll(() => {
  vi.restoreAllMocks();
});

const clickIds: { v4?: string; v6?: string } = {};

describe('flows that run with client addresses and credentials', () => {
  it('clicks from IPv4 and IPv6 clients: the consumer stores only the network', async () => {
    clickIds.v4 = await click(fixture, '?sub1=audit-v4', {
      'cf-connecting-ip': IPV4,
      'x-forwarded-for': `${IPV4}, ${FORWARDED_IPV4}`,
    });
    clickIds.v6 = await click(fixture, '?sub1=audit-v6', {
      'cf-connecting-ip': IPV6,
      'x-forwarded-for': `${IPV6}, ${FORWARDED_IPV4}`,
    });
    const v4 = await eventually(() => clickRow(clickIds.v4 ?? ''));
    const v6 = await eventually(() => clickRow(clickIds.v6 ?? ''));
    expect(v4).toMatchObject({ ip_prefix: IPV4_PREFIX, sub1: 'audit-v4' });
    expect(v6).toMatchObject({ ip_prefix: IPV6_PREFIX, sub1: 'audit-v6' });
  });

  it('a click whose Queue hand-off fails is written directly, and the failure logged by name', async () => {
    const queue = {
      send: async () => {
        // A runtime error that quotes a client address and a credential.
        throw new Error(`Queue send failed from ${IPV4} (Authorization: Bearer ${env.ADMIN_TOKEN})`);
      },
    };
    const testEnv = { ...env, CLICKS_QUEUE: queue as unknown as Queue } as Env;
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request(`${BASE}/c/${fixture.offerId}/${fixture.publisherId}?sub1=audit-direct`, {
        headers: { 'user-agent': CHROME, 'cf-connecting-ip': IPV4 },
      }),
      testEnv,
      ctx,
    );
    expect(response.status).toBe(302);
    await waitOnExecutionContext(ctx);
    const clickId = new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
    expect(await clickRow(clickId)).toMatchObject({ ip_prefix: IPV4_PREFIX, sub1: 'audit-direct' });
    const failures = entries('clicks.queue_send_failed');
    expect(failures.map((e) => [e.level, e.attempt])).toEqual([
      ['warn', 1],
      ['warn', 2],
    ]);
    expect(failures[0]?.error).toBe(`Error: Queue send failed from ${IPV4_PREFIX} (Authorization: Bearer [redacted])`);
    expect(entries('clicks.written_directly')).toEqual([expect.objectContaining({ level: 'warn', clicks: 1 })]);
  });

  it('postbacks with the key in the query, in a Bearer header and as a HasOffers security_token', async () => {
    const ip = { 'cf-connecting-ip': IPV4, 'x-forwarded-for': FORWARDED_IPV4 };
    const lead = await getPostback(
      '/postback',
      { click_id: clickIds.v4 ?? '', event: 'lead', order_id: 'AUDIT-LEAD-1', key: fixture.postbackKey },
      ip,
    );
    expect(lead.status, JSON.stringify(lead.body)).toBe(200);
    expect(await withPayout(lead)).toMatchObject({ outcome: 'created', revenue: '5.00', payout: '2.00' });

    const sale = await postJson(
      '/postback',
      {
        click_id: clickIds.v6 ?? '',
        event: 'sale',
        order_id: 'AUDIT-SALE-1',
        amount: '49.90',
        currency: 'EUR',
        voucher: VOUCHER,
        description: DESCRIPTION,
      },
      { authorization: `Bearer ${fixture.postbackKey}`, 'cf-connecting-ip': IPV6 },
    );
    expect(sale.status, JSON.stringify(sale.body)).toBe(200);
    expect(await withPayout(sale)).toMatchObject({
      outcome: 'created',
      amount: '49.90',
      revenue: '4.99',
      payout: '2.50',
    });

    const hasOffers = await getPostback(
      '/postback/hasoffers',
      {
        transaction_id: clickIds.v4 ?? '',
        adv_sub: 'AUDIT-SALE-2',
        amount: '10.00',
        goal_id: 'sale',
        security_token: fixture.postbackKey,
      },
      ip,
    );
    expect(hasOffers.status, JSON.stringify(hasOffers.body)).toBe(200);
    expect(await withPayout(hasOffers)).toMatchObject({ outcome: 'created', revenue: '1.00', payout: '0.50' });
  });

  it('refused postbacks: a wrong key in the query, in a Bearer header, and an unprefixed one', async () => {
    const ip = { 'cf-connecting-ip': IPV4 };
    const params = { click_id: clickIds.v4 ?? '', order_id: 'AUDIT-REFUSED' };
    const answers = [
      await getPostback('/postback', { ...params, key: WRONG_POSTBACK_KEY }, ip),
      await getPostback('/postback', params, { ...ip, authorization: `Bearer ${WRONG_POSTBACK_KEY}` }),
      await postJson('/postback', { ...params, key: UNPREFIXED_WRONG_KEY }, { 'cf-connecting-ip': IPV6 }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('unauthorized');
    }
  });

  it('admin calls with a wrong token, a Basic credential and none are refused', async () => {
    const headers: Record<string, string>[] = [
      { authorization: `Bearer ${WRONG_ADMIN_TOKEN}` },
      { authorization: `Basic ${btoa(`admin:${WRONG_ADMIN_TOKEN}`)}` },
      {},
    ];
    forbidden.add(btoa(`admin:${WRONG_ADMIN_TOKEN}`));
    for (const h of headers) {
      const response = await call('/api/v1/advertisers', { headers: { ...h, 'cf-connecting-ip': IPV4 } });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
  });

  it('notifications: a 500 is logged as a retry by event name; a token in the URL query reaches only the publisher', async () => {
    // Three conversions above, each delivered through the real notifications Queue to both endpoints.
    const requests = await eventually(async () => {
      const got = await received(tokenKey);
      return got.length >= 3 ? got : null;
    });
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      expect(request.url).toMatch(new RegExp(`^/${tokenKey}/pb\\?token=${PUBLISHER_TOKEN}&h=${PUBLISHER_HASH}&cv=cv_`));
    }
    const failed = await eventually(async () => {
      const { results } = await env.DB.prepare(
        'SELECT id, status, attempts, last_status_code FROM deliveries WHERE endpoint_id = ? AND attempts >= 1',
      )
        .bind(failingEndpoint.id)
        .all<{ id: string; status: string; attempts: number; last_status_code: number }>();
      return results.length >= 3 ? results : null;
    });
    expect(failed.map((d) => [d.status, d.last_status_code])).toEqual([
      ['retrying', 500],
      ['retrying', 500],
      ['retrying', 500],
    ]);
    expect((await received(failingKey)).length).toBeGreaterThanOrEqual(3);

    const attempts = await eventually(async () => {
      const found = entries('notify.attempt').filter((e) => e.endpoint_id === failingEndpoint.id);
      return found.length >= 3 ? found : null;
    });
    for (const entry of attempts) {
      expect(entry).toMatchObject({ level: 'warn', status_code: 500, outcome: 'retry', attempt: expect.any(Number) });
      expect(failed.map((d) => d.id)).toContain(entry.delivery_id);
    }
    const delivered = await eventually(async () => {
      const found = entries('notify.attempt').filter((e) => e.endpoint_id === tokenEndpoint.id);
      return found.length >= 3 ? found : null;
    });
    for (const entry of delivered) {
      expect(entry).toMatchObject({ level: 'info', status_code: 200, outcome: 'delivered' });
    }
  });
});

describe('failures are logged at error level under a searchable event name', () => {
  const message = (body: unknown, id: string) => ({ id, timestamp: new Date(), attempts: 1, body });

  it('malformed queue messages and an unknown queue', async () => {
    const clicks = createMessageBatch('clickhop-clicks', [message({ v: 9 }, 'audit-clicks-1')]) as MessageBatch;
    const clicksCtx = createExecutionContext();
    await worker.queue(clicks, env);
    expect((await getQueueResult(clicks, clicksCtx)).explicitAcks).toEqual(['audit-clicks-1']);

    const notes = createMessageBatch('clickhop-notifications', [message({ v: 1 }, 'audit-notes-1')]) as MessageBatch;
    const notesCtx = createExecutionContext();
    await worker.queue(notes, env);
    expect((await getQueueResult(notes, notesCtx)).explicitAcks).toEqual(['audit-notes-1']);

    const stray = createMessageBatch('clickhop-elsewhere', [message({}, 'audit-stray-1')]) as MessageBatch;
    const strayCtx = createExecutionContext();
    await worker.queue(stray, env);
    expect((await getQueueResult(stray, strayCtx)).retryBatch.retry).toBe(true);

    expect(entries('clicks.malformed_message')).toEqual([
      expect.objectContaining({ level: 'error', message_id: 'audit-clicks-1' }),
    ]);
    expect(entries('notify.malformed_message')).toEqual([
      expect.objectContaining({ level: 'error', message_id: 'audit-notes-1' }),
    ]);
    expect(entries('queue.unknown')).toEqual([
      expect.objectContaining({ level: 'error', queue: 'clickhop-elsewhere', messages: 1 }),
    ]);
  });

  /** A D1 that fails the way runtime errors do: quoting a URL with a token, a key and an address. */
  function brokenEnv(): Env {
    const fail = () => {
      throw new Error(
        `D1 unavailable: Fetch API cannot load: https://hooks.publisher.example/pb?token=${PUBLISHER_TOKEN} ` +
          `key=${fixture.postbackKey} from ${IPV6} secret=${env.CLICK_ID_SECRET}`,
      );
    };
    const db = { prepare: fail, batch: fail, exec: fail, dump: fail, withSession: fail };
    return { ...env, DB: db as unknown as D1Database };
  }

  it('an unexpected failure while answering a postback: postback.log_failed and http.unhandled, redacted', async () => {
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request(`${BASE}/postback?click_id=${clickIds.v4}&order_id=AUDIT-BROKEN&key=${fixture.postbackKey}`, {
        headers: { 'cf-connecting-ip': IPV4 },
      }),
      brokenEnv(),
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: 'internal_error', message: 'Internal error' } });

    const expectedError =
      'Error: D1 unavailable: Fetch API cannot load: https://hooks.publisher.example/pb?[redacted] ' +
      `key=[redacted] from ${IPV6_PREFIX} secret=[redacted]`;
    expect(entries('postback.log_failed')).toEqual([
      expect.objectContaining({ level: 'error', outcome: 'refused', http_status: 500, error: expectedError }),
    ]);
    const unhandled = entries('http.unhandled');
    expect(unhandled).toEqual([
      expect.objectContaining({ level: 'error', method: 'GET', path: '/postback', error: expectedError }),
    ]);
  });

  it('a failing cron task is logged by task name, and the next task still runs', async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *' }), brokenEnv(), ctx);
    await waitOnExecutionContext(ctx);
    for (const event of ['cron.purge_clicks_failed', 'cron.reconcile_deliveries_failed']) {
      const [entry, ...more] = entries(event);
      expect(more).toEqual([]);
      expect(entry?.level).toBe('error');
      expect(entry?.error).toContain('https://hooks.publisher.example/pb?[redacted]');
    }
  });
});

describe('the cron', () => {
  it('logs each housekeeping task with its result', async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(entries('cron.purge_clicks')).toEqual([expect.objectContaining({ level: 'info', result: 0 })]);
    expect(entries('cron.reconcile_deliveries')).toEqual([
      expect.objectContaining({ level: 'info', result: { unsent: 0, stuck: 0, overdue: 0 } }),
    ]);
  });
});

describe('the safety net in log()', () => {
  it('redacts credentials, own secret formats, URL queries, secret pairs and full addresses', () => {
    const cases: [string, string][] = [
      ['Authorization: Bearer abc.def-123', 'Authorization: Bearer [redacted]'],
      ['basic dXNlcjpwYXNz', 'basic [redacted]'],
      ['key pbk_AbC-_123 and whsec_MfKQ9r8G+/x=', 'key pbk_[redacted] and whsec_[redacted]'],
      ['key=pbk_AbC-_123 token=Bearer', 'key=[redacted] token=[redacted]'],
      ['GET https://p.example/x/y?t=1&u=2#f failed', 'GET https://p.example/x/y?[redacted]#f failed'],
      [
        '?api_key=k1&security_token=k2&x-auth-token=k3&monkey=m',
        '?api_key=[redacted]&security_token=[redacted]&x-auth-token=[redacted]&monkey=m',
      ],
      ['from 192.0.2.77:443', 'from 192.0.2.0/24:443'],
      ['allow 192.0.2.0/24 and 10.1.2.3/32', 'allow 192.0.2.0/24 and 10.1.2.0/24'],
      ['v6 [2001:db8:1:2:3:4:5:6]:443', 'v6 [2001:db8:1::/48]:443'],
      ['mapped ::ffff:198.51.100.9', 'mapped ::ffff:198.51.100.0/24'],
      ['net 2001:db8:abcd::/48 loop ::1', 'net 2001:db8:abcd::/48 loop 0:0:0::/48'],
    ];
    for (const [input, output] of cases) expect(redactSecrets(input)).toBe(output);
  });

  it('leaves times, ids, click IDs and ordinary text alone, and keeps JSON valid', () => {
    const line = JSON.stringify({
      level: 'warn',
      event: 'notify.attempt',
      time: '2026-11-23T10:15:00.123Z',
      delivery_id: 'dlv_q7Wm2XcR9tLb4NvK_7',
      click_ids: ['AQFk2mZ8x3bQ9pLr0sTt7uVw1yZa4cDe5fGh6iJk8lMn9oPq', 'AQpbk_whsec_Zz'],
      error: 'said "Bearer x\\y" at 10:15:00 in std::vector, version 1.2.3',
    });
    const redacted = redactSecrets(line);
    expect(JSON.parse(redacted)).toEqual({
      ...JSON.parse(line),
      error: 'said "Bearer [redacted]\\y" at 10:15:00 in std::vector, version 1.2.3',
    });
  });

  it('writes level, event and time that fields cannot override, on the matching console method', () => {
    const before = lines.length;
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log('info', 'audit.fields', {
      level: 'error',
      event: 'other',
      time: 'never',
      n: 10n,
      cause: new RangeError('bad'),
    });
    log('debug', 'audit.secret_fields', { signing_secret: 'x', api_key: 'y', authorization: 'z', key_count: 3 });
    log('warn', 'audit.circular', { circular });
    const written = lines.slice(before);
    expect(written.map((l) => l.method)).toEqual(['info', 'debug', 'warn']);
    const [fields, secrets, broken] = written.map((l) => JSON.parse(l.text) as Entry);
    expect(fields).toEqual({
      level: 'info',
      event: 'audit.fields',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      n: '10',
      cause: 'RangeError: bad',
    });
    expect(secrets).toMatchObject({
      signing_secret: '[redacted]',
      api_key: '[redacted]',
      authorization: '[redacted]',
      key_count: 3,
    });
    expect(broken).toMatchObject({ level: 'warn', event: 'audit.circular' });
    expect(broken?.log_error).toMatch(/^fields not serializable: TypeError/);
  });
});

describe('every line written during this file', () => {
  it('is one JSON object with level, event and time, on the console method of its level, and carries no secret', async () => {
    // Let consumers still running from the flows above write their lines.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lines.length).toBeGreaterThan(20);
    const events = new Set<string>();
    for (const line of lines) {
      let entry: Entry;
      try {
        entry = JSON.parse(line.text) as Entry;
      } catch {
        throw new Error(`not JSON: ${line.text}`);
      }
      expect(typeof entry, line.text).toBe('object');
      expect(Object.keys(entry).slice(0, 3), line.text).toEqual(['level', 'event', 'time']);
      expect(Object.keys(METHOD_OF_LEVEL), line.text).toContain(entry.level);
      expect(entry.event, line.text).toMatch(/^[a-z]+(\.[a-z_]+)+$/);
      expect(entry.time, line.text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(line.method, line.text).toBe(METHOD_OF_LEVEL[entry.level]);
      events.add(entry.event);

      for (const value of forbidden) expect(line.text, `leaks ${value}`).not.toContain(value);
      // Authorization credentials of any scheme only ever appear redacted.
      expect(line.text).not.toMatch(/\b(Bearer|Basic|Digest)\s+(?!\[redacted\])/i);
      // An IPv4 address appears only as a network (a.b.c.0/24), never as a host address.
      for (const match of line.text.matchAll(/(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(\/\d+)?/g)) {
        expect(match[0], line.text).toMatch(/\.0\/24$/);
      }
      // No notification URL with its query (the loopback receiver or the publisher's host).
      expect(line.text).not.toMatch(/(127\.0\.0\.1|publisher\.example)[^"\s]*\?(?!\[redacted\])/);
    }
    for (const event of [
      'clicks.queue_send_failed',
      'clicks.written_directly',
      'notify.attempt',
      'clicks.malformed_message',
      'notify.malformed_message',
      'queue.unknown',
      'postback.log_failed',
      'http.unhandled',
      'cron.purge_clicks_failed',
      'cron.reconcile_deliveries_failed',
      'cron.purge_clicks',
      'cron.reconcile_deliveries',
    ]) {
      expect([...events]).toContain(event);
    }
  });
});
