// Property-based tests of the admin API: random JSON bodies for every create and update route
// (valid ones mutated field by field: wrong types, hostile and huge strings, unicode, unknown
// keys), wrong content types and oversized bodies, random query strings on every list route and
// random path ids. Every answer is a valid result or a 4xx JSON error; a refused request
// changes no stored row; an accepted write reads back as answered.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeCursor } from '../../src/admin/pagination';
import { ADMIN, adminOk, createFixture, eventually, RECEIVER, uniqueKey, worker } from '../helpers';
import { getPostback, mintClick, mintLandedClick } from '../postback-helpers';
import {
  type Answer,
  expectContractAnswer,
  fuzz,
  hostileJson,
  hostileString,
  hugeString,
  mutatedObject,
  quietWorkerLogs,
  readAnswer,
  snapshotTables,
} from './helpers';

beforeEach(() => {
  quietWorkerLogs();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const CONFIG_TABLES = ['advertisers', 'offers', 'goals', 'payout_rules', 'publishers', 'endpoints'];
const MONEY_TABLES = ['conversions', 'daily_conversion_stats'];

/**
 * Every stored row an admin request could change. Deliveries are compared by id only: the
 * notifications consumer updates their state in the background while the fuzz runs.
 */
async function stored() {
  return snapshotTables([...CONFIG_TABLES, ...MONEY_TABLES], ['conversion_events', 'deliveries']);
}

async function call(method: string, path: string, body?: string, contentType = 'application/json'): Promise<Answer> {
  const headers: Record<string, string> = { ...ADMIN };
  if (body !== undefined && contentType) headers['content-type'] = contentType;
  return readAnswer(await worker(`/api/v1${path}`, { method, headers, body }));
}

/** What a GET of a resource shows: the write's answer without the secret shown only once. */
function withoutSecrets(body: unknown) {
  const { postback_key: _key, signing_secret: _secret, ...rest } = body as Record<string, unknown>;
  return rest;
}

/**
 * Sends one write and checks the contract: never a 5xx, a 4xx is the JSON error and changed
 * nothing, a 2xx wrote what a GET of the resource now shows.
 */
async function checkWrite(
  method: string,
  path: string,
  body: string | undefined,
  contentType: string,
  readBack: ((answer: Answer) => string) | null,
  /** The part of the answer and of the GET that must agree (default: all but the secrets). */
  project: (body: unknown) => unknown = withoutSecrets,
): Promise<number> {
  const before = await stored();
  const answer = await call(method, path, body, contentType);
  const context = `${method} ${path} [${contentType}] ${String(body).slice(0, 400)}`;
  expectContractAnswer(answer, context);
  if (answer.status >= 400) {
    expect(await stored(), `${context}: a refused request changed stored rows`).toEqual(before);
    return answer.status;
  }
  expect([200, 201, 202], context).toContain(answer.status);
  const resource = readBack?.(answer);
  if (resource) {
    const again = await call('GET', resource);
    expect(again.status, context).toBe(200);
    expect(project(again.body), `${context}: what was answered is what is stored`).toEqual(project(answer.body));
  }
  return answer.status;
}

const json = (value: unknown) => JSON.stringify(value);
const idOf = (prefix: string) => (answer: Answer) => `${prefix}/${(answer.body as { id: number }).id}`;

/** A JSON body close to valid: mostly the mutated object, sometimes any JSON at all. */
const bodyOf = (valid: fc.Arbitrary<Record<string, unknown>>) =>
  fc.oneof(
    { weight: 8, arbitrary: valid.map(json) },
    { weight: 1, arbitrary: hostileJson().map(json) },
    { weight: 1, arbitrary: fc.jsonValue().map(json) },
  );

const hostileId = fc.oneof(
  fc.constantFrom('0', '-1', '1.5', '1e3', '4294967296', '99999999999999999999', 'abc', '%20', '..'),
  hostileString().map((s) => encodeURIComponent(s.toWellFormed())),
);

interface World {
  advertiserId: number;
  publisherId: number;
  /** A publisher with no conversions: endpoints made by the fuzz never get deliveries. */
  quietPublisherId: number;
  offerId: number;
  patchEndpointId: number;
  testEndpointId: number;
  conversionIds: string[];
  deliveryId: string;
}

async function buildWorld(): Promise<World> {
  const f = await createFixture();
  const quiet = await adminOk<{ id: number }>('POST', '/publishers', { name: 'Quiet' });
  const endpoint = (url: string) =>
    adminOk<{ id: number }>('POST', '/endpoints', { publisher_id: quiet.id, url, format: 'json' });
  const patchEndpoint = await endpoint(`${RECEIVER}/${uniqueKey('fuzz-patch')}`);
  const testEndpoint = await endpoint(`${RECEIVER}/${uniqueKey('fuzz-test')}`);
  // Conversions to change the status of, and one delivery (to a receiver that answers 200).
  await adminOk('POST', '/endpoints', {
    publisher_id: f.publisherId,
    url: `${RECEIVER}/${uniqueKey('fuzz-delivery')}`,
    format: 'json',
    events: ['conversion.created'],
  });
  const conversionIds: string[] = [];
  for (let i = 0; i < 4; i++) {
    const answer = await getPostback('/postback', {
      // A landed click: a conversion whose click is not stored yet holds its notifications for
      // up to two minutes (src/clicks/completion.ts), and the fixture waits for one delivered.
      click_id: await mintLandedClick(f),
      order_id: `FZ-${i}`,
      key: f.postbackKey,
    });
    conversionIds.push(answer.body.conversion_id);
  }
  const delivery = await eventually(() =>
    env.DB.prepare(`SELECT id FROM deliveries WHERE status = 'delivered' LIMIT 1`).first<{ id: string }>(),
  );
  return {
    advertiserId: f.advertiserId,
    publisherId: f.publisherId,
    quietPublisherId: quiet.id,
    offerId: f.offerId,
    patchEndpointId: patchEndpoint.id,
    testEndpointId: testEndpoint.id,
    conversionIds,
    deliveryId: delivery.id,
  };
}

const cidrs = fc.array(
  fc.oneof(
    fc.constantFrom('203.0.113.0/24', '2001:db8::/32', '10.0.0.1', '::ffff:1.2.3.4/128', '0.0.0.0/0'),
    fc.constantFrom('10.0.0.0/33', '1.2.3', '::/129', 'localhost', ''),
    hostileString(),
  ),
  { maxLength: 4 },
);

const advertiserBody = mutatedObject(
  { name: 'Fuzz shop', status: 'active', ip_allowlist: ['203.0.113.0/24'] },
  { status: fc.oneof(fc.constantFrom('active', 'paused', 'archived', 'ACTIVE'), hostileJson()), ip_allowlist: cidrs },
);

const publisherBody = mutatedObject(
  { name: 'Fuzz blog', status: 'active' },
  { status: fc.oneof(fc.constantFrom('active', 'paused', 'deleted'), hostileJson()) },
);

const money = fc.oneof(
  fc.constantFrom('5.00', '0', '0.001', '1.234', '999999999999999', '1e3', '-1', 5, 0.5, -2, 1e21),
  hostileJson(),
);
const percent = fc.oneof(fc.constantFrom(10, 0, 12.35, 0.001, 100, 10_000, 10_001, -5, '10'), hostileJson());

const goalBody = mutatedObject(
  { key: 'sale', name: 'Sale', revenue_percent: 10, payout_percent: 5 },
  {
    key: fc.oneof(fc.constantFrom('lead', 'sale', 'a', 'Lead', 'x'.repeat(33), ''), hostileJson()),
    revenue: money,
    payout: money,
    revenue_percent: percent,
    payout_percent: percent,
    commission_groups: fc.oneof(
      fc.array(mutatedObject({ key: 'books', payout_percent: 2 }, { revenue: money, payout: money }), {
        maxLength: 3,
      }),
      hostileJson(),
    ),
    allow_repeats: fc.oneof(fc.boolean(), hostileJson()),
    default: fc.oneof(fc.boolean(), hostileJson()),
    default_status: fc.oneof(fc.constantFrom('pending', 'approved', 'rejected'), hostileJson()),
  },
);

const landingUrl = fc.oneof(
  fc.constantFrom(
    'https://shop.example/l?c={click_id}&s={sub1}',
    'https://shop.example/l',
    'https://shop.example/{deep_link}',
    'https://shop.example/{CLICK_ID}',
    'https://{sub1}.shop.example/',
    'https://shop.example/ページ?q={sub2}',
    'http://127.0.0.1/',
    'javascript:alert(1)',
    'https://user:pw@shop.example/',
    `https://shop.example/${'x'.repeat(2100)}`,
  ),
  hostileJson(),
);

const offerFields = {
  name: 'Fuzz offer',
  landing_url: 'https://shop.example/l?c={click_id}',
  currency: 'EUR',
  click_param: 'cid',
  deep_link_hosts: ['shop.example', '*.brand.example'],
  attribution_window_days: 30,
  allow_publisher_postback: false,
  fallback_url: null,
  status: 'active',
};

const offerOverrides = {
  landing_url: landingUrl,
  fallback_url: fc.oneof(fc.constantFrom(null, 'https://fallback.example/', '//evil.example'), hostileJson()),
  currency: fc.oneof(fc.constantFrom('EUR', 'JPY', 'BHD', 'eur', 'XXX', 978), hostileJson()),
  click_param: fc.oneof(fc.constantFrom('click_id', 'a.b~c', 'has space', '', 'x'.repeat(65)), hostileJson()),
  deep_link_hosts: fc.oneof(
    fc.array(fc.oneof(fc.constantFrom('shop.example', '*.x.example', '*.', 'a..b', 'EXAMPLE.COM'), hostileString()), {
      maxLength: 3,
    }),
    hostileJson(),
  ),
  attribution_window_days: fc.oneof(fc.constantFrom(1, 365, 0, 366, 1.5, '30'), hostileJson()),
  allow_publisher_postback: fc.oneof(fc.boolean(), hostileJson()),
  status: fc.oneof(fc.constantFrom('active', 'paused', 'archived', 'deleted'), hostileJson()),
  goals: fc.oneof(
    { weight: 5, arbitrary: fc.array(goalBody, { maxLength: 3 }) },
    { weight: 1, arbitrary: hostileJson() },
  ),
};

const EVENTS = ['conversion.created', 'conversion.approved', 'conversion.rejected', 'conversion.reversed'];

function endpointOverrides(w: World) {
  return {
    url: fc.oneof(
      fc.constantFrom(
        `${RECEIVER}/fuzz?o={order_id}&c={click_id}`,
        `${RECEIVER}/fuzz?t=!!!transactionId!!!`,
        `${RECEIVER}/fuzz?x={unknown}`,
        'https://{sub1}.evil.example/',
        'https://hooks.publisher.example/notify',
        'ftp://hooks.publisher.example/',
        'http://169.254.169.254/latest',
        ` ${RECEIVER}/padded `,
      ),
      hostileJson(),
    ),
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'get', 'PUT'), hostileJson()),
    format: fc.oneof(fc.constantFrom('query', 'json', 'form', 'xml'), hostileJson()),
    form_field: fc.oneof(fc.constantFrom(null, 'AwinTransactionPush', 'a b', 'x'.repeat(65)), hostileJson()),
    events: fc.oneof(
      fc.array(fc.oneof(fc.constantFrom(...EVENTS), fc.constantFrom('conversion.deleted', '')), { maxLength: 10 }),
      hostileJson(),
    ),
    offer_ids: fc.oneof(
      fc.constantFrom(null, [w.offerId], [w.offerId, w.offerId], [999_999], []),
      fc.array(fc.oneof(fc.integer(), fc.constantFrom(2 ** 53, 1.5, -1)), { maxLength: 3 }),
      hostileJson(),
    ),
    include_products: fc.oneof(fc.boolean(), hostileJson()),
    include_click_data: fc.oneof(fc.boolean(), hostileJson()),
    status: fc.oneof(fc.constantFrom('active', 'disabled', 'paused'), hostileJson()),
    publisher_id: fc.oneof(fc.constantFrom(w.quietPublisherId, 999_999, 0, -1, 2 ** 53), hostileJson()),
  };
}

describe('fuzz: admin API writes', () => {
  let world: World | undefined;
  const getWorld = async () => {
    world ??= await buildWorld();
    return world;
  };

  it('advertisers: create, update and rotate the postback key', async () => {
    const w = await getWorld();
    await fuzz(
      'admin/advertisers',
      fc.record({
        route: fc.constantFrom('create', 'create', 'update', 'update', 'rotate'),
        body: bodyOf(advertiserBody),
        id: fc.oneof(
          { weight: 4, arbitrary: fc.constant(String(w.advertiserId)) },
          { weight: 1, arbitrary: hostileId },
        ),
      }),
      async (r, tally) => {
        if (r.route === 'create') {
          tally.record(await checkWrite('POST', '/advertisers', r.body, 'application/json', idOf('/advertisers')));
        } else if (r.route === 'update') {
          tally.record(
            await checkWrite('PATCH', `/advertisers/${r.id}`, r.body, 'application/json', idOf('/advertisers')),
          );
        } else {
          tally.record(
            await checkWrite('POST', `/advertisers/${r.id}/postback-key`, undefined, '', idOf('/advertisers')),
          );
        }
      },
      400,
    );
  }, 120_000);

  it('publishers: create and update', async () => {
    const w = await getWorld();
    await fuzz(
      'admin/publishers',
      fc.record({
        create: fc.boolean(),
        body: bodyOf(publisherBody),
        id: fc.oneof(
          { weight: 4, arbitrary: fc.constant(String(w.quietPublisherId)) },
          { weight: 1, arbitrary: hostileId },
        ),
      }),
      async (r, tally) => {
        tally.record(
          r.create
            ? await checkWrite('POST', '/publishers', r.body, 'application/json', idOf('/publishers'))
            : await checkWrite('PATCH', `/publishers/${r.id}`, r.body, 'application/json', idOf('/publishers')),
        );
      },
      400,
    );
  }, 120_000);

  it('offers: create and update, goals and commission groups included', async () => {
    const w = await getWorld();
    const create = mutatedObject(
      {
        advertiser_id: w.advertiserId,
        ...offerFields,
        goals: [
          { key: 'lead', revenue: '5.00', payout: '2.00' },
          { key: 'sale', revenue_percent: 10, payout_percent: 5 },
        ],
      },
      {
        ...offerOverrides,
        advertiser_id: fc.oneof(fc.constantFrom(w.advertiserId, 999_999, 0, 2 ** 53), hostileJson()),
      },
    );
    const update = mutatedObject({ name: 'Renamed' }, { ...offerOverrides, advertiser_id: hostileJson() });
    await fuzz(
      'admin/offers',
      fc.record({
        create: fc.boolean(),
        createBody: bodyOf(create),
        updateBody: bodyOf(update),
        id: fc.oneof({ weight: 4, arbitrary: fc.constant(String(w.offerId)) }, { weight: 1, arbitrary: hostileId }),
      }),
      async (r, tally) => {
        tally.record(
          r.create
            ? await checkWrite('POST', '/offers', r.createBody, 'application/json', idOf('/offers'))
            : await checkWrite('PATCH', `/offers/${r.id}`, r.updateBody, 'application/json', idOf('/offers')),
        );
      },
      400,
    );
  }, 120_000);

  it('endpoints: create, update, rotate the secret and send a test', async () => {
    const w = await getWorld();
    const overrides = endpointOverrides(w);
    const create = mutatedObject(
      { publisher_id: w.quietPublisherId, url: `${RECEIVER}/fuzz-created`, format: 'json', events: EVENTS.slice(0, 2) },
      overrides,
    );
    const { publisher_id: _p, ...updateOverrides } = overrides;
    const update = mutatedObject({ include_products: true }, updateOverrides);
    const rotate = mutatedObject(
      { grace_hours: 24 },
      { grace_hours: fc.oneof(fc.constantFrom(0, 168, 169, -1, 1.5), hostileJson()) },
    );
    const test = mutatedObject(
      { event: 'conversion.approved' },
      { event: fc.oneof(fc.constantFrom(...EVENTS), hostileJson()) },
    );
    await fuzz(
      'admin/endpoints',
      fc.record({
        route: fc.constantFrom('create', 'update', 'rotate', 'test'),
        create: bodyOf(create),
        update: bodyOf(update),
        rotate: fc.option(bodyOf(rotate), { freq: 4 }),
        test: fc.option(bodyOf(test), { freq: 4 }),
        id: fc.option(hostileId, { freq: 5 }),
      }),
      async (r, tally) => {
        if (r.route === 'create') {
          tally.record(await checkWrite('POST', '/endpoints', r.create, 'application/json', idOf('/endpoints')));
        } else if (r.route === 'update') {
          const path = `/endpoints/${r.id ?? w.patchEndpointId}`;
          tally.record(await checkWrite('PATCH', path, r.update, 'application/json', idOf('/endpoints')));
        } else if (r.route === 'rotate') {
          const path = `/endpoints/${r.id ?? w.patchEndpointId}/rotate-secret`;
          const body = r.rotate ?? undefined;
          tally.record(await checkWrite('POST', path, body, body ? 'application/json' : '', idOf('/endpoints')));
        } else {
          // A test send writes nothing, whatever it answers.
          const before = await stored();
          const path = `/endpoints/${r.id ?? w.testEndpointId}/test`;
          const answer = await call('POST', path, r.test ?? undefined, r.test ? 'application/json' : '');
          tally.record(answer.status);
          expectContractAnswer(answer, `POST ${path} ${r.test}`);
          expect(await stored(), `POST ${path} ${r.test}: a test send wrote rows`).toEqual(before);
          if (answer.status === 200)
            expect(answer.body).toMatchObject({ ok: expect.any(Boolean), request: expect.any(Object) });
        }
      },
      400,
    );
  }, 120_000);

  it('conversions: status changes; deliveries: resend', async () => {
    const w = await getWorld();
    const status = mutatedObject(
      { status: 'approved', reason: 'checked' },
      {
        status: fc.oneof(fc.constantFrom('pending', 'approved', 'rejected', 'reversed', 'deleted'), hostileJson()),
        reason: fc.oneof(hugeString(), hostileJson()),
      },
    );
    await fuzz(
      'admin/conversions+deliveries',
      fc.record({
        resend: fc.constantFrom(false, false, false, true),
        conversion: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...w.conversionIds) },
          { weight: 1, arbitrary: fc.constantFrom('cv_nope', 'cv_', `${w.conversionIds[0]}x`) },
          { weight: 1, arbitrary: hostileId },
        ),
        delivery: fc.oneof(fc.constant(w.deliveryId), fc.constant('dlv_nope'), hostileId),
        body: bodyOf(status),
      }),
      async (r, tally) => {
        if (r.resend) {
          // 202 for a finished delivery, 409 while a resend is still in flight, 400/404 for junk.
          tally.record(await checkWrite('POST', `/deliveries/${r.delivery}/resend`, undefined, '', null));
        } else {
          tally.record(
            await checkWrite(
              'POST',
              `/conversions/${r.conversion}/status`,
              r.body,
              'application/json',
              (answer) => `/conversions/${(answer.body as { id: string }).id}`,
              // The status route adds "changed" and "previous_status"; a GET adds the events.
              (body) => {
                const { changed: _c, previous_status: _p, events: _e, ...rest } = body as Record<string, unknown>;
                return rest;
              },
            ),
          );
        }
      },
      400,
    );
  }, 120_000);
});

describe('fuzz: admin API bodies and content types', () => {
  it('any route with a mislabelled, malformed, oversized or empty body', async () => {
    const f = await createFixture();
    await fuzz(
      'admin/bodies',
      fc.record({
        route: fc.constantFrom(
          ['POST', '/advertisers'],
          ['PATCH', `/advertisers/${f.advertiserId}`],
          ['POST', '/publishers'],
          ['PATCH', `/publishers/${f.publisherId}`],
          ['POST', '/offers'],
          ['PATCH', `/offers/${f.offerId}`],
          ['POST', '/endpoints'],
          ['POST', '/conversions/cv_nope/status'],
        ),
        contentType: fc.constantFrom(
          '',
          'application/json',
          'application/json; charset=utf-8',
          'APPLICATION/JSON',
          'application/jsonx',
          'application/json-patch+json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
        ),
        body: fc.oneof(
          fc.constantFrom(
            '',
            '{',
            '{"name":',
            '{"name":"x",}',
            "{'name':'x'}",
            '[]',
            'null',
            '"x"',
            '{"name":"a\\u0000b"}',
            '{"name":"\\ud800"}',
            '{"__proto__":{"name":"x"},"name":"y"}',
            'name=x',
            '--x--',
          ),
          fc.constant(JSON.stringify({ name: 'Big', padding: 'x'.repeat(70 * 1024) })),
          fc.constant(JSON.stringify({ name: '€'.repeat(30_000) })),
          fc.constant(`${'['.repeat(5000)}${']'.repeat(5000)}`),
          fc.constant(`{"name":"deep","x":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`),
          hostileString(),
          fc.jsonValue().map(json),
        ),
      }),
      async (r, tally) => {
        const [method, path] = r.route as [string, string];
        tally.record(await checkWrite(method, path, r.body, r.contentType, null));
      },
      300,
    );
  }, 120_000);
});

describe('fuzz: admin API reads', () => {
  it('every list route with random query strings, every resource with random ids: a page or a 4xx, nothing written', async () => {
    const f = await createFixture();
    const names = [
      'limit',
      'cursor',
      'offer_id',
      'publisher_id',
      'advertiser_id',
      'status',
      'click_id',
      'order_id',
      'conversion_id',
      'endpoint_id',
      'outcome',
      'from',
      'to',
      'group_by',
    ];
    const value = fc.oneof(
      fc.constantFrom('1', '200', '201', '0', '-1', '50.5', String(f.offerId), String(f.publisherId)),
      fc.constantFrom('2026-01-01', '2026-02-30', '0000-01-01', '9999-12-31', '2026-01-01T00:00:00Z', '2026-13-01'),
      fc.constantFrom('day', 'offer,publisher', 'day,day', 'hour', 'pending', 'refused', 'created'),
      fc.constantFrom(encodeCursor(5), encodeCursor('2026-01-01T00:00:00.000Z|cv_x'), encodeCursor('x'), 'bm90IGpzb24'),
      hostileString(),
    );
    const lists = [
      '/advertisers',
      '/publishers',
      '/offers',
      '/endpoints',
      '/conversions',
      '/deliveries',
      '/postbacks',
      '/reports',
    ];
    const items = [
      '/advertisers/',
      '/publishers/',
      '/offers/',
      '/endpoints/',
      '/conversions/',
      '/deliveries/',
      '/clicks/',
    ];
    await fuzz(
      'admin/reads',
      fc.record({
        list: fc.boolean(),
        path: fc.constantFrom(...lists),
        item: fc.constantFrom(...items),
        id: fc.oneof(hostileId, fc.constantFrom('1', 'cv_x', 'dlv_x', await mintClick(f))),
        query: fc.array(
          fc.tuple(
            fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: hostileString() }),
            value,
          ),
          {
            maxLength: 5,
          },
        ),
      }),
      async (r, tally) => {
        const q = new URLSearchParams();
        for (const [name, v] of r.query) q.append(name, v);
        const path = r.list ? `${r.path}?${q}` : `${r.item}${r.id}`;
        const before = await stored();
        const answer = await call('GET', path);
        tally.record(answer.status);
        expectContractAnswer(answer, `GET ${path.slice(0, 300)}`);
        expect(await stored(), `GET ${path}: a read wrote rows`).toEqual(before);
        if (answer.status === 200 && r.list) {
          const body = answer.body as { data: unknown[]; next_cursor?: unknown };
          expect(Array.isArray(body.data), path).toBe(true);
          if (r.path !== '/reports')
            expect(body.next_cursor === null || typeof body.next_cursor === 'string').toBe(true);
        }
      },
      400,
    );
  }, 120_000);
});
