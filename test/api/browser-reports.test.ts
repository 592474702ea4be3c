// Browser conversions and impressions where parties read them: the reports API (group_by=source,
// impressions), the dashboard, and the portal's reports and conversions pages.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, adminOk, click, createFixture, eventually, type Fixture, scalar, worker } from '../helpers';
import { elementById, rowsBy, signedIn, textOf } from '../portal-helpers';
import { getPostback } from '../postback-helpers';

const UA = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36' };

let f: Fixture;
let browserConversion = '';
let today = '';

beforeAll(async () => {
  f = await createFixture({ browser_tracking: true });
  today = new Date().toISOString().slice(0, 10);
  const tagClick = await click(f, '?sub1=tag');
  await worker('/b/conversion', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...UA },
    body: new URLSearchParams({ click_id: tagClick, goal: 'sale', order_id: 'S-B', amount: '100.00' }).toString(),
  });
  const serverClick = await click(f);
  await getPostback('/postback', {
    key: f.postbackKey,
    click_id: serverClick,
    event: 'sale',
    order_id: 'S-S',
    amount: '50.00',
  });
  await getPostback('/postback', { key: f.postbackKey, click_id: serverClick, event: 'lead', order_id: 'S-L' });
  for (let i = 0; i < 3; i++) await worker(`/i/${f.offerId}/${f.publisherId}`, { headers: UA });
  await eventually(async () =>
    (await scalar('SELECT SUM(impressions) AS n FROM daily_click_stats WHERE offer_id = ?', f.offerId)) === 3
      ? true
      : null,
  );
  browserConversion =
    (await env.DB.prepare("SELECT id FROM conversions WHERE order_id = 'S-B'").first<{ id: string }>())?.id ?? '';
});

describe('GET /api/v1/reports', () => {
  it('groups conversions by source, with money per currency', async () => {
    const report = await adminOk<{ group_by: string[]; data: Record<string, unknown>[] }>(
      'GET',
      `/reports?group_by=source&offer_id=${f.offerId}&from=${today}&to=${today}`,
    );
    expect(report.group_by).toEqual(['source']);
    expect(report.data).toEqual([
      {
        source: 'browser',
        currency: 'EUR',
        conversions: { pending: 1, approved: 0, rejected: 0, reversed: 0 },
        revenue: '10.00',
        revenue_approved: '0.00',
        payout: '5.00',
        payout_approved: '0.00',
      },
      {
        source: 'server',
        currency: 'EUR',
        conversions: { pending: 2, approved: 0, rejected: 0, reversed: 0 },
        revenue: '10.00',
        revenue_approved: '0.00',
        payout: '4.50',
        payout_approved: '0.00',
      },
    ]);
    const byOffer = await adminOk<{ data: Record<string, unknown>[] }>(
      'GET',
      `/reports?group_by=source,publisher&from=${today}&to=${today}&offer_id=${f.offerId}`,
    );
    expect(byOffer.data.map((r) => [r.source, r.publisher_id])).toEqual([
      ['browser', f.publisherId],
      ['server', f.publisherId],
    ]);
    const bad = await admin('GET', '/reports?group_by=source,day');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('group_by');
  });

  it('shows a publisher its payout by source, never revenue', async () => {
    const key = await adminOk<{ key: string }>('POST', '/api-keys', { role: 'publisher', publisher_id: f.publisherId });
    const response = await worker(`/api/v1/reports?group_by=source&from=${today}&to=${today}`, {
      headers: { authorization: `Bearer ${key.key}` },
    });
    const body = (await response.json()) as { data: Record<string, unknown>[] };
    expect(response.status).toBe(200);
    expect(body.data.map((r) => [r.source, r.payout])).toEqual([
      ['browser', '5.00'],
      ['server', '4.50'],
    ]);
    expect(body.data.every((r) => !('revenue' in r) && !('revenue_approved' in r))).toBe(true);
  });

  it('counts impressions beside clicks', async () => {
    const report = await adminOk<{ data: Record<string, unknown>[] }>(
      'GET',
      `/reports?group_by=offer&offer_id=${f.offerId}&from=${today}&to=${today}`,
    );
    expect(report.data[0]).toMatchObject({ offer_id: f.offerId, impressions: 3 });
  });
});

describe('the dashboard and the portal', () => {
  it('the dashboard shows today’s impressions and each recent conversion’s source', async () => {
    const response = await worker('/dashboard', {
      headers: { authorization: `Basic ${btoa('operator:test-admin-token')}` },
    });
    const page = await response.text();
    expect(textOf(elementById(page, 'today-impressions'))).toBe('3');
    const recent = rowsBy(elementById(page, 'recent-conversions'), 'conversion-id');
    expect(textOf(recent.get(browserConversion) ?? '')).toContain('sale browser');
  });

  it('the portal shows impressions in reports and the source on the conversions page and CSV', async () => {
    const advertiser = await signedIn(`adv-${Date.now()}@shop.example`, {
      role: 'advertiser',
      advertiser_id: f.advertiserId,
      publisher_id: null,
    });
    const report = await advertiser.page(`/portal/reports?group=offer&from=${today}&to=${today}`);
    expect(report.status).toBe(200);
    expect(report.text).toContain('<th scope="col" class="num">Impressions</th>');
    expect(report.text).toContain('<td class="num impressions">3</td>');
    const conversions = await advertiser.page(`/portal/conversions?from=${today}&to=${today}`);
    const rows = rowsBy(elementById(conversions.text, 'conversions'), 'conversion-id');
    expect(textOf(rows.get(browserConversion) ?? '')).toContain('sale browser');
    const csv = await (await advertiser.fetch(`/portal/conversions.csv?from=${today}&to=${today}`)).text();
    const [header, ...lines] = csv.trim().split(/\r?\n/);
    expect(header?.split(',')).toEqual(expect.arrayContaining(['source', 'attribution']));
    const sourceAt = header?.split(',').indexOf('source') ?? -1;
    expect(lines.map((l) => l.split(',')[sourceAt]).sort()).toEqual(['browser', 'server', 'server']);
  });
});
