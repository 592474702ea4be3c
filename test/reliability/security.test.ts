// Security checks that the per-feature suites leave open: the admin token goes through the
// constant-time compare; forged, foreign and keyless click IDs; spoofed client addresses;
// landing URLs that would let a sub ID pick the redirect host; SSRF through the admin API in
// production mode; macro injection from a click to a publisher's URL; and secrets that must
// never show up in logs, API answers or tables other than their own.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import worker from '../../src/index';
import * as cryptoLib from '../../src/lib/crypto';
import { type Answer, readAnswer, snapshotTables } from '../fuzz/helpers';
import {
  ADMIN,
  adminOk,
  BASE,
  worker as call,
  click,
  clickRow,
  createFixture,
  eventually,
  expectError,
  RECEIVER,
  received,
  uniqueKey,
} from '../helpers';
import { conversionsOfOffer, getPostback, lastLogRow, mintClick, postJson } from '../postback-helpers';

afterEach(() => {
  vi.restoreAllMocks();
});

const ADMIN_TOKEN = 'test-admin-token';
const CLICK_ID_SECRET = 'test-click-id-secret-0123456789';

/** Runs a request through the Worker with some bindings replaced (e.g. production settings). */
async function withEnv(overrides: Partial<Env>, path: string, init: RequestInit = {}): Promise<Answer> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(BASE + path, { redirect: 'manual', ...init }) as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides } as Env,
    ctx,
  );
  const answer = await readAnswer(response);
  await waitOnExecutionContext(ctx);
  return answer;
}

describe('admin token', () => {
  const tokens: [string, string][] = [
    ['the right token', ADMIN_TOKEN],
    ['a wrong token of the same length', 'test-admin-tokex'],
    ['a wrong token differing in the first character', 'xest-admin-token'],
    ['a shorter token', 'test'],
    ['a much longer token', `${ADMIN_TOKEN}${'x'.repeat(500)}`],
  ];

  it('is checked with the constant-time compare, whatever length the candidate has', async () => {
    const compare = vi.spyOn(cryptoLib, 'timingSafeEqualString');
    for (const [name, token] of tokens) {
      compare.mockClear();
      const answer = await readAnswer(
        await call('/api/v1/publishers', { headers: { authorization: `Bearer ${token}` } }),
      );
      expect(answer.status, name).toBe(token === ADMIN_TOKEN ? 200 : 401);
      expect(compare, name).toHaveBeenCalledTimes(1);
      expect(compare, name).toHaveBeenCalledWith(token, ADMIN_TOKEN);
      expect(await compare.mock.results[0]?.value, name).toBe(token === ADMIN_TOKEN);
      // The refusal never echoes what was sent.
      if (token !== ADMIN_TOKEN) expect(answer.text, name).not.toContain(token);
    }
  });

  it('compares digests of equal length, so neither the token length nor the first difference shows in the work done', async () => {
    const digest = vi.spyOn(crypto.subtle, 'digest');
    for (const [, token] of tokens.slice(1)) {
      digest.mockClear();
      expect(await cryptoLib.timingSafeEqualString(token, ADMIN_TOKEN)).toBe(false);
      // Both sides hashed (SHA-256), then 32 bytes against 32 bytes, every byte visited.
      expect(digest).toHaveBeenCalledTimes(2);
      expect(digest.mock.calls.map((args) => args[0])).toEqual(['SHA-256', 'SHA-256']);
    }
  });

  it('refuses every wrong token without writing anything', async () => {
    const before = await snapshotTables(['advertisers', 'publishers', 'offers']);
    for (const [name, token] of tokens.slice(1)) {
      const answer = await readAnswer(
        await call('/api/v1/publishers', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Intruder' }),
        }),
      );
      expectError(answer, 401, 'unauthorized');
      expect(answer.headers.get('www-authenticate'), name).toBe('Bearer');
    }
    expect(await snapshotTables(['advertisers', 'publishers', 'offers'])).toEqual(before);
  });
});

describe('postback keys and click IDs of other advertisers', () => {
  it('refuses a postback key that is wrong by one character, or of another length', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const last = f.postbackKey.at(-1) === 'A' ? 'B' : 'A';
    for (const key of [`${f.postbackKey.slice(0, -1)}${last}`, f.postbackKey.slice(0, -1), `${f.postbackKey}A`, '']) {
      const answer = await getPostback('/postback', { click_id: clickId, order_id: 'K-1', key });
      expect(answer.status, key).toBe(401);
    }
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it("refuses another advertiser's click ID through every profile, writing no conversion", async () => {
    const mine = await createFixture();
    const theirs = await createFixture();
    const clickId = await mintClick(theirs);
    const attempts = [
      getPostback('/postback', { click_id: clickId, order_id: 'X-1', key: mine.postbackKey }),
      postJson('/postback', { click_id: clickId, order_id: 'X-2' }, { authorization: `Bearer ${mine.postbackKey}` }),
      getPostback('/postback/hasoffers', { transaction_id: clickId, adv_sub: 'X-3', security_token: mine.postbackKey }),
      getPostback('/postback/tradetracker/sale', { data: clickId, tid: 'X-4', tam: '10.00', key: mine.postbackKey }),
      getPostback('/postback/tradetracker/lead', { data: clickId, tid: 'X-5', key: mine.postbackKey }),
    ];
    for (const answer of await Promise.all(attempts)) {
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('offer_not_owned');
    }
    expect(await conversionsOfOffer(theirs.offerId)).toHaveLength(0);
    expect(await conversionsOfOffer(mine.offerId)).toHaveLength(0);
  });

  it("does not let an advertiser's allow-listed address convert another advertiser's clicks without a key", async () => {
    const mine = await createFixture();
    const theirs = await createFixture();
    await adminOk('PATCH', `/advertisers/${mine.advertiserId}`, {
      ip_allowlist: ['198.51.100.0/24'],
      keyless_ip_auth: true,
    });
    await adminOk('PATCH', `/advertisers/${theirs.advertiserId}`, {
      ip_allowlist: ['203.0.113.0/24'],
      keyless_ip_auth: true,
    });
    const fromMine = { 'cf-connecting-ip': '198.51.100.20' };
    // Keyless from my address: my click converts, theirs does not.
    const own = await getPostback('/postback/tradetracker/lead', { data: await mintClick(mine), tid: 'A-1' }, fromMine);
    expect(own.status).toBe(200);
    const foreign = await getPostback(
      '/postback/tradetracker/lead',
      { data: await mintClick(theirs), tid: 'A-2' },
      fromMine,
    );
    expect(foreign.status).toBe(401);
    expect(await conversionsOfOffer(theirs.offerId)).toHaveLength(0);
  });

  it('ignores client addresses in X-Forwarded-For, X-Real-IP and True-Client-IP', async () => {
    const f = await createFixture();
    await adminOk('PATCH', `/advertisers/${f.advertiserId}`, {
      ip_allowlist: ['198.51.100.0/24'],
      keyless_ip_auth: true,
    });
    const spoofed = {
      'cf-connecting-ip': '192.0.2.66',
      'x-forwarded-for': '198.51.100.20',
      'x-real-ip': '198.51.100.20',
      'true-client-ip': '198.51.100.20',
    };
    const withKey = await getPostback('/postback', { click_id: await mintClick(f), key: f.postbackKey }, spoofed);
    expect(withKey.status).toBe(403);
    expect(withKey.body.error.code).toBe('ip_not_allowed');
    const keyless = await getPostback('/postback/tradetracker/lead', { data: await mintClick(f), tid: 'S-1' }, spoofed);
    expect(keyless.status).toBe(401);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('refuses a genuine click ID whose publisher does not exist (minted with the right secret)', async () => {
    const f = await createFixture();
    const clickId = await mintClickId(await clickIdKeys(env), {
      clickedAt: Date.now() - 60_000,
      offerId: f.offerId,
      publisherId: 987_654,
    });
    const answer = await getPostback('/postback', { click_id: clickId, order_id: 'P-1', key: f.postbackKey });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('publisher_not_found');
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });
});

describe('open redirects', () => {
  it.each([
    'https://{sub1}/landing',
    'https://shop.example{sub1}/landing',
    'https://shop.example:{sub2}/landing',
    'https://{offer_id}{sub3}/x',
  ])('refuses an offer landing URL %s whose host a sub ID could choose', async (landingUrl) => {
    const f = await createFixture();
    const before = await snapshotTables(['offers', 'goals']);
    const created = await readAnswer(
      await call('/api/v1/offers', {
        method: 'POST',
        headers: { ...ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify({
          advertiser_id: f.advertiserId,
          name: 'Host from a macro',
          landing_url: landingUrl,
          currency: 'EUR',
          goals: [{ key: 'lead', payout: '1.00' }],
        }),
      }),
    );
    const patched = await readAnswer(
      await call(`/api/v1/offers/${f.offerId}`, {
        method: 'PATCH',
        headers: { ...ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify({ landing_url: landingUrl }),
      }),
    );
    if (created.status === 201) {
      // Show what accepting it means: anyone crafting a link picks where visitors go.
      const id = (created.body as { id: number }).id;
      const response = await call(`/c/${id}/${f.publisherId}?sub1=evil.example&sub2=8080&sub3=.evil.example`);
      const location = response.headers.get('location');
      expect.soft(location, 'the tracker redirects to a host chosen in the link').toBeNull();
    }
    expectError(created, 400, 'invalid_request', ['landing_url']);
    expectError(patched, 400, 'invalid_request', ['landing_url']);
    expect(await snapshotTables(['offers', 'goals'])).toEqual(before);
  });

  it('never redirects to a deep link outside the allow-list, however the url parameter is repeated', async () => {
    const f = await createFixture({ deep_link_hosts: ['shop.example'] });
    const response = await call(
      `/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent('https://evil.example/')}&url=${encodeURIComponent('https://shop.example/ok')}`,
    );
    // The first value is the one read, and it is refused: never a redirect to either.
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    const ok = await call(
      `/c/${f.offerId}/${f.publisherId}?url=${encodeURIComponent('https://shop.example/ok')}&url=${encodeURIComponent('https://evil.example/')}`,
    );
    expect(new URL(ok.headers.get('location') ?? '').host).toBe('shop.example');
  });
});

describe('SSRF through the admin API in production (ALLOW_PRIVATE_DESTINATIONS "false")', () => {
  const PRODUCTION = { ALLOW_PRIVATE_DESTINATIONS: 'false' } as Partial<Env>;

  async function saveEndpoint(publisherId: number, url: string) {
    return withEnv(PRODUCTION, '/api/v1/endpoints', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ publisher_id: publisherId, url, format: 'json' }),
    });
  }

  it.each([
    // IPv4 in every spelling the URL parser accepts.
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://017700000001/',
    'http://0x7f000001/',
    'http://0x7f.0x0.0x0.0x1/',
    'http://0177.0.0.01/',
    'http://127.1/',
    'http://127.000.000.001/',
    'http://0.0.0.0/',
    'http://0/',
    'http://2852039166/latest/meta-data/',
    'http://0xa9fea9fe/',
    'http://169.254.169.254./',
    'http://100.100.100.200/',
    'http://10.0.0.1:80/',
    'http://192.168.0.1:443/',
    'http://255.255.255.255/',
    // IPv6, mapped and embedded forms.
    'http://[::1]/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[::127.0.0.1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:7f00:1::]/',
    'http://[fd00:ec2::254]/',
    'http://[fe80::1]/',
    'http://[ff02::1]/',
    // Local names.
    'http://localhost/',
    'http://LocalHost./',
    'http://localhost.localdomain/',
    'http://api.localhost/',
    'http://printer.local/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://router.home.arpa/',
    'http://intranet/',
    // Credentials, ports, schemes and parser confusions.
    'http://hooks.publisher.example@127.0.0.1/',
    'http://127.0.0.1#@hooks.publisher.example/',
    'http://127.0.0.1\\@hooks.publisher.example/',
    'http://hooks.publisher.example:8080/',
    'https://hooks.publisher.example:22/',
    'file:///etc/passwd',
    'gopher://hooks.publisher.example/',
    'dict://127.0.0.1:11211/',
    'http:/127.0.0.1/',
  ])('refuses %s with a 400 naming url, saving nothing', async (url) => {
    const f = await createFixture();
    const before = await snapshotTables(['endpoints']);
    const answer = await saveEndpoint(f.publisherId, url);
    expectError(answer, 400, 'invalid_request', ['url']);
    expect(await snapshotTables(['endpoints'])).toEqual(before);
  });

  it.each([
    'http://127.0.0.1.nip.io/',
    'http://10.0.0.1.sslip.io/',
    'http://169.254.169.254.nip.io/latest/',
    'http://app.192.168.1.1.nip.io/',
  ])('refuses %s, a DNS name that spells out a private address', async (url) => {
    const f = await createFixture();
    const answer = await saveEndpoint(f.publisherId, url);
    expectError(answer, 400, 'invalid_request', ['url']);
  });

  it('refuses to move a saved endpoint to a private address, and keeps the old URL', async () => {
    const f = await createFixture();
    const saved = await saveEndpoint(f.publisherId, 'https://hooks.publisher.example/notify');
    expect(saved.status).toBe(201);
    const id = (saved.body as { id: number }).id;
    const moved = await withEnv(PRODUCTION, `/api/v1/endpoints/${id}`, {
      method: 'PATCH',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://[::ffff:169.254.169.254]/latest' }),
    });
    expectError(moved, 400, 'invalid_request', ['url']);
    expect((await adminOk<{ url: string }>('GET', `/endpoints/${id}`)).url).toBe(
      'https://hooks.publisher.example/notify',
    );
  });

  it('accepts public hosts and addresses', async () => {
    const f = await createFixture();
    for (const url of [
      'https://hooks.publisher.example/n?t={order_id}',
      'http://93.184.216.34/',
      'https://[2606:4700::1]/',
    ]) {
      expect((await saveEndpoint(f.publisherId, url)).status, url).toBe(201);
    }
  });
});

describe('macro injection from a click to the publisher', () => {
  it('keeps hostile sub IDs, voucher and order ID inert from the tracking link to the notification URL', async () => {
    const f = await createFixture({ landing_url: 'https://shop.example/l?a={sub1}&b={sub2}&cid={click_id}' });
    const hook = uniqueKey('inject');
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${hook}?s1={sub1}&s2={sub2}&s3={sub3}&s4={sub4}&s5=!!!clickRef5!!!&v={voucher}&o={order_id}&fixed=1`,
      format: 'query',
      events: ['conversion.created'],
    });
    const subs = {
      sub1: 'x&admin=1',
      sub2: '#frag?y=2',
      sub3: '{conversion_id}',
      sub4: '!!!commission!!!',
      sub5: '%26evil%3D1/../',
    };
    const query = Object.entries(subs)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join('&');
    const response = await call(`/c/${f.offerId}/${f.publisherId}?${query}`, {
      headers: { 'user-agent': 'Mozilla/5.0 Chrome/130' },
    });
    const landing = new URL(response.headers.get('location') ?? '');
    expect([...landing.searchParams.keys()]).toEqual(['a', 'b', 'cid']);
    expect(landing.searchParams.get('a')).toBe(subs.sub1);
    expect(landing.searchParams.get('b')).toBe(subs.sub2);
    expect(landing.hash).toBe('');
    const clickId = landing.searchParams.get('cid') ?? '';
    // The click row carries the sub IDs into the conversion.
    await eventually(() => clickRow(clickId));
    const voucher = 'V&x=1#y';
    const orderId = 'O?p=1&q=2';
    const answer = await getPostback('/postback', {
      click_id: clickId,
      order_id: orderId,
      voucher,
      key: f.postbackKey,
    });
    expect(answer.status).toBe(200);
    const [hit] = await eventually(async () => {
      const hits = await received(hook);
      return hits.length > 0 ? hits : null;
    });
    const sent = new URL(hit?.url ?? '', RECEIVER);
    expect([...sent.searchParams.keys()]).toEqual(['s1', 's2', 's3', 's4', 's5', 'v', 'o', 'fixed']);
    expect(Object.fromEntries(sent.searchParams)).toEqual({
      s1: subs.sub1,
      s2: subs.sub2,
      s3: subs.sub3,
      s4: subs.sub4,
      s5: subs.sub5,
      v: voucher,
      o: orderId,
      fixed: '1',
    });
    expect(sent.pathname).toBe(`/${hook}`);
  });
});

describe('secrets', () => {
  it('never appear in logs, in API answers after creation, or in tables other than their own', async () => {
    const lines: string[] = [];
    for (const method of ['log', 'info', 'debug', 'warn', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
    }

    // Creation shows each secret once; everything after is checked for them.
    const f = await createFixture({ allow_publisher_postback: true });
    const other = await createFixture();
    const okHook = uniqueKey('secret-ok');
    const failHook = uniqueKey('secret-fail');
    const endpoint = await adminOk<{ id: number; signing_secret: string }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${okHook}?token=publisher-own-token`,
      format: 'json',
    });
    const failing = await adminOk<{ id: number; signing_secret: string }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${failHook}?status=500`,
      format: 'form',
    });
    const rotated = await adminOk<{ signing_secret: string }>('POST', `/endpoints/${endpoint.id}/rotate-secret`);
    const rotatedKey = await adminOk<{ postback_key: string }>(
      'POST',
      `/advertisers/${other.advertiserId}/postback-key`,
    );

    // A full flow: clicks, accepted and refused postbacks in every encoding, deliveries
    // (delivered and failing), a test send, and admin reads.
    const clickId = await click(f, '?sub1=s1');
    await getPostback('/postback', { click_id: clickId, order_id: 'S-1', amount: '10.00', key: f.postbackKey });
    await postJson(
      '/postback',
      { click_id: clickId, event: 'sale', order_id: 'S-2', amount: '20.00' },
      {
        authorization: `Bearer ${f.postbackKey}`,
      },
    );
    await getPostback('/postback/hasoffers', {
      transaction_id: clickId,
      adv_sub: 'S-3',
      security_token: f.postbackKey,
    });
    await getPostback('/postback', { click_id: clickId, order_id: 'S-4', key: `${f.postbackKey.slice(0, -1)}Z` });
    await getPostback('/postback', { click_id: clickId, order_id: 'S-5', key: rotatedKey.postback_key });
    await getPostback('/postback', { click_id: clickId, order_id: 'S-6', Key: f.postbackKey, KEY: f.postbackKey });
    await getPostback('/postback', { click_id: 'forged', order_id: 'S-7', key: f.postbackKey });
    await postJson('/postback', { click_id: clickId, order_id: 'S-8', key: f.postbackKey, amount: 'lots' });
    await call('/api/v1/advertisers', { headers: { authorization: 'Bearer not-the-admin-token' } });
    await adminOk('POST', `/endpoints/${endpoint.id}/test`);
    await eventually(() =>
      env.DB.prepare(`SELECT 1 AS ok FROM deliveries WHERE endpoint_id = ? AND status = 'delivered'`)
        .bind(endpoint.id)
        .first(),
    );
    await eventually(() =>
      env.DB.prepare(`SELECT 1 AS ok FROM deliveries WHERE endpoint_id = ? AND attempts > 0`).bind(failing.id).first(),
    );

    const deliveries = await adminOk<{ data: { id: string }[] }>('GET', '/deliveries');
    const conversions = await adminOk<{ data: { id: string }[] }>('GET', '/conversions');
    const answers: unknown[] = [
      deliveries,
      conversions,
      await adminOk('GET', '/advertisers'),
      await adminOk('GET', `/advertisers/${f.advertiserId}`),
      await adminOk('GET', `/advertisers/${other.advertiserId}`),
      await adminOk('GET', '/endpoints'),
      await adminOk('GET', `/endpoints/${endpoint.id}`),
      await adminOk('GET', `/endpoints/${failing.id}`),
      await adminOk('PATCH', `/endpoints/${endpoint.id}`, { include_products: true }),
      await adminOk('PATCH', `/advertisers/${f.advertiserId}`, { name: 'Renamed' }),
      await adminOk('GET', '/postbacks'),
      await adminOk('GET', '/offers'),
      await adminOk('GET', '/publishers'),
      await adminOk('GET', '/reports'),
      await adminOk('GET', `/clicks/${clickId}`),
      await adminOk('POST', `/endpoints/${endpoint.id}/test`),
      ...(await Promise.all(deliveries.data.map((d) => adminOk('GET', `/deliveries/${d.id}`)))),
      ...(await Promise.all(conversions.data.map((c) => adminOk('GET', `/conversions/${c.id}`)))),
    ];
    vi.restoreAllMocks();

    const secrets: Record<string, string> = {
      ADMIN_TOKEN,
      CLICK_ID_SECRET,
      postback_key: f.postbackKey,
      'postback_key (all but its last character)': f.postbackKey.slice(0, -1),
      'other postback_key': other.postbackKey,
      'rotated postback_key': rotatedKey.postback_key,
      signing_secret: endpoint.signing_secret,
      'signing_secret key bytes': endpoint.signing_secret.slice('whsec_'.length),
      'rotated signing_secret': rotated.signing_secret,
      'failing endpoint signing_secret': failing.signing_secret,
    };
    expect(lines.length).toBeGreaterThan(0);
    const logs = lines.join('\n');
    const api = JSON.stringify(answers);
    // Everything stored except the two columns that must hold a secret (the endpoints' signing
    // secrets, which sign every delivery; advertisers hold only a hash of the postback key).
    const tables = await snapshotTables([
      'advertisers',
      'offers',
      'goals',
      'payout_rules',
      'publishers',
      'clicks',
      'conversions',
      'conversion_events',
      'postback_log',
      'deliveries',
      'delivery_attempts',
      'daily_click_stats',
      'daily_conversion_stats',
    ]);
    const stored = JSON.stringify(tables);
    for (const [name, secret] of Object.entries(secrets)) {
      expect(logs.includes(secret), `${name} in the logs`).toBe(false);
      expect(api.includes(secret), `${name} in an API answer`).toBe(false);
      expect(stored.includes(secret), `${name} in a table`).toBe(false);
    }
    // The flow really ran: conversions, a delivered and a failing delivery, logged refusals.
    expect(conversions.data.length).toBeGreaterThanOrEqual(3);
    expect(await lastLogRow()).toBeTruthy();
    expect(tables.postback_log).toContain('[redacted]');
    expect(await received(okHook)).not.toHaveLength(0);
  }, 30_000);

  it('never stores a postback key sent under the name another profile gives it', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    // An advertiser pasting its HasOffers-style URL onto the canonical endpoint (or the reverse).
    await getPostback('/postback', { click_id: clickId, order_id: 'N-1', security_token: f.postbackKey });
    const canonical = await lastLogRow();
    await getPostback('/postback/tradetracker/lead', { data: clickId, tid: 'N-2', security_token: f.postbackKey });
    const tradetracker = await lastLogRow();
    for (const row of [canonical, tradetracker]) {
      expect(row?.outcome).toBe('refused');
      expect(String(row?.params)).not.toContain(f.postbackKey);
    }
  });
});
