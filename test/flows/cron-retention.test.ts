import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { purgeExpiredClicks } from '../../src/cron';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00.000Z');

async function insertClick(clickId: string, clickedAt: number) {
  await env.DB.prepare(
    `INSERT INTO clicks (click_id, clicked_at, offer_id, publisher_id, device, visitor_hash, ingest_batch)
     VALUES (?, ?, 1, 1, 'desktop', 'v', 'test')`,
  )
    .bind(clickId, new Date(clickedAt).toISOString())
    .run();
}

describe('click retention purge', () => {
  it('deletes clicks older than CLICK_RETENTION_DAYS except those with conversions, and is idempotent', async () => {
    const retention = Number(env.CLICK_RETENTION_DAYS);
    await insertClick('old-plain', NOW - (retention + 1) * DAY);
    await insertClick('old-converted', NOW - (retention + 5) * DAY);
    await insertClick('young', NOW - (retention - 1) * DAY);
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO advertisers (id, name, postback_key_hash, created_at, updated_at) VALUES (1, 'a', 'h', 'x', 'x')`,
      ),
      env.DB.prepare(`INSERT INTO publishers (id, name, created_at, updated_at) VALUES (1, 'p', 'x', 'x')`),
      env.DB.prepare(
        `INSERT INTO offers (id, advertiser_id, name, landing_url, currency, created_at, updated_at)
         VALUES (1, 1, 'o', 'https://a.example/', 'EUR', 'x', 'x')`,
      ),
      env.DB.prepare(`INSERT INTO goals (id, offer_id, key, name, created_at) VALUES (1, 1, 'lead', 'Lead', 'x')`),
      env.DB.prepare(
        `INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, click_id, dedupe_key, status,
           currency, payout_currency, source, created_at, updated_at)
         VALUES ('cv_1', 1, 1, 1, 1, 'old-converted', 'c:old-converted', 'approved', 'EUR', 'EUR', 'canonical', 'x', 'x')`,
      ),
    ]);

    expect(await purgeExpiredClicks(env, NOW)).toBe(1);
    expect(await purgeExpiredClicks(env, NOW)).toBe(0);
    const { results } = await env.DB.prepare('SELECT click_id FROM clicks ORDER BY click_id').all<{
      click_id: string;
    }>();
    expect(results.map((r) => r.click_id)).toEqual(['old-converted', 'young']);
  });

  it('deletes in batches until done, within the run budget', async () => {
    const retention = Number(env.CLICK_RETENTION_DAYS);
    const old = new Date(NOW - (retention + 10) * DAY).toISOString();
    const ids = Array.from({ length: 250 }, (_, i) => `bulk-${i}`);
    await env.DB.prepare(
      `INSERT INTO clicks (click_id, clicked_at, offer_id, publisher_id, device, visitor_hash, ingest_batch)
       SELECT value, ?, 1, 1, 'desktop', 'v', 'test' FROM json_each(?)`,
    )
      .bind(old, JSON.stringify(ids))
      .run();
    // Two batches of 100 is the budget: 200 go now, the other 50 in the next run.
    expect(await purgeExpiredClicks(env, NOW, 100, 2)).toBe(200);
    expect(await purgeExpiredClicks(env, NOW, 100, 2)).toBe(50);
    expect(await purgeExpiredClicks(env, NOW, 100, 2)).toBe(0);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM clicks WHERE click_id LIKE 'bulk-%'").first<{
      n: number;
    }>();
    expect(left?.n).toBe(0);
  });

  it('keeps clicks inside the longest attribution window of any offer, past the retention setting', async () => {
    const retention = Number(env.CLICK_RETENTION_DAYS);
    await env.DB.prepare('UPDATE offers SET attribution_window_days = ? WHERE id = 1')
      .bind(retention + 30)
      .run();
    await insertClick('inside-window', NOW - (retention + 20) * DAY);
    await insertClick('past-window', NOW - (retention + 31) * DAY);
    expect(await purgeExpiredClicks(env, NOW)).toBe(1);
    const kept = await env.DB.prepare(
      "SELECT click_id FROM clicks WHERE click_id IN ('inside-window', 'past-window')",
    ).all<{
      click_id: string;
    }>();
    expect(kept.results.map((r) => r.click_id)).toEqual(['inside-window']);
  });
});
