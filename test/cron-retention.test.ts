import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { purgeExpiredClicks } from '../src/cron';

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
});
