// Every portal page through the Worker for each role: what it shows, actions going through the
// scoped API (endpoint created and tested, key made, conversion approved), CSV exports with
// formula injection neutralised, bad input named, other roles' pages absent, and the query
// plans of the portal's reads (ranges of indexes and rollups, never a scan of clicks or
// conversions).
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { inviteUser, type Principal, tokenOperator } from '../../src/auth';
import { partyFilter } from '../../src/auth/scope';
import {
  OFFERS_SQL,
  type PortalDeliveryRow,
  PROMOTABLE_SQL,
  scopedConversionsSql,
  scopedDeliveriesSql,
  scopedRollupSql,
} from '../../src/db/portal';
import { SUB_KEYS, subIdReportSql } from '../../src/db/sub-id-reports';
import { OVERVIEW_SQL } from '../../src/portal/overview';
import {
  conversionRow,
  goalIdOf,
  seedConversion,
  seedCreatedConversion,
  seedEndpoint,
  setDelivery,
  setDeliveryStatement,
} from '../fixtures';
import { adminOk, createFixture, type Fixture, RECEIVER, uniqueKey, worker } from '../helpers';
import { mintClick } from '../postback-helpers';

class Browser {
  cookies = new Map<string, string>();
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cf-connecting-ip', '198.51.100.77');
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await worker(path, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      this.cookies.set(name, value);
    }
    return response;
  }
  async page(path: string): Promise<{ status: number; text: string }> {
    const response = await this.fetch(path);
    return { status: response.status, text: await response.text() };
  }
  async post(path: string, fields: Record<string, string | string[]>): Promise<{ status: number; text: string }> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    body.set('_csrf', this.csrf);
    const response = await this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    return { status: response.status, text: await response.text() };
  }
  csrf = '';
}

const hidden = (page: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';

async function signedIn(email: string, input: Omit<Parameters<typeof inviteUser>[2], 'email'>): Promise<Browser> {
  const { token } = await inviteUser(env.DB, tokenOperator, { email, ...input }, Date.now());
  const browser = new Browser();
  const form = await browser.page(`/portal/invite?token=${token}`);
  const password = 'portal test password';
  browser.csrf = hidden(form.text, '_csrf');
  const accepted = await browser.post('/portal/invite', { token, password, confirm: password });
  expect(accepted.status).toBe(303);
  browser.csrf = hidden((await browser.page('/portal/account')).text, '_csrf');
  return browser;
}

let fixture: Fixture;
let other: Fixture;
let conversionId: string;
let deliveryId: string;
let publisher: Browser;
let advertiser: Browser;
let operator: Browser;

beforeAll(async () => {
  fixture = await createFixture({ name: 'Running shoes' });
  other = await createFixture({ name: '=HYPERLINK("http://evil")' });
  await seedEndpoint({ publisher_id: fixture.publisherId, url: 'https://hooks.example/a' });
  const seeded = await seedCreatedConversion(
    conversionRow(fixture, await goalIdOf(fixture.offerId), {
      click_id: await mintClick(fixture),
      order_id: '=1+2',
      amount: 8000,
    }),
  );
  conversionId = seeded.conversion.id;
  deliveryId = seeded.deliveries[0]?.id ?? '';
  await seedCreatedConversion(conversionRow(other, await goalIdOf(other.offerId), { order_id: 'OTHER-1' }));
  await env.DB.prepare(
    `INSERT INTO daily_conversion_stats (day, offer_id, publisher_id, currency, pending, payout_pending, revenue_pending)
     VALUES (?, ?, ?, 'EUR', 1, 200, 500)`,
  )
    .bind(new Date().toISOString().slice(0, 10), fixture.offerId, fixture.publisherId)
    .run();
  publisher = await signedIn('pub@blog.example', {
    role: 'publisher',
    publisher_id: fixture.publisherId,
    advertiser_id: null,
  });
  advertiser = await signedIn('adv@shop.example', {
    role: 'advertiser',
    advertiser_id: fixture.advertiserId,
    publisher_id: null,
  });
  operator = await signedIn('op@network.example', { role: 'operator', publisher_id: null, advertiser_id: null });
});

describe('publisher pages', () => {
  it('offers with its payout and a link builder', async () => {
    const page = await publisher.page(`/portal?offer=${fixture.offerId}&sub1=summer&url=`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Running shoes');
    expect(page.text).toContain('2.00 EUR');
    expect(page.text).toContain(`/c/${fixture.offerId}/${fixture.publisherId}?sub1=summer`);
  });

  it('reports and conversions show its own rows only, without revenue', async () => {
    const report = await publisher.page('/portal/reports?group=offer');
    expect(report.text).toContain(`offer ${fixture.offerId}`);
    expect(report.text).not.toContain(`offer ${other.offerId}`);
    expect(report.text).not.toContain('Revenue');
    const conversions = await publisher.page('/portal/conversions');
    expect(conversions.text).toContain(conversionId);
    expect(conversions.text).not.toContain('OTHER-1');
  });

  it('reports by sub ID: conversions and payout per value, on the page and as CSV', async () => {
    const goalId = await goalIdOf(fixture.offerId);
    await seedConversion(conversionRow(fixture, goalId, { sub1: 'newsletter', status: 'approved', payout: 250 }));
    await seedConversion(conversionRow(fixture, goalId, { sub1: '=cmd|x', status: 'pending', payout: 100 }));
    await seedConversion(conversionRow(other, await goalIdOf(other.offerId), { sub1: 'not-mine', payout: 900 }));
    const report = await publisher.page('/portal/reports?group=sub1');
    expect(report.status).toBe(200);
    expect(report.text).toContain('newsletter');
    expect(report.text).toContain('2.50 EUR');
    expect(report.text).not.toContain('not-mine');
    expect(report.text).not.toContain('Revenue');
    const csv = await (await publisher.fetch('/portal/reports.csv?group=sub1')).text();
    expect(csv.split('\r\n')[0]).toBe('sub1,pending,approved,rejected,reversed,currency,payout');
    expect(csv).toContain("'=cmd|x");
    expect(csv).not.toContain('revenue');
    // Sub IDs are the publisher's: other roles keep the rollup groups.
    expect((await advertiser.page('/portal/reports?group=sub1')).status).toBe(400);
  });

  it('adds an endpoint through the API (signing secret once) and tests it', async () => {
    const key = uniqueKey('portal');
    const added = await publisher.post('/portal/endpoints', {
      url: `${RECEIVER}/hook/${key}?click={click_id}`,
      method: 'GET',
      events: ['conversion.created', 'conversion.approved'],
    });
    expect(added.text).toContain('id="signing-secret"');
    const id = /Endpoint (\d+) added/.exec(added.text)?.[1];
    expect(id).toBeDefined();
    const tested = await publisher.post(`/portal/endpoints/${id}/test`, {});
    expect(tested.text).toContain('Test sent to endpoint');
    const audit = await env.DB.prepare(
      "SELECT actor_kind, actor_label FROM audit_log WHERE action = 'createEndpoint'",
    ).first();
    expect(audit).toEqual({ actor_kind: 'user', actor_label: expect.stringContaining('pub@blog.example') });
  });

  it('makes an API key of its own', async () => {
    const made = await publisher.post('/portal/keys', { name: 'my script' });
    const key = /id="new-key">([^<]+)</.exec(made.text)?.[1] ?? '';
    expect(key).toMatch(/^chk_/);
    const list = await worker('/api/v1/conversions', { headers: { authorization: `Bearer ${key}` } });
    const body = (await list.json()) as { data: { publisher_id: number }[] };
    // Its own conversions only (the sub ID test above added two more).
    expect([...new Set(body.data.map((c) => c.publisher_id))]).toEqual([fixture.publisherId]);
  });

  it('does not have advertiser or operator pages', async () => {
    for (const path of ['/portal/integration', '/portal/postbacks', '/portal/people', '/portal/audit']) {
      expect((await publisher.page(path)).status, path).toBe(404);
    }
  });
});

describe('advertiser pages', () => {
  it('integration page names the postback URLs and its click parameter', async () => {
    const page = await advertiser.page('/portal/integration');
    expect(page.text).toContain('/postback/hasoffers');
    expect(page.text).toContain('click_id');
  });

  it('approves its conversion through the API, and the audit log has it', async () => {
    const decided = await advertiser.post(`/portal/conversions/${conversionId}/status`, { status: 'approved' });
    expect(decided.text).toContain(`Conversion ${conversionId} is approved`);
    const row = await env.DB.prepare('SELECT status FROM conversions WHERE id = ?').bind(conversionId).first();
    expect(row).toEqual({ status: 'approved' });
    const audit = await env.DB.prepare(
      "SELECT before, after FROM audit_log WHERE action = 'changeConversionStatus'",
    ).first<{ before: string; after: string }>();
    expect(JSON.parse(audit?.before ?? '{}').status).toBe('pending');
    expect(JSON.parse(audit?.after ?? '{}').status).toBe('approved');
  });

  it('exports conversions as CSV with formulas neutralised', async () => {
    const response = await advertiser.fetch('/portal/conversions.csv');
    expect(response.headers.get('content-type')).toContain('text/csv');
    const csv = await response.text();
    expect(csv).toContain("'=1+2");
    expect(csv).not.toContain(',=1+2');
    expect(csv.split('\r\n')[0]).toContain('revenue');
    expect(csv.split('\r\n')[0]).not.toContain('payout,');
  });

  it('names the field of bad input', async () => {
    const page = await advertiser.page('/portal/reports?from=2026-13-01');
    expect(page.status).toBe(400);
    expect(page.text).toContain('from');
  });
});

describe('operator pages', () => {
  it('overview with breakdowns by offer and publisher, awaiting approval and failing deliveries', async () => {
    const page = await operator.page('/portal');
    expect(page.text).toContain('id="by-offer"');
    expect(page.text).toContain('id="by-publisher"');
    expect(page.text).toContain('id="pending-conversions"');
    expect(page.text).toContain('id="failing-deliveries"');
    const conversions = await operator.page('/portal/conversions');
    expect(conversions.text).toContain('click dispute view');
    expect(conversions.text).toContain('OTHER-1');
  });

  it("lists every publisher's retrying and dead deliveries, on the overview and the delivery log", async () => {
    await setDelivery(deliveryId, { status: 'dead', attempts: 8, updated_at: new Date().toISOString() });
    for (const path of ['/portal', '/portal/deliveries?failing=1']) {
      const page = await operator.page(path);
      expect(page.text, path).toContain(`data-delivery-id="${deliveryId}"`);
      const statuses = [...page.text.matchAll(/<span class="dl dl-(\w+)">/g)].map((m) => m[1]);
      expect(statuses.length, path).toBeGreaterThan(0);
      expect(
        statuses.filter((s) => s !== 'dead' && s !== 'retrying'),
        path,
      ).toEqual([]);
    }
  });

  it('invites a person and reads the audit log', async () => {
    const invited = await operator.post('/portal/people', {
      email: 'new@blog.example',
      role: 'publisher',
      party_id: String(fixture.publisherId),
    });
    expect(invited.text).toContain('/portal/invite?token=');
    const audit = await operator.page('/portal/audit');
    expect(audit.text).toContain('invite');
    const api = await adminOk<{ data: { action: string }[] }>('GET', '/audit');
    expect(api.data.map((e) => e.action)).toEqual(
      expect.arrayContaining(['invite', 'createEndpoint', 'changeConversionStatus']),
    );
  });

  it('exports reports and deliveries as CSV', async () => {
    expect((await operator.fetch('/portal/reports.csv?group=publisher')).status).toBe(200);
    expect((await operator.fetch('/portal/deliveries.csv')).status).toBe(200);
  });
});

describe('query plans of the portal reads', () => {
  const principals: Principal[] = [
    tokenOperator,
    { role: 'publisher', publisherId: 1, actor: tokenOperator.actor },
    { role: 'advertiser', advertiserId: 1, actor: tokenOperator.actor },
  ];

  async function plan(sql: string, binds: unknown[]): Promise<string> {
    const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...binds)
      .all<{ detail: string }>();
    return rows.results.map((r) => r.detail).join('\n');
  }

  it('never scans clicks, conversions or deliveries', async () => {
    const statements: [string, unknown[]][] = [
      [PROMOTABLE_SQL, [1, 10, 0, '2026-01-01T00:00:00Z']],
      [OFFERS_SQL, [1, 10]],
      [OVERVIEW_SQL.clickBreakdown, ['2026-01-01', '2026-01-31']],
      [OVERVIEW_SQL.conversionBreakdown, ['2026-01-01', '2026-01-31']],
      [OVERVIEW_SQL.failingDeliveries, [10]],
      ...SUB_KEYS.map((sub): [string, unknown[]] => [
        subIdReportSql(sub, false),
        [1, '2026-01-01', '2026-02-01', null, 10],
      ]),
    ];
    for (const principal of principals) {
      const scope = partyFilter(principal);
      for (const table of ['daily_click_stats', 'daily_conversion_stats'] as const) {
        for (const group of ['day', 'offer', 'publisher'] as const) {
          statements.push([
            scopedRollupSql(table, group),
            ['2026-01-01', '2026-01-31', scope.publisher_id ?? null, scope.advertiser_id ?? null],
          ]);
        }
      }
      const party = scope.publisher_id ?? scope.advertiser_id ?? null;
      statements.push([scopedConversionsSql(scope, false), [party, '2026-01-01', '2026-02-01', 10]]);
      statements.push([scopedConversionsSql(scope, true), [party, '2026-01-01', '2026-02-01', 10, 'pending']]);
      statements.push([scopedDeliveriesSql(scope, false), [scope.publisher_id ?? null, 10]]);
      statements.push([scopedDeliveriesSql(scope, true), [scope.publisher_id ?? null, 10]]);
    }
    for (const [sql, binds] of statements) {
      const detail = await plan(sql, binds);
      expect(detail, sql).not.toMatch(/SCAN (c|clicks|conversions|d|deliveries)\b(?! USING)/);
      expect(detail, sql).not.toMatch(/SCAN (daily_click_stats|daily_conversion_stats)\b(?! USING)/);
    }
  });
});

describe("a publisher's failing deliveries", () => {
  /** Endpoints and conversions per publisher: the first has most deliveries, the last none failing. */
  const SHAPE = [
    { endpoints: 6, conversions: 50 },
    { endpoints: 2, conversions: 25 },
    { endpoints: 3, conversions: 10 },
    { endpoints: 2, conversions: 20 },
  ];
  const LIMIT = 100;
  const publisherIds: number[] = [];

  /** The read as it was: every failing delivery of the publisher's endpoints, sorted. */
  const NAIVE_SQL = `SELECT d.*, e.publisher_id, e.url AS endpoint_url FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
    WHERE d.status IN ('retrying', 'dead') AND e.publisher_id = ?1 ORDER BY d.updated_at DESC LIMIT ?2`;

  // Many deliveries to a few endpoints per publisher, few of them failing, interleaved in time
  // across publishers; every delivery a distinct updated_at (long before the other tests' "now"),
  // so "newest" is one order.
  beforeAll(async () => {
    const base = await createFixture({ name: 'Failing deliveries' });
    const goalId = await goalIdOf(base.offerId);
    const ids: { id: string; last: boolean }[] = [];
    for (const [p, shape] of SHAPE.entries()) {
      const publisherId =
        p === 0 ? base.publisherId : (await adminOk<{ id: number }>('POST', '/publishers', { name: `Blog ${p}` })).id;
      publisherIds.push(publisherId);
      for (let i = 0; i < shape.endpoints; i++)
        await seedEndpoint({ publisher_id: publisherId, url: `https://hooks.example/p${p}/${i}` });
      for (let i = 0; i < shape.conversions; i++) {
        const { deliveries } = await seedCreatedConversion(conversionRow({ ...base, publisherId }, goalId));
        ids.push(...deliveries.map((d) => ({ id: d.id, last: p === SHAPE.length - 1 })));
      }
    }
    const failing = (i: number) => (i % 11 === 0 ? 'retrying' : i % 7 === 0 ? 'dead' : undefined);
    const start = Date.parse('2020-01-01T00:00:00Z');
    await env.DB.batch(
      ids.map(({ id, last }, i) => {
        const status = (!last && failing(i)) || (i % 3 === 0 ? 'pending' : 'delivered');
        // 7919 is prime and does not divide the count: a permutation of the minutes.
        const minute = (i * 7919) % ids.length;
        return setDeliveryStatement(id, { status, updated_at: new Date(start + minute * 60_000).toISOString() });
      }),
    );
  });

  async function plan(sql: string, publisherId: number): Promise<string> {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(publisherId, LIMIT)
      .all<{ detail: string }>();
    return results.map((r) => r.detail).join('\n');
  }

  /** One range of each failing status's index by publisher, endpoints by primary key, nothing scanned. */
  function expectBounded(detail: string) {
    for (const status of ['retrying', 'dead']) {
      expect(detail).toContain(`SEARCH deliveries USING INDEX deliveries_publisher_${status} (publisher_id=?)`);
    }
    expect(detail).toMatch(/SEARCH e USING INTEGER PRIMARY KEY/);
    expect(detail).not.toMatch(/\bSCAN (d|deliveries|e)\b/);
    expect(detail).not.toMatch(/deliveries_(status|endpoint|publisher)_time|AUTOMATIC/);
  }

  it('are the newest retrying and dead deliveries of its own endpoints, as the naive read finds them', async () => {
    const sql = scopedDeliveriesSql({ publisher_id: 0 }, true);
    let found = 0;
    for (const publisherId of publisherIds) {
      for (const limit of [1, 3, 10, 50, 1000]) {
        const { results } = await env.DB.prepare(sql).bind(publisherId, limit).all<PortalDeliveryRow>();
        const naive = await env.DB.prepare(NAIVE_SQL).bind(publisherId, limit).all<PortalDeliveryRow>();
        expect(results, `publisher ${publisherId}, limit ${limit}`).toEqual(naive.results);
        expect(results.every((d) => d.publisher_id === publisherId && ['retrying', 'dead'].includes(d.status))).toBe(
          true,
        );
        found += results.length;
      }
    }
    // The seed has failing deliveries of both kinds, and one publisher with none.
    expect(found).toBeGreaterThan(0);
    const all = await env.DB.prepare(sql).bind(publisherIds[0], 1000).all<PortalDeliveryRow>();
    expect(new Set(all.results.map((d) => d.status))).toEqual(new Set(['retrying', 'dead']));
    const none = await env.DB.prepare(sql).bind(publisherIds.at(-1), 1000).all();
    expect(none.results).toEqual([]);
  });

  it('are read as bounded index ranges before and after ANALYZE', async () => {
    const sql = scopedDeliveriesSql({ publisher_id: 0 }, true);
    const [biggest = 0] = publisherIds;
    for (const publisherId of publisherIds) expectBounded(await plan(sql, publisherId));
    // The naive read sorts every failing delivery of every publisher...
    expect(await plan(NAIVE_SQL, biggest)).toMatch(
      /SEARCH d USING INDEX deliveries_status_\w+ \(status=\?\)[\s\S]*TEMP B-TREE/,
    );
    await env.DB.exec('ANALYZE');
    // ...and with these statistics every delivery of the publisher instead (if SQLite stops
    // doing either, the seed no longer tests anything).
    expect(await plan(NAIVE_SQL, biggest)).toMatch(
      /SEARCH e USING INDEX endpoints_publisher[\s\S]*deliveries_endpoint_time/,
    );
    for (const publisherId of publisherIds) expectBounded(await plan(sql, publisherId));
    const { results } = await env.DB.prepare(sql).bind(biggest, LIMIT).all();
    expect(results).toEqual((await env.DB.prepare(NAIVE_SQL).bind(biggest, LIMIT).all()).results);
  });

  it('are what "Failing only" lists for the publisher signed in, on the page and as CSV', async () => {
    const goalId = await goalIdOf(fixture.offerId);
    const seed = async () => (await seedCreatedConversion(conversionRow(fixture, goalId))).deliveries[0]?.id ?? '';
    const retryingId = await seed();
    const pendingId = await seed();
    await setDelivery(retryingId, { status: 'retrying', attempts: 2, updated_at: new Date().toISOString() });
    const othersFailing = (
      await env.DB.prepare(NAIVE_SQL).bind(publisherIds[0], 1000).all<PortalDeliveryRow>()
    ).results.map((d) => d.id);
    expect(othersFailing.length).toBeGreaterThan(0);
    const page = await publisher.page('/portal/deliveries?failing=1');
    const listed = [...page.text.matchAll(/data-delivery-id="([^"]+)"/g)].map((m) => m[1]);
    expect(listed).toContain(retryingId);
    expect(listed).not.toContain(pendingId);
    expect(listed.filter((id) => othersFailing.includes(id ?? ''))).toEqual([]);
    const statuses = [...page.text.matchAll(/<span class="dl dl-(\w+)">/g)].map((m) => m[1]);
    expect(statuses.filter((s) => s !== 'dead' && s !== 'retrying')).toEqual([]);
    const csv = await (await publisher.fetch('/portal/deliveries.csv?failing=1')).text();
    const exported = csv.split('\r\n').map((line) => line.split(',')[1]);
    expect(exported).toContain(retryingId);
    expect(exported).not.toContain(pendingId);
    expect(exported.filter((id) => othersFailing.includes(id ?? ''))).toEqual([]);
  });
});
