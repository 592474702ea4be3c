// Property-based tests of every postback profile (canonical, HasOffers, TradeTracker lead and
// sale): random and hostile values, every encoding (query, form, JSON, multipart), wrong content
// types, malformed JSON, oversized bodies, repeated parameters, HEAD. Every answer is a valid
// result or a 4xx JSON error; a refusal writes nothing but its postback log row; an accepted
// postback writes exactly what its outcome says.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import { adminOk, createFixture, worker } from '../helpers';
import { createPublisher, mintClick } from '../postback-helpers';
import {
  expectContractAnswer,
  fuzz,
  headerString,
  hostileJson,
  hostileString,
  quietWorkerLogs,
  readAnswer,
} from './helpers';

beforeEach(() => {
  quietWorkerLogs();
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface World {
  offerId: number;
  /** Another advertiser's offer (its key and click IDs convert there). */
  otherOfferId: number;
  publisherId: number;
  key: string;
  otherKey: string;
  clicks: string[];
  expiredClick: string;
  foreignClick: string;
}

async function buildWorld(): Promise<World> {
  const f = await createFixture({ allow_publisher_postback: true });
  const other = await createFixture();
  const keys = await clickIdKeys(env);
  const clicks = [];
  for (let i = 0; i < 6; i++) clicks.push(await mintClick(f, 60_000 * (i + 1)));
  return {
    offerId: f.offerId,
    otherOfferId: other.offerId,
    publisherId: f.publisherId,
    key: f.postbackKey,
    otherKey: other.postbackKey,
    clicks,
    expiredClick: await mintClick(f, 40 * 86_400_000),
    foreignClick: await mintClickId(keys, {
      clickedAt: Date.now() - 60_000,
      offerId: other.offerId,
      publisherId: other.publisherId,
    }),
  };
}

/** Parameter names of one profile, per canonical role (the canonical name is accepted too). */
interface ProfileShape {
  name: string;
  path: string;
  click: string[];
  order: string[];
  amount: string[];
  event: string[];
  key: string[];
  voucher: string[];
  description: string[];
  subs: string[];
  publisher: string[];
  /** Names the profile accepts and ignores. */
  ignored: string[];
}

const CANONICAL: ProfileShape = {
  name: 'postback/canonical',
  path: '/postback',
  click: ['click_id'],
  order: ['order_id'],
  amount: ['amount'],
  event: ['event'],
  key: ['key'],
  voucher: ['voucher'],
  description: ['description'],
  subs: ['sub1', 'sub2', 'sub3', 'sub4', 'sub5'],
  publisher: ['publisher_id'],
  ignored: [],
};

const HASOFFERS: ProfileShape = {
  name: 'postback/hasoffers',
  path: '/postback/hasoffers',
  click: ['transaction_id', 'transaction_id', 'click_id'],
  order: ['adv_sub', 'adv_sub', 'order_id'],
  amount: ['amount'],
  event: ['goal_id', 'goal_id', 'event'],
  key: ['security_token', 'key'],
  voucher: ['voucher'],
  description: ['description'],
  subs: ['aff_sub', 'aff_sub2', 'aff_sub3', 'aff_sub4', 'aff_sub5', 'sub1'],
  publisher: ['aff_id', 'publisher_id'],
  ignored: ['offer_ref', 'aff_click_id'],
};

const tradeTracker = (goal: 'lead' | 'sale'): ProfileShape => ({
  name: `postback/tradetracker/${goal}`,
  path: `/postback/tradetracker/${goal}`,
  click: ['data', 'data', 'click_id'],
  order: ['tid', 'tid', 'order_id'],
  amount: ['tam', 'tam', 'amount'],
  event: ['event'],
  key: ['key'],
  voucher: ['vc'],
  description: ['descrAffiliate', 'descrMerchant'],
  subs: ['sub1'],
  publisher: ['publisher_id'],
  ignored: ['cid', 'pid', 'tgi', 's2s', 'qty'],
});

const STATUSES = ['pending', 'approved', 'rejected', 'reversed'];

const cents = fc
  .integer({ min: 0, max: 10_000_000 })
  .map((n) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`);

const validProducts = fc
  .array(
    fc.record({
      sku: fc.string({ maxLength: 10 }),
      name: fc.string({ maxLength: 20 }),
      unit_price: cents,
      quantity: fc.integer({ min: 1, max: 5 }),
      commission_group: fc.constantFrom(null, 'books', 'other'),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((lines) => JSON.stringify(lines));

/** Values for each role: mostly plausible, often hostile. */
function roleValues(w: World) {
  return {
    click: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...w.clicks) },
      { weight: 1, arbitrary: fc.constantFrom(w.expiredClick, w.foreignClick) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom(...w.clicks), fc.nat(47), fc.constantFrom('A', '_', '-', 'z', '0'))
          .map(([id, at, ch]) => id.slice(0, at) + (id[at] === ch ? 'B' : ch) + id.slice(at + 1)),
      },
      { weight: 2, arbitrary: hostileString() },
    ),
    order: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('ORD-1', 'ORD-2', 'ORD-3') },
      { weight: 3, arbitrary: fc.uuid() },
      { weight: 3, arbitrary: hostileString() },
    ),
    amount: fc.oneof(
      { weight: 4, arbitrary: cents },
      { weight: 2, arbitrary: fc.constantFrom('0', '12', '1.234', '1.230', '-1', '1e3', ' 5.00 ', '5,00', '') },
      { weight: 2, arbitrary: hostileString() },
    ),
    currency: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('EUR', 'USD', 'JPY', 'BHD', 'eur', ' EUR ', 'XXX', 'EURO') },
      { weight: 1, arbitrary: hostileString() },
    ),
    status: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...STATUSES) }, { weight: 1, arbitrary: hostileString() }),
    event: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('lead', 'sale', 'LEAD', '1', '2', '999999999999') },
      { weight: 1, arbitrary: hostileString() },
    ),
    key: fc.oneof(
      { weight: 12, arbitrary: fc.constant(w.key) },
      { weight: 1, arbitrary: fc.constant(w.otherKey) },
      { weight: 1, arbitrary: fc.constant(`${w.key.slice(0, -1)}${w.key.endsWith('A') ? 'B' : 'A'}`) },
      { weight: 1, arbitrary: hostileString() },
    ),
    products: fc.oneof(
      { weight: 3, arbitrary: validProducts },
      { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
      { weight: 1, arbitrary: hostileString() },
    ),
    text: fc.oneof(fc.string({ maxLength: 30 }), hostileString()),
    id: fc.oneof(
      { weight: 3, arbitrary: fc.constant(String(w.publisherId)) },
      { weight: 1, arbitrary: fc.constant(String(w.offerId)) },
      { weight: 2, arbitrary: fc.constantFrom('0', '-1', '1.5', '4294967296', '99999999999', 'abc') },
      { weight: 1, arbitrary: hostileString() },
    ),
  };
}

type Param = [name: string, value: string];

/** The parameters of one postback: each role present or not, under one of the profile's names. */
function params(w: World, shape: ProfileShape): fc.Arbitrary<Param[]> {
  const v = roleValues(w);
  const role = (names: string[], value: fc.Arbitrary<string>, freq: number) =>
    fc.option(
      fc.tuple(fc.constantFrom(...names), value).map(([n, x]): Param => [n, x]),
      { freq },
    );
  return fc
    .tuple(
      role(shape.click, v.click, 8),
      role(shape.order, v.order, 3),
      role(shape.amount, v.amount, 2),
      role(['currency'], v.currency, 2),
      role(['status'], v.status, 2),
      role(shape.event, v.event, 3),
      role(shape.key, v.key, 12),
      role(['products'], v.products, 1),
      role(shape.voucher, v.text, 1),
      role(shape.description, v.text, 1),
      role(shape.subs, v.text, 1),
      role(['reason'], v.text, 1),
      role(['offer_id'], v.id, 1),
      role(shape.publisher, v.id, 1),
      role(shape.ignored.length > 0 ? shape.ignored : ['unused'], v.text, 1),
      // Unknown parameters, and one parameter given again (same or another value).
      fc.array(fc.tuple(fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), hostileString()), hostileString()), {
        maxLength: 2,
      }),
      fc.option(fc.tuple(fc.nat(), fc.option(hostileString(), { freq: 2 })), { freq: 4 }),
    )
    .map((parts) => {
      const repeat = parts[16];
      const unknown = parts[15] as Param[];
      const list = (parts.slice(0, 15) as (Param | null)[]).filter((p): p is Param => p !== null);
      list.push(...unknown.filter(([name]) => name.length > 0));
      if (repeat && list.length > 0) {
        const [index, other] = repeat;
        const [name, value] = list[index % list.length] as Param;
        list.push([name, other ?? value]);
      }
      return list;
    });
}

type Encoding = 'query' | 'form' | 'json' | 'json-typed' | 'multipart' | 'split' | 'bearer';

interface PostbackInput {
  encoding: Encoding;
  params: Param[];
  /** For json-typed: values replaced by other JSON types. */
  typed: unknown[];
}

function postbackInput(w: World, shape: ProfileShape): fc.Arbitrary<PostbackInput> {
  return fc.record({
    encoding: fc.constantFrom<Encoding>('query', 'query', 'form', 'json', 'json-typed', 'multipart', 'split', 'bearer'),
    params: params(w, shape),
    typed: fc.array(fc.option(hostileJson(), { freq: 3 }), { minLength: 20, maxLength: 20 }),
  });
}

const urlEncode = (list: Param[]) => {
  const q = new URLSearchParams();
  for (const [name, value] of list) q.append(name, value);
  return q.toString();
};

function toRequest(shape: ProfileShape, input: PostbackInput): { path: string; init: RequestInit } {
  const { encoding, params: list } = input;
  switch (encoding) {
    case 'query':
      return { path: `${shape.path}?${urlEncode(list)}`, init: {} };
    case 'bearer': {
      // The key (if any) moves into Authorization: Bearer, as printable ASCII a header can carry.
      const key = list.find(([n]) => n === 'key' || n === 'security_token');
      const rest = list.filter((p) => p !== key);
      const bearer = key && /^[\x21-\x7e]+$/.test(key[1]) ? key[1] : 'not-a-key';
      return { path: `${shape.path}?${urlEncode(rest)}`, init: { headers: { authorization: `Bearer ${bearer}` } } };
    }
    case 'form':
      return {
        path: shape.path,
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: urlEncode(list),
        },
      };
    case 'split': {
      const half = Math.ceil(list.length / 2);
      return {
        path: `${shape.path}?${urlEncode(list.slice(0, half))}`,
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
          body: urlEncode(list.slice(half)),
        },
      };
    }
    case 'multipart': {
      const form = new FormData();
      // The runtime's multipart encoder refuses a field name ending in a backslash; such raw
      // bodies are sent as written in the bodies property below.
      for (const [name, value] of list) form.append(name.endsWith('\\') ? `${name}_` : name, value);
      return { path: shape.path, init: { method: 'POST', body: form } };
    }
    case 'json':
    case 'json-typed': {
      const body: Record<string, unknown> = {};
      list.forEach(([name, value], i) => {
        const typed = input.typed[i % input.typed.length];
        body[name] = encoding === 'json-typed' && typed !== null ? typed : value;
      });
      return {
        path: shape.path,
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      };
    }
  }
}

/** Everything a postback may write, reduced to numbers that any write changes. */
async function fingerprint() {
  return env.DB.prepare(
    `SELECT
       (SELECT COUNT(*) FROM conversions) AS conversions,
       (SELECT COALESCE(group_concat(status || ':' || n), '') FROM
          (SELECT status, COUNT(*) AS n FROM conversions GROUP BY status ORDER BY status)) AS statuses,
       (SELECT COUNT(*) FROM conversion_events) AS events,
       (SELECT COUNT(*) FROM deliveries) AS deliveries,
       (SELECT COALESCE(SUM(pending), 0) || '/' || COALESCE(SUM(approved), 0) || '/' || COALESCE(SUM(rejected), 0) || '/' ||
               COALESCE(SUM(reversed), 0) || '/' || COALESCE(SUM(revenue_pending), 0) || '/' ||
               COALESCE(SUM(revenue_approved), 0) || '/' || COALESCE(SUM(payout_pending), 0) || '/' ||
               COALESCE(SUM(payout_approved), 0) FROM daily_conversion_stats) AS stats,
       (SELECT COUNT(*) FROM postback_log) AS log`,
  ).first<{ conversions: number; statuses: string; events: number; deliveries: number; stats: string; log: number }>();
}

const lastLog = () =>
  env.DB.prepare(
    'SELECT outcome, http_status, params, conversion_id FROM postback_log ORDER BY id DESC LIMIT 1',
  ).first<{
    outcome: string;
    http_status: number;
    params: string;
    conversion_id: string | null;
  }>();

const DECIMAL = /^\d+(\.\d+)?$/;

/** Sends one postback and checks the answer against what it wrote. */
async function checkPostback(w: World, path: string, init: RequestInit, context: string): Promise<number> {
  const before = await fingerprint();
  const answer = await readAnswer(await worker(path, init));
  const after = await fingerprint();
  expectContractAnswer(answer, context);
  const log = await lastLog();
  expect(after?.log, `${context}: one postback log row per request`).toBe((before?.log ?? 0) + 1);
  expect(log?.http_status, context).toBe(answer.status);
  expect(log?.params ?? '', `${context}: the postback key is never logged`).not.toContain(w.key);

  if (answer.status !== 200) {
    expect(answer.status, context).toBeGreaterThanOrEqual(400);
    expect(log?.outcome, context).toBe('refused');
    // A refusal writes nothing but its log row.
    expect({ ...after, log: 0 }, `${context}: a refused postback changed stored data`).toEqual({ ...before, log: 0 });
    return answer.status;
  }
  // biome-ignore lint/suspicious/noExplicitAny: the JSON answer is read field by field
  const body = answer.body as any;
  expect(body, context).toMatchObject({ status: 'ok', conversion_id: expect.stringMatching(/^cv_/) });
  expect(['created', 'duplicate', 'updated'], context).toContain(body.outcome);
  expect(body.duplicate, context).toBe(body.outcome === 'duplicate');
  expect(STATUSES, context).toContain(body.conversion_status);
  for (const field of ['amount', 'revenue']) expect(body[field], `${context} ${field}`).toMatch(DECIMAL);
  // The answer goes to the advertiser's server: never the publisher's payout (stored, whole minor units).
  expect(body, context).not.toHaveProperty('payout');
  expect(log, context).toMatchObject({ outcome: body.outcome, conversion_id: body.conversion_id });
  const stored = await env.DB.prepare('SELECT status, offer_id, payout FROM conversions WHERE id = ?')
    .bind(body.conversion_id)
    .first<{ status: string; offer_id: number; payout: number }>();
  expect(stored?.status, context).toBe(body.conversion_status);
  expect(Number.isSafeInteger(stored?.payout) && (stored?.payout ?? -1) >= 0, `${context} payout`).toBe(true);
  expect([w.offerId, w.otherOfferId], context).toContain(stored?.offer_id);
  const b = before as NonNullable<typeof before>;
  const a = after as NonNullable<typeof after>;
  if (body.outcome === 'created') {
    expect(a.conversions, context).toBe(b.conversions + 1);
    expect(a.events, context).toBeGreaterThan(b.events);
  } else if (body.outcome === 'updated') {
    expect(a.conversions, context).toBe(b.conversions);
    expect(a.events, context).toBe(b.events + 1);
    expect(a.statuses, context).not.toBe(b.statuses);
  } else {
    expect({ ...a, log: 0 }, `${context}: a duplicate changed stored data`).toEqual({ ...b, log: 0 });
  }
  return answer.status;
}

const PROFILES = [CANONICAL, HASOFFERS, tradeTracker('lead'), tradeTracker('sale')];

describe('fuzz: postback profiles', () => {
  let world: World | undefined;
  const getWorld = async () => {
    world ??= await buildWorld();
    return world;
  };

  it.each(PROFILES.map((p) => [p.name, p] as const))(
    '%s: every input gets a valid result or a 4xx JSON error, and a refusal writes nothing',
    async (_name, shape) => {
      const w = await getWorld();
      await fuzz(
        shape.name,
        postbackInput(w, shape),
        async (input, tally) => {
          const { path, init } = toRequest(shape, input);
          const context = `${init.method ?? 'GET'} ${input.encoding} ${path.slice(0, 200)} ${String(init.body ?? '').slice(0, 300)}`;
          tally.record(await checkPostback(w, path, init, context));
        },
        300,
      );
    },
    120_000,
  );

  it('any body, content type and method: oversized, malformed, mislabelled or empty', async () => {
    const w = await getWorld();
    const valid = () => ({ click_id: w.clicks[0] as string, order_id: `B-${Math.random()}`, key: w.key });
    const body = fc.oneof(
      fc.constant(() => JSON.stringify(valid())),
      fc.constant(() => urlEncode(Object.entries(valid()))),
      fc.constant(() => JSON.stringify({ ...valid(), description: 'x'.repeat(70_000) })),
      fc.constant(() => urlEncode([...Object.entries(valid()), ['voucher', '€'.repeat(30_000)]])),
      fc.constant(() => JSON.stringify(valid()).slice(0, -3)),
      fc.constant(() => `[${JSON.stringify(valid())}]`),
      fc.constant(() => 'null'),
      fc.constant(() => ''),
      fc.constant(() => `{"click_id":"${w.clicks[0]}","key":"${w.key}","order_id":{"$gt":""}}`),
      fc.constant(() => `{"click_id":"${w.clicks[0]}","key":"${w.key}","products":[{"unit_price":"1e400"}]}`),
      fc.constant(() => `{"__proto__":{"click_id":"x"},"key":"${w.key}"}`),
      fc.constant(
        () =>
          `--xyz\r\nContent-Disposition: form-data; name="click_id\\"\r\n\r\n${w.clicks[0]}\r\n` +
          `--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\n${w.key}\r\n` +
          `--xyz\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nfile\r\n--xyz--\r\n`,
      ),
      fc.constant(() => `--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\n${w.key}`),
      fc.constant(() =>
        urlEncode(
          Array.from({ length: 150 }, (_, i): Param => [`p${i}`, 'v']).concat([
            ['click_id', w.clicks[0] as string],
            ['key', w.key],
          ]),
        ),
      ),
      hostileString().map((s) => () => s),
    );
    await fuzz(
      'postback/bodies',
      fc.record({
        path: fc.constantFrom(...PROFILES.map((p) => p.path)),
        method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'),
        contentType: fc.constantFrom(
          undefined,
          'application/json',
          'application/json; charset=utf-8',
          'application/x-www-form-urlencoded',
          'multipart/form-data',
          'multipart/form-data; boundary=xyz',
          'text/plain',
          'application/xml',
          'APPLICATION/JSON',
          'application/jsonx',
        ),
        body,
        contentLength: fc.option(headerString(), { freq: 6 }),
      }),
      async (r, tally) => {
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        const text = r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body();
        const context = `${r.method} ${r.path} [${r.contentType}] ${String(text).slice(0, 200)}`;
        if (!['GET', 'POST', 'HEAD'].includes(r.method)) {
          // Not a postback method: the app's JSON 404, nothing logged or written.
          const before = await fingerprint();
          const answer = await readAnswer(await worker(r.path, { method: r.method, headers, body: text }));
          tally.record(answer.status);
          expect(answer.status, context).toBe(404);
          expectContractAnswer(answer, context);
          expect(await fingerprint(), context).toEqual(before);
          return;
        }
        if (r.method === 'HEAD') {
          const before = await fingerprint();
          const answer = await readAnswer(
            await worker(`${r.path}?${urlEncode(Object.entries(valid()))}`, { method: 'HEAD' }),
          );
          tally.record(answer.status);
          expect(answer.status, context).toBe(405);
          const after = await fingerprint();
          expect({ ...after, log: 0 }, context).toEqual({ ...before, log: 0 });
          return;
        }
        tally.record(await checkPostback(w, r.path, { method: r.method, headers, body: text }, context));
      },
      300,
    );
  }, 120_000);
});

describe('fuzz: affiliate-ID protocol', () => {
  it('offer_id + publisher_id postbacks with hostile values: valid result or 4xx, nothing written on refusal', async () => {
    const f = await createFixture({
      allow_publisher_postback: true,
      goals: [
        { key: 'lead', payout: '2.00' },
        { key: 'deposit', payout: '1.00', allow_repeats: true },
      ],
    });
    const publisher = await createPublisher('Affiliate');
    const w: World = {
      offerId: f.offerId,
      otherOfferId: f.offerId,
      publisherId: publisher,
      key: f.postbackKey,
      otherKey: (await adminOk<{ postback_key: string }>('POST', '/advertisers', { name: 'Other' })).postback_key,
      clicks: ['none'],
      expiredClick: 'none',
      foreignClick: 'none',
    };
    const v = roleValues(w);
    await fuzz(
      'postback/affiliate-id',
      fc.record({
        offer: fc.oneof({ weight: 4, arbitrary: fc.constant(String(f.offerId)) }, { weight: 1, arbitrary: v.id }),
        publisher: fc.oneof({ weight: 4, arbitrary: fc.constant(String(publisher)) }, { weight: 1, arbitrary: v.id }),
        order: fc.option(v.order, { freq: 4 }),
        event: fc.option(fc.constantFrom('lead', 'deposit', 'sale'), { freq: 2 }),
        status: fc.option(v.status, { freq: 4 }),
        subs: fc.array(v.text, { maxLength: 5 }),
        key: v.key,
      }),
      async (r, tally) => {
        const list: Param[] = [
          ['offer_id', r.offer],
          ['publisher_id', r.publisher],
          ['key', r.key],
        ];
        if (r.order !== null) list.push(['order_id', r.order]);
        if (r.event !== null) list.push(['event', r.event]);
        if (r.status !== null) list.push(['status', r.status]);
        r.subs.forEach((s, i) => {
          list.push([`sub${i + 1}`, s]);
        });
        const path = `/postback?${urlEncode(list)}`;
        tally.record(await checkPostback(w, path, {}, `GET ${path.slice(0, 300)}`));
      },
      300,
    );
  }, 120_000);
});
