// GET /api/v1/clicks (filters, newest first, cursor pagination) and the click dispute view
// GET /api/v1/clicks/:clickId (click row, conversions with their status history and deliveries,
// the postback requests that named the click, each section capped).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { type ClickFilters, type ClickRecord, clickListSql } from '../../src/db/clicks';
import { insertPostbackLog } from '../../src/db/postback-log';
import { clickRecord, conversionEventRow, insertClicks, seedConversionEvents } from '../fixtures';
import {
  admin,
  adminOk,
  click,
  clickRow,
  createFixture,
  eventually,
  expectError,
  type Fixture,
  RECEIVER,
  received,
  storedClickCount,
  uniqueKey,
  worker,
} from '../helpers';
import { createPublisher, deliveriesOf, eventsOf, getPostback, mintClick } from '../postback-helpers';

interface ClickPage {
  data: Record<string, unknown>[];
  next_cursor: string | null;
}

interface DisputeConversion extends Record<string, unknown> {
  id: string;
  status: string;
  events: Record<string, unknown>[];
  deliveries: Record<string, unknown>[];
  truncated: { events: boolean; deliveries: boolean };
}

interface Dispute extends Record<string, unknown> {
  landed: boolean;
  click: Record<string, unknown> | null;
  conversions: DisputeConversion[];
  postbacks: Record<string, unknown>[];
  truncated: { conversions: boolean; postbacks: boolean };
  limits: Record<string, number>;
}

let serial = 0;

/** A stored-click record as the click route hands it to the clicks Queue, one visitor each. */
function record(f: Pick<Fixture, 'offerId' | 'publisherId'>, clickedAt: string, over: Partial<ClickRecord> = {}) {
  serial += 1;
  return clickRecord(f, clickedAt, { visitor_hash: `visitor-${serial}`, ...over });
}

const ids = (page: ClickPage) => page.data.map((row) => row.click_id);

async function list(query: string): Promise<ClickPage> {
  return adminOk<ClickPage>('GET', `/clicks?${query}`);
}

/** Every page of a listing, following next_cursor until it is null. */
async function walk(query: string, limit: number): Promise<ClickPage[]> {
  const pages: ClickPage[] = [];
  let cursor: string | null = null;
  do {
    const page: ClickPage = await list(
      `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    pages.push(page);
    cursor = page.next_cursor;
    if (pages.length > 100) throw new Error('cursor walk does not end');
  } while (cursor);
  return pages;
}

describe('GET /api/v1/clicks filters', () => {
  async function seed() {
    const f = await createFixture();
    const otherPublisher = await createPublisher();
    const otherOffer = await createFixture();
    const human = record(f, '2026-03-01T09:00:00.000Z', { visitor_hash: 'same-visitor', sub1: 'news', sub3: 'x' });
    const repeat = record(f, '2026-03-01T10:00:00.000Z', { visitor_hash: 'same-visitor', sub1: 'news' });
    const bot = record(f, '2026-03-02T08:00:00.000Z', {
      is_bot: 1,
      device: 'bot',
      user_agent: 'Slackbot-LinkExpanding 1.0',
      sub2: 'feed',
    });
    const french = record(f, '2026-03-02T23:59:59.999Z', { country: 'FR', sub4: 'a b', sub5: 'ü' });
    const otherPub = record({ offerId: f.offerId, publisherId: otherPublisher }, '2026-03-03T00:00:00.000Z');
    const otherOff = record(otherOffer, '2026-03-01T12:00:00.000Z');
    await insertClicks([human, repeat, bot, french, otherPub, otherOff]);
    return { f, otherPublisher, otherOffer, human, repeat, bot, french, otherPub, otherOff };
  }

  it('lists the clicks of an offer newest first, with flags as booleans and no visitor hash', async () => {
    const s = await seed();
    const page = await list(`offer_id=${s.f.offerId}`);
    expect(ids(page)).toEqual([s.otherPub, s.french, s.bot, s.repeat, s.human].map((r) => r.click_id));
    expect(page.next_cursor).toBeNull();
    expect(page.data[1]).toEqual({
      click_id: s.french.click_id,
      clicked_at: '2026-03-02T23:59:59.999Z',
      offer_id: s.f.offerId,
      publisher_id: s.f.publisherId,
      sub1: null,
      sub2: null,
      sub3: null,
      sub4: 'a b',
      sub5: 'ü',
      sub6: null,
      creative_id: null,
      creative_group_id: null,
      deep_link: null,
      referrer: null,
      search_engine: null,
      search_phrase: null,
      country: 'FR',
      region: null,
      city: null,
      colo: 'AMS',
      asn: 1136,
      user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0',
      device: 'desktop',
      ip_prefix: '192.0.2.0/24',
      is_bot: false,
      is_unique: true,
    });
  });

  it('filters by publisher, and by offer and publisher together', async () => {
    const s = await seed();
    expect(ids(await list(`publisher_id=${s.otherPublisher}`))).toEqual([s.otherPub.click_id]);
    expect(ids(await list(`publisher_id=${s.f.publisherId}&offer_id=${s.f.offerId}`))).toEqual(
      [s.french, s.bot, s.repeat, s.human].map((r) => r.click_id),
    );
    expect(ids(await list(`publisher_id=${s.otherPublisher}&offer_id=${s.otherOffer.offerId}`))).toEqual([]);
  });

  it('filters by unique and by bot', async () => {
    const s = await seed();
    const offer = `offer_id=${s.f.offerId}`;
    // The repeat visit within 24 hours is not unique; a bot click never is.
    expect(ids(await list(`${offer}&unique=true`))).toEqual([s.otherPub, s.french, s.human].map((r) => r.click_id));
    expect(ids(await list(`${offer}&unique=false`))).toEqual([s.bot, s.repeat].map((r) => r.click_id));
    expect(ids(await list(`${offer}&bot=true`))).toEqual([s.bot.click_id]);
    expect(ids(await list(`${offer}&bot=false&unique=false`))).toEqual([s.repeat.click_id]);
  });

  it('filters by country, case-insensitively on input', async () => {
    const s = await seed();
    expect(ids(await list(`offer_id=${s.f.offerId}&country=fr`))).toEqual([s.french.click_id]);
    expect(ids(await list(`offer_id=${s.f.offerId}&country=NL`))).toEqual(
      [s.otherPub, s.bot, s.repeat, s.human].map((r) => r.click_id),
    );
  });

  it('filters by each sub ID, exactly', async () => {
    const s = await seed();
    const offer = `offer_id=${s.f.offerId}`;
    expect(ids(await list(`${offer}&sub1=news`))).toEqual([s.repeat, s.human].map((r) => r.click_id));
    expect(ids(await list(`${offer}&sub1=new`))).toEqual([]);
    expect(ids(await list(`${offer}&sub2=feed`))).toEqual([s.bot.click_id]);
    expect(ids(await list(`${offer}&sub1=news&sub3=x`))).toEqual([s.human.click_id]);
    expect(ids(await list(`${offer}&sub4=a%20b`))).toEqual([s.french.click_id]);
    expect(ids(await list(`${offer}&sub5=%C3%BC`))).toEqual([s.french.click_id]);
  });

  it('filters by time: from inclusive, to exclusive, a day as `to` covering that whole day', async () => {
    const s = await seed();
    const offer = `offer_id=${s.f.offerId}`;
    expect(ids(await list(`${offer}&from=2026-03-02&to=2026-03-02`))).toEqual([s.french, s.bot].map((r) => r.click_id));
    expect(ids(await list(`${offer}&from=2026-03-01T10:00:00.000Z&to=2026-03-02T23:59:59.999Z`))).toEqual(
      [s.bot, s.repeat].map((r) => r.click_id),
    );
    expect(ids(await list(`${offer}&from=2026-03-03`))).toEqual([s.otherPub.click_id]);
    expect(ids(await list(`${offer}&to=2026-03-01T09:00:00.001Z`))).toEqual([s.human.click_id]);
  });

  it('names each malformed filter in a 400', async () => {
    const cases: [string, string][] = [
      ['offer_id=abc', 'offer_id'],
      ['publisher_id=0', 'publisher_id'],
      ['unique=yes', 'unique'],
      ['bot=1', 'bot'],
      ['country=DEU', 'country'],
      ['from=yesterday', 'from'],
      ['to=2026-13-45', 'to'],
      ['sub1=', 'sub1'],
      [`sub5=${'x'.repeat(256)}`, 'sub5'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
    ];
    for (const [query, field] of cases) {
      expectError(await admin('GET', `/clicks?${query}`), 400, 'invalid_request', [field]);
    }
    expectError(await admin('GET', '/clicks?unique=maybe&country=x'), 400, 'invalid_request', ['unique', 'country']);
  });

  it('requires the admin token', async () => {
    const none = await worker('/api/v1/clicks');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await worker('/api/v1/clicks', { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
});

describe('GET /api/v1/clicks cursor pagination', () => {
  async function seedTies() {
    const f = await createFixture();
    // Four clicks share one millisecond, so page boundaries fall inside a tie.
    const tie = '2026-04-05T06:07:08.009Z';
    const clicks = [
      record(f, '2026-04-05T06:07:08.010Z'),
      record(f, tie),
      record(f, tie),
      record(f, tie),
      record(f, tie),
      record(f, '2026-04-04T00:00:00.000Z'),
      record(f, '2026-04-06T00:00:00.000Z', { is_bot: 1, device: 'bot' }),
    ];
    await insertClicks(clicks);
    return { f, clicks };
  }

  it('returns every click of a filtered list exactly once across pages, newest first', async () => {
    const { f, clicks } = await seedTies();
    for (const limit of [1, 2, 3, 7]) {
      const pages = await walk(`offer_id=${f.offerId}`, limit);
      const seen = pages.flatMap(ids);
      expect(seen.length, `limit ${limit}`).toBe(clicks.length);
      expect(new Set(seen)).toEqual(new Set(clicks.map((c) => c.click_id)));
      expect(pages.slice(0, -1).every((p) => p.data.length === limit)).toBe(true);
      const times = pages.flatMap((p) => p.data.map((row) => String(row.clicked_at)));
      expect(times).toEqual([...times].sort().reverse());
    }
    // A page exactly as long as the rest ends the walk: no empty trailing page.
    expect((await walk(`offer_id=${f.offerId}`, 7)).length).toBe(1);
  });

  it('walks the unfiltered and the publisher-filtered lists the same way', async () => {
    const { f, clicks } = await seedTies();
    const byPublisher = (await walk(`publisher_id=${f.publisherId}`, 2)).flatMap(ids);
    expect(byPublisher.sort()).toEqual(clicks.map((c) => c.click_id).sort());
    const all = (await walk('', 4)).flatMap(ids);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(await storedClickCount());
    expect(all).toEqual(expect.arrayContaining(clicks.map((c) => c.click_id)));
  });

  it('keeps the filters on later pages', async () => {
    const { f, clicks } = await seedTies();
    const pages = await walk(`offer_id=${f.offerId}&bot=false&from=2026-04-05`, 2);
    expect(pages.flatMap(ids).sort()).toEqual(
      clicks
        .slice(0, 5)
        .map((c) => c.click_id)
        .sort(),
    );
  });

  it('reads every page along an index, never reading the whole table or sorting it', async () => {
    const before = { clicked_at: '2026-04-05T06:07:08.009Z', rowid: 12 };
    const cases: ClickFilters[] = [
      {},
      { offer_id: 1 },
      { publisher_id: 2 },
      { offer_id: 1, publisher_id: 2 },
      { from: '2026-04-01T00:00:00.000Z', to: '2026-04-08T00:00:00.000Z', country: 'NL', unique: true, sub1: 'a' },
    ];
    for (const filters of cases) {
      for (const cursor of [undefined, before]) {
        const { sql, binds } = clickListSql(filters, cursor, 51);
        const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...binds)
          .all<{ detail: string }>();
        const plan = results.map((r) => r.detail).join(' / ');
        // SCAN ... USING INDEX walks an index in order (no bound); a bare SCAN reads the table.
        expect(plan, JSON.stringify(filters)).toMatch(/^(SEARCH|SCAN) clicks USING INDEX clicks_\w+( \(.*\))?$/);
        expect(plan, JSON.stringify(filters)).not.toMatch(/TEMP B-TREE/);
      }
    }
  });

  it('answers 400 naming `cursor` for a cursor this list did not hand out', async () => {
    const { f } = await seedTies();
    const first = await list(`offer_id=${f.offerId}&limit=2`);
    expect(first.next_cursor).toEqual(expect.any(String));
    const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '');
    const foreign = [
      'not-a-cursor!',
      b64(42), // a postback-log cursor
      b64('2026-04-05T06:07:08.009Z|cv_abc'), // a conversions cursor
      b64('2026-04-05|12'),
      b64('2026-04-05T06:07:08.009Z|12|3'),
      b64('2026-04-05T06:07:08.009Z|-1'),
      b64('2026-04-05T06:07:08.009Z|99999999999999999'),
    ];
    for (const cursor of foreign) {
      expectError(
        await admin('GET', `/clicks?offer_id=${f.offerId}&cursor=${encodeURIComponent(cursor)}`),
        400,
        'invalid_request',
        ['cursor'],
      );
    }
  });
});

describe('GET /api/v1/clicks/:clickId (dispute view)', () => {
  async function endpoint(f: Fixture, path: string) {
    return adminOk<{ id: number }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${path}`,
      method: 'POST',
      format: 'json',
      events: ['conversion.created', 'conversion.approved'],
    });
  }

  it('shows a landed click, its conversion with status history and deliveries, and its postbacks', async () => {
    const f = await createFixture();
    const okKey = uniqueKey('dispute-ok');
    const ok = await endpoint(f, okKey);
    // The publisher's other server is busy and asks for an hour: one attempt, then a wait.
    const failing = await endpoint(f, `${uniqueKey('dispute-busy')}?status=503&retry_after=3600`);
    const clickId = await click(f, '?sub1=newsletter&sub2=top');
    await eventually(() => clickRow(clickId));

    const sale = { click_id: clickId, event: 'sale', order_id: 'DSP-1', amount: '80.00', key: f.postbackKey };
    const created = await getPostback('/postback', sale);
    expect(created.status).toBe(200);
    const conversionId = created.body.conversion_id as string;
    expect((await getPostback('/postback', { ...sale, status: 'approved' })).body.outcome).toBe('updated');
    expect((await getPostback('/postback', { ...sale, key: 'wrong-key' })).status).toBe(401);

    // Both events reach the working endpoint; the failing one has tried each at least once.
    await eventually(async () => ((await received(okKey)).length === 2 ? true : null));
    const settled = await eventually(async () => {
      const rows = await deliveriesOf(conversionId);
      const done =
        rows.length === 4 && rows.every((r) => (r.endpoint_id === ok.id ? r.status === 'delivered' : r.attempts));
      return done ? rows : null;
    });

    const res = await admin<Dispute>('GET', `/clicks/${clickId}`);
    expect(res.status).toBe(200);
    const view = res.body;
    expect(view).toMatchObject({
      click_id: clickId,
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      landed: true,
      truncated: { conversions: false, postbacks: false },
      limits: { conversions: 50, events_per_conversion: 20, deliveries_per_conversion: 20, postbacks: 50 },
    });
    expect(view.click).toMatchObject({ click_id: clickId, sub1: 'newsletter', sub2: 'top', is_bot: false });
    expect(view.click).not.toHaveProperty('visitor_hash');
    expect(view.click).not.toHaveProperty('ingest_batch');

    expect(view.conversions).toHaveLength(1);
    const cv = view.conversions[0] as DisputeConversion;
    expect(cv).toMatchObject({
      id: conversionId,
      status: 'approved',
      order_id: 'DSP-1',
      amount: '80.00',
      currency: 'EUR',
      revenue: '8.00',
      payout: '4.00',
      truncated: { events: false, deliveries: false },
    });
    expect(cv.events.map((e) => [e.type, e.from_status, e.to_status, e.actor])).toEqual([
      ['conversion.created', null, 'pending', 'postback'],
      ['conversion.approved', 'pending', 'approved', 'postback'],
    ]);

    // The delivery state shown is the deliveries table's, row for row.
    const stored = await deliveriesOf(conversionId);
    expect(stored.map((r) => r.id).sort()).toEqual(settled.map((r) => r.id).sort());
    expect(cv.deliveries).toHaveLength(4);
    const shown = new Map(cv.deliveries.map((d) => [d.id, d]));
    for (const row of stored) {
      expect(shown.get(row.id)).toMatchObject({
        id: row.id,
        webhook_id: row.id,
        conversion_id: conversionId,
        endpoint_id: row.endpoint_id,
        event_type: row.event_type,
        status: row.status,
        attempt_count: row.attempts,
        next_attempt_at: row.next_attempt_at,
        last_status_code: row.last_status_code,
        last_error: row.last_error,
        delivered_at: row.delivered_at,
      });
    }
    const toOk = cv.deliveries.filter((d) => d.endpoint_id === ok.id);
    expect(toOk.map((d) => [d.event_type, d.status, d.last_status_code])).toEqual([
      ['conversion.created', 'delivered', 200],
      ['conversion.approved', 'delivered', 200],
    ]);
    for (const d of cv.deliveries.filter((d) => d.endpoint_id === failing.id)) {
      expect(d).toMatchObject({ status: 'retrying', attempt_count: 1, last_status_code: 503, delivered_at: null });
      expect(d.next_attempt_at).toEqual(expect.any(String));
    }

    expect(view.postbacks.map((p) => [p.outcome, p.http_status, p.conversion_id])).toEqual([
      ['refused', 401, null],
      ['updated', 200, conversionId],
      ['created', 200, conversionId],
    ]);
    expect(view.postbacks[2]?.params).toMatchObject({ order_id: 'DSP-1', amount: '80.00', key: '[redacted]' });
  });

  it('shows the conversions of a click that has not landed yet', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f, 5 * 60_000);
    const pb = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    expect(pb.status).toBe(200);
    const res = await admin<Dispute>('GET', `/clicks/${clickId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ landed: false, click: null, offer_id: f.offerId, publisher_id: f.publisherId });
    expect(await clickRow(clickId)).toBeNull();
    expect(res.body.conversions.map((c) => [c.id, c.status, c.deliveries.length])).toEqual([
      [pb.body.conversion_id, 'pending', 0],
    ]);
    expect(res.body.conversions[0]?.events.map((e) => e.type)).toEqual(['conversion.created']);
    expect(res.body.postbacks.map((p) => p.outcome)).toEqual(['created']);
  });

  it("shows another click's postback that named this click's order, in both views", async () => {
    const f = await createFixture();
    const [first, second] = [await mintClick(f), await mintClick(f)];
    const created = await getPostback('/postback', { click_id: first, order_id: 'DSP-SHARED', key: f.postbackKey });
    const again = await getPostback('/postback', { click_id: second, order_id: 'DSP-SHARED', key: f.postbackKey });
    expect(again.body).toMatchObject({ duplicate: true, conversion_id: created.body.conversion_id });

    const firstView = (await admin<Dispute>('GET', `/clicks/${first}`)).body;
    expect(firstView.postbacks.map((p) => [p.click_id, p.outcome])).toEqual([
      [second, 'duplicate'],
      [first, 'created'],
    ]);
    const secondView = (await admin<Dispute>('GET', `/clicks/${second}`)).body;
    expect(secondView.conversions).toEqual([]);
    expect(secondView.postbacks.map((p) => [p.click_id, p.outcome, p.conversion_id])).toEqual([
      [second, 'duplicate', created.body.conversion_id],
    ]);
  });

  it('caps each section and says which ones it cut', async () => {
    const f = await createFixture({ goals: [{ key: 'lead', revenue: '1.00', payout: '0.50', allow_repeats: true }] });
    const clickId = await mintClick(f);
    const first = await getPostback('/postback', { click_id: clickId, key: f.postbackKey });
    const second = await getPostback('/postback', { click_id: clickId, key: f.postbackKey, status: 'approved' });
    const [a, b] = [first.body.conversion_id as string, second.body.conversion_id as string];
    expect(a).not.toBe(b);

    // 20 more status-history rows for the first conversion (more than any lifecycle makes).
    await seedConversionEvents(
      Array.from({ length: 20 }, (_, n) =>
        conversionEventRow(
          { id: a, status: 'approved', created_at: new Date(Date.now() + (n + 1) * 1000).toISOString() },
          {
            id: `ev_cap_${n + 1}`,
            type: 'conversion.approved',
            from_status: 'pending',
            actor: 'admin',
            reason: 'cap test',
          },
        ),
      ),
    );
    // 50 more postback-log entries naming the click (52 in all: 50 shown, newest first).
    const logRows = Array.from({ length: 50 }, (_, i) => ({
      received_at: new Date(Date.now() + i).toISOString(),
      method: 'GET',
      profile: 'canonical',
      ip_prefix: '198.51.100.0/24',
      advertiser_id: f.advertiserId,
      offer_id: f.offerId,
      click_id: clickId,
      order_id: null,
      conversion_id: null,
      params: JSON.stringify({ click_id: clickId, n: String(i) }),
      outcome: 'refused' as const,
      http_status: 401,
      error_code: 'unauthorized',
      error_message: 'Missing or wrong advertiser key',
    }));
    for (const row of logRows) await insertPostbackLog(env.DB, row);

    const view = (await admin<Dispute>('GET', `/clicks/${clickId}`)).body;
    expect(view.truncated).toEqual({ conversions: false, postbacks: true });
    expect(view.postbacks).toHaveLength(50);
    expect(view.postbacks[0]?.params).toEqual({ click_id: clickId, n: '49' });
    const logIds = view.postbacks.map((p) => Number(p.id));
    expect(logIds).toEqual([...logIds].sort((x, y) => y - x));
    // The two created entries are the oldest, so they are the two cut.
    expect(view.postbacks.some((p) => p.outcome === 'created')).toBe(false);

    const [cvA, cvB] = view.conversions as [DisputeConversion, DisputeConversion];
    expect([cvA.id, cvB.id]).toEqual([a, b]);
    expect(cvA.events).toHaveLength(20);
    expect(cvA.events[0]).toMatchObject({ type: 'conversion.created', actor: 'postback' });
    expect(cvA.truncated).toEqual({ events: true, deliveries: false });
    // The other conversion's history is whole: the cap is per conversion.
    expect(cvB.events.map((e) => e.id)).toEqual((await eventsOf(b)).map((e) => e.id));
    expect(cvB.truncated).toEqual({ events: false, deliveries: false });
  });

  it('answers 404 for a forged or altered click ID', async () => {
    const f = await createFixture();
    const genuine = await mintClick(f);
    // A character in the middle carries six bits of the ID (the last one may carry padding).
    const middle = Math.floor(genuine.length / 2);
    const altered = `${genuine.slice(0, middle)}${genuine[middle] === 'A' ? 'B' : 'A'}${genuine.slice(middle + 1)}`;
    for (const forged of [altered, 'Q'.repeat(48), 'x']) {
      expectError(await admin('GET', `/clicks/${forged}`), 404, 'click_not_found');
    }
  });

  it('requires the admin token', async () => {
    const f = await createFixture();
    const res = await worker(`/api/v1/clicks/${await mintClick(f)}`);
    expect(res.status).toBe(401);
  });
});
