// Property-based tests of the click route: random and hostile path segments, sub IDs, deep
// links, repeated and unknown parameters, huge and unicode values, odd headers, GET and HEAD.
// Every answer is a redirect to an allowed place or a 4xx; a click is recorded exactly when a
// GET was redirected to the landing page or a deep link.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clickIdKeys, verifyClickId } from '../../src/click/click-id';
import { adminOk, BASE, clicksOfOffer, createFixture, eventually, worker } from '../helpers';
import {
  expectContractAnswer,
  fuzz,
  headerString,
  hostileString,
  quietWorkerLogs,
  readAnswer,
  report,
} from './helpers';

afterEach(() => {
  vi.restoreAllMocks();
});

const SUBS = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5'] as const;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the route refuses sub IDs with control characters
const CONTROL = /[\u0000-\u001f\u007f]/;
const GOOD_DEEP_LINKS = [
  'https://brand.example/product?id=7#top',
  'https://www.shop.example/a/b?c=d&e=f',
  'http://shop.example/',
  'HTTPS://BRAND.EXAMPLE/Upper',
];

interface World {
  /** Active offer whose landing URL carries every sub ID and the click ID as macros. */
  macroOffer: number;
  /** Active offer with a plain landing URL, a fragment and its own click parameter name. */
  plainOffer: number;
  /** Paused offer with a fallback URL. */
  pausedOffer: number;
  publisher: number;
  pausedPublisher: number;
}

async function buildWorld(): Promise<World> {
  const f = await createFixture({
    landing_url:
      'https://shop.example/landing?src=aff&s1={sub1}&s2={sub2}&s3={sub3}&s4={sub4}&s5={sub5}&cid={click_id}',
    deep_link_hosts: ['*.shop.example', 'brand.example'],
  });
  const plain = await adminOk<{ id: number }>('POST', '/offers', {
    advertiser_id: f.advertiserId,
    name: 'Plain',
    landing_url: 'https://plain.example/p?x=1#frag',
    click_param: 'ref',
    currency: 'EUR',
    goals: [{ key: 'lead', payout: '1.00' }],
  });
  const paused = await adminOk<{ id: number }>('POST', '/offers', {
    advertiser_id: f.advertiserId,
    name: 'Paused',
    landing_url: 'https://paused.example/',
    fallback_url: 'https://fallback.example/sorry',
    status: 'paused',
    currency: 'EUR',
    goals: [{ key: 'lead', payout: '1.00' }],
  });
  const pausedPublisher = await adminOk<{ id: number }>('POST', '/publishers', { name: 'Paused', status: 'paused' });
  return {
    macroOffer: f.offerId,
    plainOffer: plain.id,
    pausedOffer: paused.id,
    publisher: f.publisherId,
    pausedPublisher: pausedPublisher.id,
  };
}

type Segment = { kind: 'id'; id: number } | { kind: 'raw'; text: string };

const segment = (ids: number[]): fc.Arbitrary<Segment> =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...ids).map((id) => ({ kind: 'id' as const, id })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(0, 999_999, 4_294_967_295, 4_294_967_296, 2 ** 53)
        .map((id) => ({ kind: 'id' as const, id })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          hostileString().map((s) => encodeURIComponent(s.toWellFormed())),
          fc.constantFrom('01', '1.0', '1e3', '-1', '%2e%2e', '..', '%', '%zz', '1%00', ' 1', '1;DROP', '٣'),
        )
        .filter((s) => s.length > 0)
        .map((text) => ({ kind: 'raw' as const, text })),
    },
  );

const segmentText = (s: Segment) => (s.kind === 'id' ? String(s.id) : s.text);

/** A query parameter: a sub ID, the deep link, or anything else; encoded, or pasted raw. */
const param = fc.record({
  name: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...SUBS) },
    { weight: 2, arbitrary: fc.constant('url') },
    { weight: 1, arbitrary: fc.constantFrom('SUB1', 'sub6', 'click_id', 'cid', 'offer_id', '') },
    { weight: 1, arbitrary: hostileString() },
  ),
  value: fc.oneof(
    { weight: 3, arbitrary: hostileString() },
    { weight: 2, arbitrary: fc.constantFrom(...GOOD_DEEP_LINKS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '//evil.example/',
        'https://evil.example/',
        'https://shop.example.evil.example/',
        'https://brand.example@evil.example/',
        'https:/\\evil.example',
        'https://evil.example%2f@brand.example/',
      ),
    },
  ),
  raw: fc.boolean(),
});

const request = (w: World) =>
  fc.record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD'),
    offer: segment([w.macroOffer, w.macroOffer, w.plainOffer, w.pausedOffer]),
    publisher: segment([w.publisher, w.publisher, w.publisher, w.pausedPublisher]),
    params: fc.array(param, { maxLength: 8 }),
    userAgent: fc.option(headerString(), { freq: 3 }),
    accept: fc.constantFrom(undefined, 'text/html,application/xhtml+xml', 'application/json', '*/*'),
    referer: fc.option(headerString(), { freq: 2 }),
    ip: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), headerString()), { freq: 3 }),
  });

type ClickRequest = ReturnType<typeof request> extends fc.Arbitrary<infer T> ? T : never;

function buildPath(r: ClickRequest): string {
  const query = r.params
    .map(({ name, value, raw }) => {
      // A raw value is pasted as is (the runtime's URL parser then encodes what it must); '#'
      // would end the URL there, so it is left encoded.
      const v = raw ? value.toWellFormed().replace(/#/g, '%23') : encodeURIComponent(value.toWellFormed());
      return `${encodeURIComponent(name.toWellFormed())}=${v}`;
    })
    .join('&');
  return `/c/${segmentText(r.offer)}/${segmentText(r.publisher)}${query ? `?${query}` : ''}`;
}

/** Whether every sub ID the Worker will read (the first of each name) is within the rules. */
function subsValid(query: URLSearchParams): boolean {
  return [...SUBS, 'sub6'].every((key) => {
    const value = query.get(key);
    return value === null || (value.length <= 255 && !CONTROL.test(value));
  });
}

const ALLOWED_DEEP_LINK_HOST = (host: string) =>
  host === 'brand.example' || host === 'shop.example' || host.endsWith('.shop.example');

describe('fuzz: click route', () => {
  it('answers every input with a redirect to an allowed place or a 4xx, and records exactly the redirected GETs', async () => {
    const w = await buildWorld();
    const keys = await clickIdKeys(env);
    const recorded: string[] = [];
    const activeOffers = [w.macroOffer, w.plainOffer];
    // Link previews and junk user agents would only add warnings about nothing here.
    quietWorkerLogs();

    await fuzz(
      'click/GET+HEAD',
      request(w),
      async (r, tally) => {
        const path = buildPath(r);
        const headers: Record<string, string> = {};
        if (r.userAgent !== null) headers['user-agent'] = r.userAgent;
        if (r.accept !== undefined) headers.accept = r.accept;
        if (r.referer !== null) headers.referer = r.referer;
        if (r.ip !== null) headers['cf-connecting-ip'] = r.ip;
        const answer = await readAnswer(await worker(path, { method: r.method, headers }));
        tally.record(answer.status);
        const context = `${r.method} ${path.slice(0, 300)}`;
        expect(answer.status, context).toBeLessThan(500);
        const url = new URL(BASE + path);
        // The URL parser resolves dot segments ("/c/%2e%2e/x" is "/x", "/c/../.." is "/"): such
        // a request never reaches the click route; whatever route it reaches keeps the contract.
        if (!/^\/c\/[^/]+\/[^/]+$/.test(url.pathname)) {
          expect(answer.headers.get('location'), context).toBeNull();
          if (r.method === 'GET') expectContractAnswer(answer, context);
          return;
        }
        expect(answer.headers.get('cache-control'), context).toBe('no-store');

        const query = url.searchParams;
        const offerId = r.offer.kind === 'id' ? r.offer.id : null;
        const publisherOk = r.publisher.kind === 'id' && r.publisher.id === w.publisher;
        const offerOk = offerId !== null && activeOffers.includes(offerId);
        const deepLink = query.get('url');
        const wellFormed =
          offerOk &&
          publisherOk &&
          subsValid(query) &&
          // Only the macro offer has a deep-link allow-list; the plain offer refuses every deep link.
          (!deepLink || (offerId === w.macroOffer && GOOD_DEEP_LINKS.includes(deepLink)));

        if (answer.status !== 302) {
          expect(answer.headers.get('location'), context).toBeNull();
          expect([400, 404], context).toContain(answer.status);
          expect(wellFormed, `${context}: a well-formed click was refused`).toBe(false);
          const html = r.accept?.includes('text/html');
          expect(answer.headers.get('content-type'), context).toMatch(html ? /^text\/html/ : /^application\/json/);
          // HEAD answers carry the headers of the GET answer and no body.
          if (r.method === 'HEAD') expect(answer.text, context).toBe('');
          else if (html) expect(answer.text, context).not.toMatch(/<script/i);
          else expectContractAnswer(answer, context);
          return;
        }

        // A redirect: an ASCII Location to the landing page, an allowed deep link or the fallback.
        const location = answer.headers.get('location') ?? '';
        // A Location header must be printable ASCII.
        expect(location, context).toMatch(/^[\u0021-\u007e]+$/);
        const target = new URL(location);
        if (target.host === 'fallback.example') {
          expect(target.href, context).toBe('https://fallback.example/sorry');
          expect(offerId, context).toBe(w.pausedOffer);
          return;
        }
        expect(offerOk && publisherOk, context).toBe(true);
        expect(subsValid(query), context).toBe(true);
        let clickId: string | null;
        if (deepLink) {
          expect(offerId, `${context}: deep link on an offer without an allow-list`).toBe(w.macroOffer);
          expect(ALLOWED_DEEP_LINK_HOST(target.hostname), `${context}: open redirect to ${target.hostname}`).toBe(true);
          expect(['http:', 'https:'], context).toContain(target.protocol);
          expect(target.username + target.password, context).toBe('');
          clickId = target.searchParams.get('click_id');
        } else if (offerId === w.macroOffer) {
          expect(target.origin + target.pathname, context).toBe('https://shop.example/landing');
          // A sub ID can never add, remove or reorder the landing URL's own parameters.
          expect([...target.searchParams.keys()], context).toEqual(['src', 's1', 's2', 's3', 's4', 's5', 'cid']);
          SUBS.forEach((key, i) => {
            expect(target.searchParams.get(`s${i + 1}`), `${context} ${key}`).toBe(
              (query.get(key) ?? '').toWellFormed(),
            );
          });
          clickId = target.searchParams.get('cid');
        } else {
          expect(target.origin + target.pathname + target.hash, context).toBe('https://plain.example/p#frag');
          expect([...target.searchParams.keys()], context).toEqual(['x', 'ref']);
          clickId = target.searchParams.get('ref');
        }
        const parts = await verifyClickId(keys, clickId ?? '');
        expect(parts, context).toMatchObject({ offerId, publisherId: w.publisher });
        if (r.method === 'GET' && clickId) recorded.push(clickId);
      },
      1500,
    );

    // Exactly the redirected GETs became click rows: no HEAD, no refusal, no fallback.
    const stored = () => clicksOfOffer(w.macroOffer, w.plainOffer, w.pausedOffer);
    const count = async () => (await stored()).length;
    await eventually(async () => ((await count()) >= recorded.length ? true : null), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await count()).toBe(recorded.length);
    expect(new Set((await stored()).map((row) => row.click_id))).toEqual(new Set(recorded));
    report(`fuzz: click route recorded ${recorded.length} clicks for ${recorded.length} redirected GETs`);
  }, 120_000);
});
