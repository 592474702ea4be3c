import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { admin, adminOk, clicksOfOffer, createFixture, eventually, worker } from '../helpers';

const browser = (ip: string) => ({
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0',
  'cf-connecting-ip': ip,
});

async function clickCount(offerId: number) {
  return (await clicksOfOffer(offerId)).length;
}

/** Per publisher, what the rollup should say, counted from the stored click rows. */
function rollupOf(clicks: { publisher_id: number; is_bot: number; is_unique: number }[]) {
  const byPublisher = new Map<
    number,
    { publisher_id: number; clicks: number; unique_clicks: number; bot_clicks: number }
  >();
  for (const c of clicks) {
    const row = byPublisher.get(c.publisher_id) ?? {
      publisher_id: c.publisher_id,
      clicks: 0,
      unique_clicks: 0,
      bot_clicks: 0,
    };
    row.clicks += c.is_bot === 0 ? 1 : 0;
    row.unique_clicks += c.is_unique;
    row.bot_clicks += c.is_bot;
    byPublisher.set(c.publisher_id, row);
  }
  return [...byPublisher.values()].sort((a, b) => a.publisher_id - b.publisher_id);
}

describe('GET /api/v1/reports', () => {
  it('matches click counts computed from the raw click rows, per offer and publisher', async () => {
    const f = await createFixture();
    const second = await adminOk<{ id: number }>('POST', '/publishers', { name: 'Second' });
    const plan: [number, string, Record<string, string>][] = [
      [f.publisherId, '', browser('198.51.100.7')],
      [f.publisherId, '', browser('198.51.100.7')], // same visitor: not unique
      [f.publisherId, '', browser('198.51.100.8')],
      [second.id, '', browser('198.51.100.7')], // other publisher: unique again
      [second.id, '', { 'user-agent': 'Slackbot-LinkExpanding 1.0' }],
    ];
    for (const [publisherId, query, headers] of plan) {
      const response = await worker(`/c/${f.offerId}/${publisherId}${query}`, { headers });
      expect(response.status).toBe(302);
    }
    await eventually(async () => ((await clickCount(f.offerId)) === plan.length ? true : null));

    const report = await adminOk<{ data: Record<string, unknown>[] }>(
      'GET',
      `/reports?group_by=offer,publisher&offer_id=${f.offerId}`,
    );
    const raw = { results: rollupOf(await clicksOfOffer(f.offerId)) };
    expect(raw.results).toEqual([
      { publisher_id: f.publisherId, clicks: 3, unique_clicks: 2, bot_clicks: 0 },
      { publisher_id: second.id, clicks: 1, unique_clicks: 1, bot_clicks: 1 },
    ]);
    expect(report.data.map((r) => [r.publisher_id, r.clicks, r.unique_clicks, r.bot_clicks])).toEqual(
      raw.results.map((r) => [r.publisher_id, r.clicks, r.unique_clicks, r.bot_clicks]),
    );
    expect(report.data[0]).toMatchObject({ offer_id: f.offerId, currency: null, conversion_rate: 0, epc: '0' });
  });

  it('computes conversion rate and EPC per currency from the conversion rollup', async () => {
    const day = '2026-01-15';
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO daily_click_stats (day, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
         VALUES (?, 9001, 77, 200, 150, 3)`,
      ).bind(day),
      env.DB.prepare(
        `INSERT INTO daily_conversion_stats (day, offer_id, publisher_id, currency, pending, approved, rejected,
           reversed, revenue_pending, revenue_approved, payout_pending, payout_approved)
         VALUES (?, 9001, 77, 'EUR', 3, 2, 1, 0, 1500, 1000, 600, 401)`,
      ).bind(day),
    ]);
    const report = await adminOk<{ data: Record<string, unknown>[] }>(
      'GET',
      `/reports?from=${day}&to=${day}&group_by=day&offer_id=9001`,
    );
    expect(report.data).toEqual([
      {
        day,
        currency: 'EUR',
        clicks: 200,
        unique_clicks: 150,
        bot_clicks: 3,
        impressions: 0,
        conversions: { pending: 3, approved: 2, rejected: 1, reversed: 0 },
        revenue: '25.00',
        revenue_approved: '10.00',
        payout: '10.01',
        payout_approved: '4.01',
        conversion_rate: 0.025,
        epc: '0.05',
      },
    ]);
  });

  it('refuses an unknown grouping and a reversed date range, naming the field', async () => {
    const badGroup = await admin<{ error: { fields: Record<string, string> } }>('GET', '/reports?group_by=country');
    expect(badGroup.status).toBe(400);
    expect(Object.keys(badGroup.body.error.fields)).toEqual(['group_by']);
    const reversed = await admin<{ error: { fields: Record<string, string> } }>(
      'GET',
      '/reports?from=2026-02-01&to=2026-01-01',
    );
    expect(reversed.status).toBe(400);
    expect(Object.keys(reversed.body.error.fields)).toEqual(['from']);
    const badDate = await admin<{ error: { fields: Record<string, string> } }>('GET', '/reports?from=2026-02-30');
    expect(badDate.status).toBe(400);
    expect(Object.keys(badDate.body.error.fields)).toEqual(['from']);
  });
});
