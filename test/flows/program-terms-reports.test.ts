// Program terms in what the operator reads: conversions name the cap that refused them, reports
// split rejected conversions by reason and by cap, the dashboard lists capped conversions, and
// click caps count the operator's own (zoned) periods exactly.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CLICKS_IN_PERIOD_SQL } from '../../src/db/caps';
import { cappedConversionsSql, readRejections, rejectionsSql } from '../../src/db/rejected-conversions';
import { rollupPlan } from '../../src/db/rollups';
import { checkClickCaps } from '../../src/terms/click-caps';
import { readReportRejections } from '../../src/terms/report-rejections';
import { clickRecord, insertClicks } from '../fixtures';
import { adminOk, createFixture, type Fixture, worker } from '../helpers';
import { createPublisher, getPostback, mintLandedClick } from '../postback-helpers';

interface ConversionAnswer {
  id: string;
  status: string;
  reason: string | null;
  cap_id: number | null;
}

/** An offer with a cap of one conversion a day, one counted and one refused on the same click. */
async function cappedOffer(): Promise<{
  f: Fixture;
  capId: number;
  clickId: string;
  counted: string;
  refused: string;
}> {
  const f = await createFixture();
  const cap = await adminOk<{ id: number }>('POST', `/offers/${f.offerId}/caps`, {
    metric: 'conversions',
    period: 'day',
    limit: 1,
  });
  const clickId = await mintLandedClick(f);
  const first = await getPostback('/postback', { click_id: clickId, order_id: 'R-1', key: f.postbackKey });
  const second = await getPostback('/postback', { click_id: clickId, order_id: 'R-2', key: f.postbackKey });
  expect([first.body.conversion_status, second.body.conversion_status]).toEqual(['pending', 'rejected']);
  return {
    f,
    capId: cap.id,
    clickId,
    counted: String(first.body.conversion_id),
    refused: String(second.body.conversion_id),
  };
}

const planOf = async (sql: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...binds)
      .all<{ detail: string }>()
  ).results
    .map((r) => r.detail)
    .join('\n');

describe('conversion answers name the cap', () => {
  it('shows cap_id beside reason in the list, the detail and the click dispute view; null when no cap refused it', async () => {
    const { f, capId, clickId, counted, refused } = await cappedOffer();

    const list = await adminOk<{ data: ConversionAnswer[] }>('GET', `/conversions?offer_id=${f.offerId}`);
    const byId = new Map(list.data.map((c) => [c.id, c]));
    expect(byId.get(refused)).toMatchObject({ status: 'rejected', reason: 'cap_reached', cap_id: capId });
    expect(byId.get(counted)).toMatchObject({ status: 'pending', reason: null, cap_id: null });

    expect(await adminOk<ConversionAnswer>('GET', `/conversions/${refused}`)).toMatchObject({
      reason: 'cap_reached',
      cap_id: capId,
    });

    const dispute = await adminOk<{ conversions: ConversionAnswer[] }>('GET', `/clicks/${clickId}`);
    expect(dispute.conversions.map((c) => [c.id, c.reason, c.cap_id])).toEqual([
      [counted, null, null],
      [refused, 'cap_reached', capId],
    ]);
  });
});

describe('reports split rejected conversions', () => {
  it('counts rejections by reason, and per cap when grouped by offer, adding up to the rejected count', async () => {
    const { f, capId, counted } = await cappedOffer();
    // A rejection by the operator carries no rule's reason.
    await adminOk('POST', `/conversions/${counted}/status`, { status: 'rejected' });

    type Row = {
      offer_id?: number;
      conversions: { rejected: number };
      rejected_by_reason?: Record<string, number>;
      rejected_by_cap?: { cap_id: number; conversions: number }[];
    };
    const byOffer = await adminOk<{ data: Row[] }>('GET', `/reports?group_by=offer&offer_id=${f.offerId}`);
    expect(byOffer.data).toHaveLength(1);
    expect(byOffer.data[0]).toMatchObject({
      offer_id: f.offerId,
      conversions: { rejected: 2 },
      rejected_by_reason: { cap_reached: 1, none: 1 },
      rejected_by_cap: [{ cap_id: capId, conversions: 1 }],
    });

    // Without an offer group the split by reason stays; the split by cap is the offer rows'.
    const byPublisher = await adminOk<{ data: Row[] }>('GET', `/reports?group_by=publisher&offer_id=${f.offerId}`);
    expect(byPublisher.data[0]?.rejected_by_reason).toEqual({ cap_reached: 1, none: 1 });
    expect(byPublisher.data[0]?.rejected_by_cap).toBeUndefined();

    // A row without rejections carries no split.
    const clean = await createFixture();
    await getPostback('/postback', { click_id: await mintLandedClick(clean), key: clean.postbackKey });
    const quiet = await adminOk<{ data: Row[] }>('GET', `/reports?group_by=offer&offer_id=${clean.offerId}`);
    expect(quiet.data[0]).not.toHaveProperty('rejected_by_reason');
  });

  it('gives a rejection the local day of the report zone (+05:30)', async () => {
    const { f, refused } = await cappedOffer();
    // 20:00 UTC on 1 January is 01:30 on 2 January in Kolkata.
    await env.DB.prepare("UPDATE conversions SET created_at = '2026-01-01T20:00:00.000Z' WHERE id = ?")
      .bind(refused)
      .run();
    const range = { from: '2026-01-01', to: '2026-01-02', zone: 'Asia/Kolkata', offer_id: f.offerId };
    const rows = await readReportRejections(env.DB, range, ['day'], rollupPlan(range));
    expect(rows).toEqual([
      { day: '2026-01-02', currency: 'EUR', reason: 'cap_reached', cap_id: expect.any(Number), conversions: 1 },
    ]);
    const utc = await readRejections(
      env.DB,
      { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z', offer_id: f.offerId },
      ['day'],
    );
    expect(utc.map((r) => r.day)).toEqual(['2026-01-01']);
  });

  it('reads rejections from an index range of conversions, never a scan', async () => {
    const spans = [
      { from: 0, to: 1_774_000_000, offset: 3600 },
      { from: 1_774_000_000, to: 1_800_000_000, offset: 7200 },
    ];
    const variants = [
      rejectionsSql([], []),
      rejectionsSql(['day', 'offer_id', 'publisher_id'], [], spans),
      rejectionsSql(['offer_id'], ['offer_id']),
      rejectionsSql(['day'], ['publisher_id'], spans),
      rejectionsSql(['publisher_id'], ['offer_id', 'publisher_id']),
    ];
    for (const sql of variants) {
      const binds = ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', 1, 2].slice(
        0,
        sql.includes('?4') ? 4 : sql.includes('?3') ? 3 : 2,
      );
      const plan = await planOf(sql, ...binds);
      expect(plan, sql).toMatch(
        /SEARCH conversions USING INDEX conversions_\w+ \(\w+=\? AND created_at>\? AND created_at<\?\)/,
      );
      expect(plan, sql).not.toMatch(/^SCAN /m);
    }
    const capped = await planOf(cappedConversionsSql(20), '2026-01-01T00:00:00.000Z');
    expect(capped).toMatch(/SEARCH conversions USING INDEX conversions_status_time \(status=\? AND created_at>\?\)/);
    expect(capped).not.toMatch(/^SCAN (conversions|caps|offers|goals)$/m);
  });
});

describe('the dashboard shows capped conversions', () => {
  it('lists each cap that refused conversions with its terms, its offer and the count', async () => {
    const { f, capId } = await cappedOffer();
    const response = await worker('/dashboard', { headers: { authorization: 'Bearer test-admin-token' } });
    expect(response.status).toBe(200);
    const page = await response.text();
    const row = page.match(new RegExp(`<tr data-cap-id="${capId}">[\\s\\S]*?</tr>`))?.[0] ?? '';
    expect(row).toContain('conversions ≤ 1 per day, all publishers');
    expect(row).toContain(`offer ${f.offerId}`);
    expect(row).toMatch(/<td class="num capped">1<\/td>/);
  });
});

describe('click caps in the operator time zone', () => {
  it('counts a day cap over the local day in +05:30 exactly, not the UTC days it overlaps', async () => {
    const f = await createFixture();
    const other = { ...f, publisherId: await createPublisher() };
    const cap = await adminOk<{ id: number }>('POST', `/offers/${f.offerId}/caps`, {
      metric: 'clicks',
      period: 'day',
      limit: 4,
    });
    const kolkata = { ...env, TIMEZONE: 'Asia/Kolkata' };
    // The Kolkata day of 11 March 2026 runs from 18:30 UTC on the 10th to 18:30 UTC on the 11th.
    const now = Date.parse('2026-03-10T20:00:00Z');
    await insertClicks([
      clickRecord(f, '2026-03-10T18:00:00.000Z'), // the day before, locally
      clickRecord(f, '2026-03-10T18:29:00.000Z'), // the day before, locally
      clickRecord(f, '2026-03-10T18:30:00.000Z'),
      clickRecord(f, '2026-03-10T19:45:00.000Z'),
      clickRecord(other, '2026-03-10T19:50:00.000Z'), // an offer-wide cap counts every publisher
    ]);
    // By UTC day this would be 5 clicks and the cap of 4 reached; the local day holds 3.
    expect(await checkClickCaps(kolkata, [f.offerId], now)).toEqual([]);
    const counted = await env.DB.prepare('SELECT period_key, value FROM cap_counters WHERE cap_id = ?')
      .bind(cap.id)
      .all<{ period_key: string; value: number }>();
    expect(counted.results).toEqual([{ period_key: '2026-03-11', value: 3 }]);

    // Clicks late on the 11th locally (after UTC midnight) belong to the same local day.
    await insertClicks([clickRecord(f, '2026-03-11T18:29:00.000Z')]);
    expect(await checkClickCaps(kolkata, [f.offerId], Date.parse('2026-03-11T18:29:30Z'))).toHaveLength(1);
  });

  it('reads each part of a click count as a range of its rollup table', async () => {
    const plan = await planOf(CLICKS_IN_PERIOD_SQL, 1, null, '2026-03-11', '2026-03-12', 1, 2, 3, 4);
    expect(plan).toMatch(/SEARCH daily_click_stats USING (PRIMARY KEY|INDEX \w+) \(day>\? AND day<\?\)/);
    expect(plan).toMatch(/SEARCH quarter_click_stats USING PRIMARY KEY \(quarter>\? AND quarter<\?\)/);
    expect(plan).not.toMatch(/^SCAN (?!CONSTANT ROW)/m);
  });
});
