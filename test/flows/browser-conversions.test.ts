// Browser conversions through the real Worker: the tag's beacon POST /b/conversion, the pixel
// /px (and /px.html, TUNE's /aff_l): the same conversion path as /postback (dedup by order ID
// across server and browser, sub IDs of the click, rollups), `source: "browser"`, the postback
// log, and never an error answered to a browser.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { GIF_BYTES } from '../../src/browser/gif';
import { approveValidatedConversions } from '../../src/cron/validation';
import { REFUSAL_THROTTLE } from '../../src/postback/refusal-throttle';
import { admin, adminOk, click, createFixture, scalar, worker } from '../helpers';
import { conversionsOfOffer, getPostback, statsOf } from '../postback-helpers';

const browserFixture = (settings: Record<string, unknown> = {}) =>
  createFixture({ browser_tracking: true, ...settings });

const BROWSER_UA = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36' };

function beacon(body: string | Record<string, string>, contentType = 'application/x-www-form-urlencoded') {
  const text = typeof body === 'string' ? body : new URLSearchParams(body).toString();
  return worker('/b/conversion', {
    method: 'POST',
    headers: { 'content-type': contentType, origin: 'https://shop.example', ...BROWSER_UA },
    body: text,
  });
}

async function pixel(path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await worker(`${path}?${new URLSearchParams(params)}`, { headers: { ...BROWSER_UA, ...headers } });
  return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
}

async function logOf(offerId: number) {
  const { results } = await env.DB.prepare('SELECT * FROM postback_log WHERE offer_id = ? ORDER BY id')
    .bind(offerId)
    .all<Record<string, unknown>>();
  return results;
}

async function expectGif(result: { response: Response; bytes: Uint8Array }) {
  expect(result.response.status).toBe(200);
  expect(result.response.headers.get('content-type')).toBe('image/gif');
  expect(result.response.headers.get('cache-control')).toBe('no-store');
  expect(result.bytes.byteLength).toBe(43);
  expect([...result.bytes]).toEqual([...GIF_BYTES]);
  expect(String.fromCharCode(...result.bytes.slice(0, 6))).toBe('GIF89a');
}

describe('the offer settings', () => {
  it('default to off and are changed and echoed by the offers API', async () => {
    const f = await createFixture();
    const created = await adminOk<Record<string, unknown>>('GET', `/offers/${f.offerId}`);
    expect(created).toMatchObject({ browser_tracking: false, view_through_hours: 0, hold_browser: false });
    const changed = await adminOk('PATCH', `/offers/${f.offerId}`, {
      browser_tracking: true,
      view_through_hours: 24,
      hold_browser: true,
    });
    expect(changed).toMatchObject({ browser_tracking: true, view_through_hours: 24, hold_browser: true });
    const bad = await admin('PATCH', `/offers/${f.offerId}`, { view_through_hours: 721 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('view_through_hours');
  });
});

describe('POST /b/conversion (the tag beacon)', () => {
  it('records a conversion with the click sub IDs and source browser, answering 204 with CORS', async () => {
    const f = await browserFixture();
    const clickId = await click(f, '?sub1=news&aff_sub2=spring');
    const response = await beacon({
      offer_id: String(f.offerId),
      goal: 'sale',
      order_id: 'B-1',
      amount: '80.00',
      click_id: clickId,
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(await response.text()).toBe('');
    const [cv] = await conversionsOfOffer(f.offerId);
    expect(cv).toMatchObject({
      source: 'browser',
      profile: 'browser',
      attribution: 'click',
      click_id: clickId,
      order_id: 'B-1',
      amount: 8000,
      revenue: 800,
      payout: 400,
      status: 'pending',
    });
    // The click landed after the conversion, or before: either way its sub IDs reach the row.
    await expect.poll(async () => (await conversionsOfOffer(f.offerId))[0]?.sub1, { timeout: 10_000 }).toBe('news');
    expect((await conversionsOfOffer(f.offerId))[0]?.sub2).toBe('spring');
    const api = await adminOk<Record<string, unknown>>('GET', `/conversions/${cv?.id}`);
    expect(api).toMatchObject({ source: 'browser', profile: 'browser', attribution: 'click' });
    const [log] = await logOf(f.offerId);
    expect(log).toMatchObject({ profile: 'browser', outcome: 'created', http_status: 204, conversion_id: cv?.id });
    expect((await statsOf(f.offerId))[0]).toMatchObject({ pending: 1, revenue_pending: 800 });
  });

  it('answers the CORS preflight of a JSON fetch with 204 and no credentials', async () => {
    const response = await worker('/b/conversion', {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('reads JSON, also sent as text/plain, and dedups by order ID across server and browser', async () => {
    const f = await browserFixture();
    const clickId = await click(f);
    const first = await beacon(
      JSON.stringify({ click_id: clickId, goal: 'sale', order_id: 'X-1', amount: 50 }),
      'text/plain;charset=UTF-8',
    );
    expect(first.status).toBe(204);
    // The advertiser's server reports the same order: a duplicate, not a second conversion.
    const server = await getPostback('/postback', {
      key: f.postbackKey,
      click_id: clickId,
      event: 'sale',
      order_id: 'X-1',
      amount: '50.00',
    });
    expect(server.body).toMatchObject({ duplicate: true });
    const again = await beacon(
      JSON.stringify({ click_id: clickId, goal: 'sale', order_id: 'X-1' }),
      'application/json',
    );
    expect(again.status).toBe(204);
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: 'browser', amount: 5000 });
    expect((await logOf(f.offerId)).map((r) => r.outcome)).toEqual(['created', 'duplicate', 'duplicate']);
  });

  it('reads a multipart FormData beacon', async () => {
    const f = await browserFixture();
    const clickId = await click(f);
    const form = new FormData();
    form.set('click_id', clickId);
    form.set('goal', 'lead');
    form.set('order_id', 'M-1');
    const response = await worker('/b/conversion', { method: 'POST', headers: BROWSER_UA, body: form });
    expect(response.status).toBe(204);
    expect(await conversionsOfOffer(f.offerId)).toEqual([
      expect.objectContaining({ order_id: 'M-1', source: 'browser' }),
    ]);
  });

  it('logs replays from one network under the refusal throttle', async () => {
    const f = await browserFixture();
    const clickId = await click(f);
    const network = { ...BROWSER_UA, 'cf-connecting-ip': '198.51.100.23' };
    const send = () =>
      worker('/b/conversion', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...network },
        body: new URLSearchParams({ click_id: clickId, goal: 'lead', order_id: 'RP-1' }).toString(),
      });
    for (let i = 0; i < 40; i++) expect((await send()).status).toBe(204);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(1);
    const outcomes = (await logOf(f.offerId)).map((r) => r.outcome);
    expect(outcomes[0]).toBe('created');
    // The first of them logged, then at most the throttle's burst (20) of the 39 replays.
    expect(outcomes.filter((o) => o === 'duplicate').length).toBeLessThanOrEqual(REFUSAL_THROTTLE.BURST);
    expect(outcomes.filter((o) => o === 'duplicate').length).toBeGreaterThan(0);
  });

  it('logs and ignores a conversion for an offer without browser tracking, still 204', async () => {
    const f = await createFixture();
    const clickId = await click(f);
    const response = await beacon({ click_id: clickId, goal: 'sale', order_id: 'N-1', amount: '10' });
    expect(response.status).toBe(204);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
    const [log] = await logOf(f.offerId);
    expect(log).toMatchObject({ profile: 'browser', outcome: 'refused', error_code: 'browser_tracking_disabled' });
  });

  it('refuses an altered click ID, a status, and more than three conversions per click and goal', async () => {
    const f = await browserFixture({
      goals: [{ key: 'sale', revenue_percent: 10, payout_percent: 5, default_status: 'approved' }],
    });
    const clickId = await click(f);
    expect((await beacon({ click_id: `${clickId.slice(0, -2)}xx`, order_id: 'F-0' })).status).toBe(204);
    expect(
      await scalar(
        "SELECT COUNT(*) AS n FROM postback_log WHERE error_code = 'click_not_found' AND profile = 'browser'",
      ),
    ).toBeGreaterThan(0);
    // A browser cannot change a status: `status` is not read.
    for (const order of ['F-1', 'F-2', 'F-3', 'F-4']) {
      expect((await beacon({ click_id: clickId, order_id: order, amount: '10', status: 'reversed' })).status).toBe(204);
    }
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows.map((r) => r.order_id)).toEqual(['F-1', 'F-2', 'F-3']);
    expect(rows.every((r) => r.status === 'approved')).toBe(true);
    expect((await logOf(f.offerId)).at(-1)).toMatchObject({
      outcome: 'refused',
      error_code: 'browser_conversion_limit',
    });
  });

  it('keeps browser conversions pending with hold_browser, even on an approving goal', async () => {
    const f = await browserFixture({
      hold_browser: true,
      goals: [{ key: 'lead', revenue: '5.00', payout: '2.00', default_status: 'approved', validation_days: 0 }],
    });
    const clickId = await click(f);
    await beacon({ click_id: clickId, order_id: 'H-1' });
    const server = await getPostback('/postback', { key: f.postbackKey, click_id: clickId, order_id: 'H-2' });
    expect(server.body).toMatchObject({ conversion_status: 'approved' });
    await getPostback('/postback', { key: f.postbackKey, click_id: clickId, order_id: 'H-3', status: 'pending' });
    // The validation period approves the server's pending conversion, never the held browser one.
    expect(await approveValidatedConversions(env, Date.now() + 86_400_000)).toBe(1);
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows.map((r) => [r.order_id, r.source, r.status])).toEqual([
      ['H-1', 'browser', 'pending'],
      ['H-2', 'server', 'approved'],
      ['H-3', 'server', 'approved'],
    ]);
  });

  it('is bounded: a body over 64 KiB or 100 parameters is logged as refused, still 204, nothing stored', async () => {
    const f = await browserFixture();
    const clickId = await click(f);
    const big = await beacon(`click_id=${clickId}&order_id=${'x'.repeat(70 * 1024)}`);
    expect(big.status).toBe(204);
    const many = await beacon(Array.from({ length: 101 }, (_, i) => `p${i}=1`).join('&'));
    expect(many.status).toBe(204);
    const bad = await beacon('{"click_id": [1]}', 'application/json');
    expect(bad.status).toBe(204);
    const long = await beacon({ click_id: clickId, order_id: 'o'.repeat(300) });
    expect(long.status).toBe(204);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
    const codes = await env.DB.prepare(
      "SELECT error_code FROM postback_log WHERE profile = 'browser' AND outcome = 'refused' ORDER BY id DESC LIMIT 4",
    ).all<{ error_code: string }>();
    expect(codes.results.map((r) => r.error_code).reverse()).toEqual([
      'payload_too_large',
      'invalid_request',
      'invalid_request',
      'invalid_request',
    ]);
  });
});

describe('GET /px (the pixel)', () => {
  it('answers the 43-byte GIF and records the conversion', async () => {
    const f = await browserFixture();
    const clickId = await click(f, '?sub1=px');
    const result = await pixel('/px', {
      offer_id: String(f.offerId),
      goal: 'sale',
      order_id: 'P-1',
      amount: '20.00',
      currency: 'EUR',
      click_id: clickId,
    });
    await expectGif(result);
    const [cv] = await conversionsOfOffer(f.offerId);
    expect(cv).toMatchObject({ source: 'browser', profile: 'pixel', order_id: 'P-1', amount: 2000 });
    expect((await logOf(f.offerId))[0]).toMatchObject({ profile: 'pixel', outcome: 'created', http_status: 200 });
  });

  it('answers the GIF whatever happened: no parameters, garbage, unknown offer', async () => {
    await expectGif(await pixel('/px', {}));
    await expectGif(await pixel('/px', { click_id: 'garbage', amount: 'lots' }));
    await expectGif(await pixel('/px', { offer_id: '99999', order_id: 'Q' }));
    const head = await worker('/px', { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('uses the ch_cid cookie the redirect set when no click_id is given', async () => {
    const f = await browserFixture({ attribution_window_days: 7 });
    const redirect = await worker(`/c/${f.offerId}/${f.publisherId}?sub1=cookie`, { headers: BROWSER_UA });
    const cookie = redirect.headers.get('set-cookie') ?? '';
    const clickId = new URL(redirect.headers.get('location') ?? '').searchParams.get('click_id');
    expect(cookie).toBe(`ch_cid=${clickId}; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=None`);
    await expectGif(
      await pixel(
        '/px',
        { offer_id: String(f.offerId), goal: 'lead', order_id: 'C-1' },
        { cookie: `other=1; ch_cid=${clickId}` },
      ),
    );
    const [cv] = await conversionsOfOffer(f.offerId);
    expect(cv).toMatchObject({ click_id: clickId, source: 'browser', order_id: 'C-1' });
  });

  it('sets no cookie in the redirect of an offer without browser tracking', async () => {
    const f = await createFixture();
    const redirect = await worker(`/c/${f.offerId}/${f.publisherId}`, { headers: BROWSER_UA });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('set-cookie')).toBeNull();
  });

  it('/px.html answers an empty page and records like /px; /aff_l reads TUNE names', async () => {
    const f = await browserFixture();
    const clickId = await click(f);
    const page = await worker(`/px.html?click_id=${clickId}&goal=lead&order_id=I-1`, { headers: BROWSER_UA });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toBe('<!doctype html><title></title>');
    const tune = await pixel('/aff_l', {
      offer_id: String(f.offerId),
      adv_sub: 'T-1',
      amount: '12.50',
      transaction_id: clickId,
      goal_id: 'sale',
    });
    await expectGif(tune);
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows.map((r) => [r.order_id, r.profile, r.amount])).toEqual([
      ['I-1', 'pixel', 0],
      ['T-1', 'pixel', 1250],
    ]);
  });
});
