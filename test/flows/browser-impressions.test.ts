// Impressions (/i/, /aff_i) counted in the rollups only, the signed view cookie and view-through
// attribution, the tag /t.js (size, caching), and TUNE's /aff_c publisher link, through the Worker.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { mintViewToken } from '../../src/browser/cookies';
import { GIF_BYTES } from '../../src/browser/gif';
import { TAG_VERSION } from '../../src/browser/tag';
import type { ClicksMessage } from '../../src/click/ingest';
import { findClick } from '../../src/clicks/reads';
import worker_ from '../../src/index';
import { adminOk, createFixture, eventually, scalar, worker } from '../helpers';
import { conversionsOfOffer } from '../postback-helpers';

const UA = { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15' };

const impressionsOf = (offerId: number) =>
  scalar('SELECT SUM(impressions) AS n FROM daily_click_stats WHERE offer_id = ?', offerId);
const quarterImpressionsOf = (offerId: number) =>
  scalar('SELECT SUM(impressions) AS n FROM quarter_click_stats WHERE offer_id = ?', offerId);

async function gif(path: string, headers: Record<string, string> = UA) {
  const response = await worker(path, { headers });
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/gif');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect([...bytes]).toEqual([...GIF_BYTES]);
  return response;
}

function beacon(params: Record<string, string>, cookie?: string) {
  return worker('/b/conversion', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...UA, ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(params).toString(),
  });
}

describe('impressions', () => {
  it('count in the daily and quarter rollups, bots and unknown ids not, with no row per impression', async () => {
    const f = await createFixture();
    const tables = async () =>
      (await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{ name: string }>()).results;
    const rowsBefore = await scalar('SELECT COUNT(*) AS n FROM daily_click_stats');
    for (let i = 0; i < 5; i++) await gif(`/i/${f.offerId}/${f.publisherId}`);
    await gif(`/aff_i?offer_id=${f.offerId}&aff_id=${f.publisherId}`);
    await gif(`/i/${f.offerId}/${f.publisherId}`, { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' });
    await gif(`/i/${f.offerId}/${f.publisherId}`, {});
    await gif(`/i/${f.offerId}/999999`);
    await gif('/i/abc/1');
    await gif('/aff_i');
    await eventually(async () => ((await impressionsOf(f.offerId)) === 6 ? true : null));
    expect(await quarterImpressionsOf(f.offerId)).toBe(6);
    // One rollup row for the pair, clicks untouched; no table of impressions exists at all.
    expect(await scalar('SELECT COUNT(*) AS n FROM daily_click_stats')).toBe(rowsBefore + 1);
    expect(await scalar('SELECT SUM(clicks) AS n FROM daily_click_stats WHERE offer_id = ?', f.offerId)).toBe(0);
    expect((await tables()).filter((t) => /impression/i.test(t.name))).toEqual([]);
    const report = await adminOk<{ data: Record<string, unknown>[] }>(
      'GET',
      `/reports?offer_id=${f.offerId}&group_by=offer`,
    );
    expect(report.data[0]).toMatchObject({ offer_id: f.offerId, impressions: 6, clicks: 0 });
  });

  it('are counted once per queue message, however often it is delivered', async () => {
    const f = await createFixture();
    const day = new Date().toISOString().slice(0, 10);
    const quarter = Math.floor(Date.now() / 900_000);
    const body: ClicksMessage = {
      v: 1,
      clicks: [],
      impressions: [{ day, quarter, offer_id: f.offerId, publisher_id: f.publisherId, impressions: 40 }],
    };
    for (let delivery = 0; delivery < 2; delivery++) {
      const batch = createMessageBatch<ClicksMessage>('clickhop-clicks', [
        { id: 'imp-message-1', timestamp: new Date(), attempts: delivery + 1, body },
      ]);
      const ctx = createExecutionContext();
      await (worker_ as ExportedHandler<Env>).queue?.(batch, env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks).toEqual(['imp-message-1']);
    }
    expect(await impressionsOf(f.offerId)).toBe(40);
    expect(await quarterImpressionsOf(f.offerId)).toBe(40);
  });

  it('set a signed ch_vid cookie for offers with a view-through window', async () => {
    const plain = await createFixture();
    expect((await gif(`/i/${plain.offerId}/${plain.publisherId}`)).headers.get('set-cookie')).toBeNull();
    const f = await createFixture({ browser_tracking: true, view_through_hours: 24 });
    const cookie = (await gif(`/i/${f.offerId}/${f.publisherId}`)).headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(
      new RegExp(
        `^ch_vid=v1\\.${f.offerId}\\.${f.publisherId}\\.\\d+\\.[A-Za-z0-9_-]{22}; Max-Age=86400; Path=/; HttpOnly; Secure; SameSite=None$`,
      ),
    );
  });
});

describe('view-through attribution', () => {
  it('credits a click-less browser conversion to a valid view, outside caps', async () => {
    const f = await createFixture({ browser_tracking: true, view_through_hours: 24 });
    await adminOk('POST', `/offers/${f.offerId}/caps`, { metric: 'conversions', period: 'day', limit: 1 });
    const viewed = await gif(`/i/${f.offerId}/${f.publisherId}`);
    const view = (viewed.headers.get('set-cookie') ?? '').split(';')[0] as string;
    for (const order of ['V-1', 'V-2']) {
      expect(
        (await beacon({ offer_id: String(f.offerId), goal: 'sale', order_id: order, amount: '30' }, view)).status,
      ).toBe(204);
    }
    const rows = await conversionsOfOffer(f.offerId);
    expect(rows.map((r) => [r.order_id, r.attribution, r.source, r.status, r.click_id, r.publisher_id])).toEqual([
      ['V-1', 'view_through', 'browser', 'pending', null, f.publisherId],
      ['V-2', 'view_through', 'browser', 'pending', null, f.publisherId],
    ]);
  });

  it('refuses a forged, expired or other-offer view, and none at all', async () => {
    const f = await createFixture({ browser_tracking: true, view_through_hours: 2 });
    const other = await createFixture({ browser_tracking: true, view_through_hours: 2 });
    const old = mintViewToken(env, {
      offerId: f.offerId,
      publisherId: f.publisherId,
      viewedAt: Date.now() - 3 * 3_600_000,
    });
    const fresh = mintViewToken(env, { offerId: f.offerId, publisherId: f.publisherId, viewedAt: Date.now() });
    const forged = fresh.replace(/\.(\d+)\./, (_, s) => `.${Number(s) + 1}.`);
    const theirs = mintViewToken(env, { offerId: other.offerId, publisherId: other.publisherId, viewedAt: Date.now() });
    const send = (cookie?: string) => beacon({ offer_id: String(f.offerId), order_id: `R-${Math.random()}` }, cookie);
    for (const cookie of [`ch_vid=${old}`, `ch_vid=${forged}`, `ch_vid=${theirs}`, undefined]) {
      expect((await send(cookie)).status).toBe(204);
    }
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
    const codes = await env.DB.prepare(
      "SELECT error_code FROM postback_log WHERE profile = 'browser' ORDER BY id DESC LIMIT 4",
    ).all<{ error_code: string }>();
    expect(codes.results.map((r) => r.error_code).reverse()).toEqual([
      'outside_view_through_window',
      'invalid_request',
      'invalid_request',
      'invalid_request',
    ]);
  });
});

describe('GET /t.js', () => {
  it('is under 3 KB gzipped, cacheable with an ETag, 304 on If-None-Match, immutable when versioned', async () => {
    const response = await worker('/t.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=UTF-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    const etag = response.headers.get('etag') ?? '';
    expect(etag).toBe(`"t-${TAG_VERSION}"`);
    const body = await response.text();
    expect(body).toContain("'/b/conversion'");
    expect(body).not.toMatch(/\bimport\b|\brequire\(/);
    const gzipped = await new Response(
      new Blob([body]).stream().pipeThrough(new CompressionStream('gzip')),
    ).arrayBuffer();
    expect(gzipped.byteLength).toBeLessThanOrEqual(3 * 1024);
    const again = await worker('/t.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const pinned = await worker(`/t.js?v=${TAG_VERSION}`);
    expect(pinned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const stale = await worker('/t.js?v=old');
    expect(stale.headers.get('cache-control')).toBe('public, max-age=3600');
  });
});

describe('TUNE drop-ins', () => {
  it('/aff_c answers as /c/ with the aff_sub values as sub IDs', async () => {
    const f = await createFixture();
    const response = await worker(`/aff_c?offer_id=${f.offerId}&aff_id=${f.publisherId}&aff_sub=tune1&aff_sub5=tune5`, {
      headers: UA,
    });
    expect(response.status).toBe(302);
    const clickId = new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
    expect(clickId).toHaveLength(48);
    const stored = await eventually(() => findClick(env, clickId));
    expect(stored).toMatchObject({ sub1: 'tune1', sub5: 'tune5', offer_id: f.offerId, publisher_id: f.publisherId });
    const missing = await worker('/aff_c?offer_id=abc', { headers: { ...UA, accept: 'application/json' } });
    expect(missing.status).toBe(404);
  });
});
