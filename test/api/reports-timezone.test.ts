// Reports in any IANA time zone: local days are served from the quarter-hour rollups (migration
// 0012) and must equal what the raw click and conversion rows say, at half-hour and 45-minute
// offsets, west of UTC and across a DST change; the UTC report keeps reading the daily rollups.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import type { ClicksMessage } from '../../src/click/ingest';
import { applyAdjustment, applyStatusChange, insertConversion } from '../../src/conversions/record';
import { rollupPlan } from '../../src/db/rollups';
import worker from '../../src/index';
import { clickRecord, conversionRow, goalIdOf, insertClicks } from '../fixtures';
import { admin, adminOk, createFixture, type ErrorBody, type Fixture } from '../helpers';

interface Row {
  day?: string;
  clicks: number;
  unique_clicks: number;
  bot_clicks: number;
  currency: string | null;
  conversions: { pending: number; approved: number; rejected: number; reversed: number };
  revenue: string;
  payout: string;
}

async function report(f: Fixture, from: string, to: string, timezone?: string) {
  const zone = timezone ? `&timezone=${encodeURIComponent(timezone)}` : '';
  return adminOk<{ timezone: string; data: Row[] }>(
    'GET',
    `/reports?from=${from}&to=${to}&group_by=day&offer_id=${f.offerId}${zone}`,
  );
}

/** Clicks per local day straight from the raw rows, for a zone at a fixed offset (minutes). */
async function rawClicksByDay(f: Fixture, offsetMinutes: number) {
  const { results } = await env.DB.prepare(
    `SELECT date(clicked_at, ?2) AS day, SUM(is_bot = 0) AS clicks, SUM(is_unique) AS unique_clicks,
       SUM(is_bot) AS bot_clicks
     FROM clicks WHERE offer_id = ?1 GROUP BY 1 ORDER BY 1`,
  )
    .bind(f.offerId, `${offsetMinutes} minutes`)
    .all<{ day: string; clicks: number; unique_clicks: number; bot_clicks: number }>();
  return results;
}

const clickDays = (rows: Row[]) =>
  rows.map(({ day, clicks, unique_clicks, bot_clicks }) => ({ day, clicks, unique_clicks, bot_clicks }));

/** Clicks by distinct visitors (all unique) at the given instants, one bot among them. */
async function clicksAt(f: Fixture, instants: string[]) {
  await insertClicks(
    instants.map((at, i) =>
      clickRecord(f, at, { visitor_hash: `tz-visitor-${i}`, is_bot: i === 1 ? 1 : 0, user_agent: 'x' }),
    ),
  );
}

describe('GET /api/v1/reports?timezone=', () => {
  it('counts clicks on Asia/Kolkata days (+05:30) as the raw rows do', async () => {
    const f = await createFixture();
    await clicksAt(f, [
      '2026-03-10T18:29:59.999Z', // 23:59 on the 10th in Kolkata
      '2026-03-10T18:30:00.000Z', // midnight of the 11th
      '2026-03-10T23:00:00.000Z', // 04:30 on the 11th, the 10th in UTC
      '2026-03-11T18:29:00.000Z',
      '2026-03-11T18:45:00.000Z', // the 12th in Kolkata, outside the range
    ]);
    const zoned = await report(f, '2026-03-10', '2026-03-11', 'Asia/Kolkata');
    expect(zoned.timezone).toBe('Asia/Kolkata');
    const raw = (await rawClicksByDay(f, 330)).filter((r) => r.day <= '2026-03-11');
    expect(raw.map((r) => r.clicks + r.bot_clicks)).toEqual([1, 3]);
    expect(clickDays(zoned.data)).toEqual(raw);

    // The UTC report of the same clicks still reads the daily rollups and splits them differently.
    const utc = await report(f, '2026-03-10', '2026-03-11');
    expect(utc.timezone).toBe('UTC');
    expect(clickDays(utc.data)).toEqual(await rawClicksByDay(f, 0).then((r) => r.slice(0, 2)));
  });

  it('counts clicks on America/St_Johns days (-03:30)', async () => {
    const f = await createFixture();
    await clicksAt(f, [
      '2026-01-20T03:29:00.000Z', // 23:59 on the 19th in St. John's
      '2026-01-20T03:30:00.000Z',
      '2026-01-20T12:00:00.000Z',
      '2026-01-21T03:29:59.000Z',
    ]);
    const zoned = await report(f, '2026-01-19', '2026-01-20', 'America/St_Johns');
    const raw = await rawClicksByDay(f, -210);
    expect(raw.map((r) => r.day)).toEqual(['2026-01-19', '2026-01-20']);
    expect(clickDays(zoned.data)).toEqual(raw);
  });

  it('counts clicks on Australia/Eucla days (+08:45)', async () => {
    const f = await createFixture();
    await clicksAt(f, ['2026-05-04T15:14:59.000Z', '2026-05-04T15:15:00.000Z', '2026-05-05T15:14:00.000Z']);
    const zoned = await report(f, '2026-05-04', '2026-05-05', 'Australia/Eucla');
    const raw = await rawClicksByDay(f, 525);
    expect(raw.map((r) => [r.day, r.clicks + r.bot_clicks])).toEqual([
      ['2026-05-04', 1],
      ['2026-05-05', 2],
    ]);
    expect(clickDays(zoned.data)).toEqual(raw);
  });

  it('gives a 23-hour Europe/Berlin day its clicks on the spring DST change', async () => {
    const f = await createFixture();
    // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC; the local day is [28th 23:00Z, 29th 22:00Z).
    await clicksAt(f, [
      '2026-03-28T22:59:00.000Z', // 23:59 CET on the 28th
      '2026-03-28T23:00:00.000Z', // 00:00 CET on the 29th
      '2026-03-29T00:59:00.000Z', // 01:59 CET, a minute before the change
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-29T21:59:00.000Z', // 23:59 CEST on the 29th
      '2026-03-29T22:00:00.000Z', // 00:00 CEST on the 30th
    ]);
    const zoned = await report(f, '2026-03-28', '2026-03-30', 'Europe/Berlin');
    expect(zoned.data.map((r) => [r.day, r.clicks + r.bot_clicks])).toEqual([
      ['2026-03-28', 1],
      ['2026-03-29', 4],
      ['2026-03-30', 1],
    ]);
    const plan = rollupPlan({ from: '2026-03-28', to: '2026-03-30', zone: 'Europe/Berlin' });
    expect(plan.kind === 'quarters' && plan.spans.map((s) => s.offset)).toEqual([3600, 7200]);
    expect(plan.kind === 'quarters' && plan.spans[0]?.to).toBe(Date.parse('2026-03-29T01:00:00Z') / 900_000);
  });

  it('counts partitioned clicks on local days once, however often their message is delivered', async () => {
    const f = await createFixture();
    const keys = await clickIdKeys(env);
    const instants = ['2026-04-06T18:29:00.000Z', '2026-04-06T18:31:00.000Z', '2026-04-07T02:00:00.000Z'];
    const clicks = await Promise.all(
      instants.map(async (at, i) =>
        clickRecord(f, at, {
          click_id: await mintClickId(keys, {
            clickedAt: Date.parse(at),
            offerId: f.offerId,
            publisherId: f.publisherId,
            shard: 1,
          }),
          visitor_hash: `tz-partition-${i}`,
        }),
      ),
    );
    const deliver = async () => {
      const body: ClicksMessage = { v: 1, clicks };
      const batch = createMessageBatch('clickhop-clicks', [
        { id: `tz-msg-${f.offerId}`, timestamp: Date.now(), attempts: 1, body },
      ]) as MessageBatch;
      const ctx = createExecutionContext();
      await (worker as ExportedHandler<Env>).queue?.(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
    };
    await deliver();
    await deliver();
    const zoned = await report(f, '2026-04-06', '2026-04-07', 'Asia/Kolkata');
    expect(zoned.data.map((r) => [r.day, r.clicks, r.unique_clicks])).toEqual([
      ['2026-04-06', 1, 1],
      ['2026-04-07', 2, 2],
    ]);
    // The quarters of each UTC day add up to that day's daily rollup.
    const { results } = await env.DB.prepare(
      `SELECT q.day, q.clicks, d.clicks AS daily FROM (
         SELECT date(quarter * 900, 'unixepoch') AS day, SUM(clicks) AS clicks FROM quarter_click_stats
         WHERE offer_id = ?1 GROUP BY 1) q
       JOIN daily_click_stats d ON d.day = q.day AND d.offer_id = ?1`,
    )
      .bind(f.offerId)
      .all<{ day: string; clicks: number; daily: number }>();
    expect(results.map((r) => [r.day, r.clicks, r.daily])).toEqual([
      ['2026-04-06', 2, 2],
      ['2026-04-07', 1, 1],
    ]);
  });

  it('reports conversion counts and money on local days through status changes and adjustments', async () => {
    const f = await createFixture();
    const goalId = await goalIdOf(f.offerId);
    const context = { offerName: 'Offer', goalKey: 'sale', click: null };
    const cv = (created_at: string, revenue: number, payout: number) =>
      conversionRow(f, goalId, { created_at, updated_at: created_at, revenue, payout });
    const late = cv('2026-02-02T18:20:00.000Z', 1000, 400); // the 2nd in Kolkata
    const early = cv('2026-02-02T18:40:00.000Z', 2000, 700); // the 3rd in Kolkata
    const other = cv('2026-02-03T05:00:00.000Z', 500, 100);
    for (const row of [late, early, other])
      expect(await insertConversion(env.DB, row, context, 'admin')).not.toBeNull();
    const at = '2026-02-04T00:00:00.000Z';
    await applyStatusChange(env.DB, early, 'approved', context, 'admin', null, at);
    await applyStatusChange(env.DB, other, 'rejected', context, 'admin', null, at);
    // The 'late' conversion: revenue and payout repriced by an adjustment, status kept.
    await applyAdjustment(
      env.DB,
      late,
      {
        after: { ...late, revenue: 800, payout: 300, updated_at: at },
        stats: { revenue_pending: -200, payout_pending: -100 },
      },
      context,
      'admin',
      'partial refund',
    );

    const zoned = await report(f, '2026-02-02', '2026-02-03', 'Asia/Kolkata');
    expect(zoned.data.map((r) => [r.day, r.currency, r.conversions, r.revenue, r.payout])).toEqual([
      ['2026-02-02', 'EUR', { pending: 1, approved: 0, rejected: 0, reversed: 0 }, '8.00', '3.00'],
      ['2026-02-03', 'EUR', { pending: 0, approved: 1, rejected: 1, reversed: 0 }, '20.00', '7.00'],
    ]);
    // The quarters of each UTC day add up to that day's daily rollup, column by column.
    const { results } = await env.DB.prepare(
      `SELECT d.day, q.pending = d.pending AND q.approved = d.approved AND q.rejected = d.rejected
           AND q.revenue_pending = d.revenue_pending AND q.payout_approved = d.payout_approved AS same
       FROM daily_conversion_stats d JOIN (
         SELECT date(quarter * 900, 'unixepoch') AS day, SUM(pending) AS pending, SUM(approved) AS approved,
           SUM(rejected) AS rejected, SUM(revenue_pending) AS revenue_pending, SUM(payout_approved) AS payout_approved
         FROM quarter_conversion_stats WHERE offer_id = ?1 GROUP BY 1) q ON q.day = d.day
       WHERE d.offer_id = ?1 ORDER BY d.day`,
    )
      .bind(f.offerId)
      .all<{ day: string; same: number }>();
    expect(results).toEqual([
      { day: '2026-02-02', same: 1 },
      { day: '2026-02-03', same: 1 },
    ]);
  });

  it('defaults to the TIMEZONE setting and refuses an unknown zone naming timezone', async () => {
    const f = await createFixture();
    expect((await report(f, '2026-01-01', '2026-01-01')).timezone).toBe(env.TIMEZONE || 'UTC');
    const response = await admin('GET', `/reports?timezone=Mars/Olympus_Mons&offer_id=${f.offerId}`);
    expect(response.status).toBe(400);
    const body = response.body as unknown as ErrorBody;
    expect(Object.keys(body.error.fields ?? {})).toEqual(['timezone']);
  });

  it('serves UTC-offset zones from the daily rollups and every other one from quarters', () => {
    expect(rollupPlan({ from: '2026-01-01', to: '2026-01-31', zone: 'UTC' }).kind).toBe('daily');
    expect(rollupPlan({ from: '2026-01-01', to: '2026-01-31', zone: 'Europe/London' }).kind).toBe('daily');
    expect(rollupPlan({ from: '2026-03-01', to: '2026-03-31', zone: 'Europe/London' }).kind).toBe('quarters');
    const kolkata = rollupPlan({ from: '2026-01-01', to: '2026-01-01', zone: 'Asia/Kolkata' });
    expect(kolkata).toEqual({
      kind: 'quarters',
      from: Date.parse('2025-12-31T18:30:00Z') / 900_000,
      to: Date.parse('2026-01-01T18:30:00Z') / 900_000,
      spans: [
        {
          from: Date.parse('2025-12-31T18:30:00Z') / 900_000,
          to: Date.parse('2026-01-01T18:30:00Z') / 900_000,
          offset: 19_800,
        },
      ],
    });
  });
});
