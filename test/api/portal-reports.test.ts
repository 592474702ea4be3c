// Partner reports through the API: an advertiser key reads the rows of all its offers without
// naming one, and a publisher reads its conversions and payout by sub ID, without revenue, from
// a range of its own conversions (no scan, checked in the query plan).
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { rollupSql } from '../../src/db/rollups';
import { SUB_KEYS, subIdReportSql } from '../../src/db/sub-id-reports';
import { conversionRow, goalIdOf, seedConversion } from '../fixtures';
import { adminOk, createFixture, type Fixture, worker } from '../helpers';

const today = new Date().toISOString().slice(0, 10);
const range = `from=${today}&to=${today}`;

let mine: Fixture;
let theirs: Fixture;
let keys: { publisher: string; advertiser: string; operator: string };

const call = (key: string, query: string) =>
  worker(`/api/v1/reports?${query}`, { headers: { authorization: `Bearer ${key}` } });

async function keyFor(body: Record<string, unknown>): Promise<string> {
  return (await adminOk<{ key: string }>('POST', '/api-keys', body)).key;
}

async function conversion(
  f: Fixture,
  sub1: string | null,
  status: 'pending' | 'approved' | 'rejected',
  payout: number,
) {
  const goalId = await goalIdOf(f.offerId);
  await seedConversion(conversionRow(f, goalId, { sub1, status, payout, revenue: payout * 3 }));
}

beforeAll(async () => {
  mine = await createFixture({ name: 'Mine' });
  theirs = await createFixture({ name: 'Theirs' });
  keys = {
    publisher: await keyFor({ role: 'publisher', publisher_id: mine.publisherId }),
    advertiser: await keyFor({ role: 'advertiser', advertiser_id: mine.advertiserId }),
    operator: await keyFor({ role: 'operator' }),
  };
  for (const f of [mine, theirs]) {
    await env.DB.prepare(
      'INSERT INTO daily_click_stats (day, offer_id, publisher_id, clicks, unique_clicks, bot_clicks) VALUES (?, ?, ?, 10, 8, 1)',
    )
      .bind(today, f.offerId, f.publisherId)
      .run();
  }
  await conversion(mine, 'spring', 'approved', 200);
  await conversion(mine, 'spring', 'pending', 200);
  await conversion(mine, 'autumn', 'rejected', 200);
  await conversion(mine, null, 'approved', 150);
  await conversion(theirs, 'spring', 'approved', 999);
});

describe('an advertiser key reads reports without naming an offer', () => {
  it('answers the rows of its own offers only', async () => {
    const answer = await call(keys.advertiser, `${range}&group_by=offer`);
    const body = (await answer.json()) as { data: { offer_id: number; clicks: number }[] };
    expect(answer.status).toBe(200);
    expect(body.data.map((row) => row.offer_id)).toEqual([mine.offerId]);
    expect(body.data[0]?.clicks).toBe(10);
  });

  it('gets 404 for another advertiser or its offer', async () => {
    expect((await call(keys.advertiser, `${range}&advertiser_id=${theirs.advertiserId}`)).status).toBe(404);
    expect((await call(keys.advertiser, `${range}&offer_id=${theirs.offerId}`)).status).toBe(404);
  });
});

describe('reports by sub ID', () => {
  type Row = { value: string | null; currency: string; conversions: Record<string, number>; payout: string };

  it('a publisher reads conversions and payout per sub1 value of its own conversions, without revenue', async () => {
    const answer = await call(keys.publisher, `${range}&group_by=sub1`);
    const text = await answer.text();
    expect(answer.status, text).toBe(200);
    expect(text).not.toMatch(/revenue/);
    const body = JSON.parse(text) as { sub_id: string; publisher_id: number; data: Row[] };
    expect(body).toMatchObject({ sub_id: 'sub1', publisher_id: mine.publisherId });
    const byValue = Object.fromEntries(body.data.map((row) => [String(row.value), row]));
    expect(Object.keys(byValue).sort()).toEqual(['autumn', 'null', 'spring']);
    expect(byValue.spring).toMatchObject({
      currency: 'EUR',
      conversions: { pending: 1, approved: 1, rejected: 0, reversed: 0 },
      payout: '4.00',
    });
    expect(byValue.autumn).toMatchObject({ conversions: { rejected: 1 }, payout: '0.00' });
    expect(byValue.null).toMatchObject({ conversions: { approved: 1 }, payout: '1.50' });
  });

  it('groups by sub ID and offer', async () => {
    const answer = await call(keys.publisher, `${range}&group_by=sub1,offer`);
    const body = (await answer.json()) as { data: (Row & { offer_id: number })[] };
    expect(body.data.every((row) => row.offer_id === mine.offerId)).toBe(true);
  });

  it('names the field when the request cannot be a sub ID report', async () => {
    const operator = await call(keys.operator, `${range}&group_by=sub2`);
    expect(operator.status).toBe(400);
    expect(JSON.stringify(await operator.json())).toContain('publisher_id');
    const advertiser = await call(keys.advertiser, `${range}&group_by=sub1`);
    expect(advertiser.status).toBe(400);
    const withDay = await call(keys.publisher, `${range}&group_by=sub1,day`);
    expect(withDay.status).toBe(400);
    expect(JSON.stringify(await withDay.json())).toContain('group_by');
    const another = await call(keys.publisher, `${range}&group_by=sub1&publisher_id=${theirs.publisherId}`);
    expect(another.status).toBe(404);
  });

  it('reads a range of the publisher’s conversions and rollups of an advertiser’s offers, never a scan', async () => {
    const plans: string[] = [];
    const plan = async (sql: string, binds: unknown[]) =>
      (
        await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...binds)
          .all<{ detail: string }>()
      ).results
        .map((r) => r.detail)
        .join('\n');
    for (const sub of SUB_KEYS) {
      for (const byOffer of [false, true]) {
        const detail = await plan(subIdReportSql(sub, byOffer), [1, '2026-01-01', '2026-02-01', null, 10]);
        expect(detail).toMatch(/SEARCH conversions USING INDEX conversions_publisher_time/);
        plans.push(detail);
      }
    }
    for (const table of ['daily_click_stats', 'daily_conversion_stats'] as const) {
      plans.push(await plan(rollupSql(table, ['offer_id'], ['advertiser_id']), ['2026-01-01', '2026-01-31', 1]));
    }
    for (const detail of plans) expect(detail).not.toMatch(/\bSCAN (conversions|daily_\w+)\b(?! USING)/);
  });
});
