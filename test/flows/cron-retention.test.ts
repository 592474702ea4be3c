import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { purgeExpiredClicks } from '../../src/cron';
import { clickRecord, conversionRow, goalIdOf, insertClicks, seedConversion } from '../fixtures';
import { adminOk, createFixture, type Fixture } from '../helpers';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00.000Z');

let shared: Fixture | undefined;
/** The offer and publisher the clicks belong to: one for the file, since the purge reads every offer. */
const fixture = async () => {
  shared ??= await createFixture();
  return shared;
};

async function insertClick(clickId: string, clickedAt: number) {
  await insertClicks([clickRecord(await fixture(), new Date(clickedAt).toISOString(), { click_id: clickId })]);
}

describe('click retention purge', () => {
  it('deletes clicks older than CLICK_RETENTION_DAYS except those with conversions, and is idempotent', async () => {
    const retention = Number(env.CLICK_RETENTION_DAYS);
    await insertClick('old-plain', NOW - (retention + 1) * DAY);
    await insertClick('old-converted', NOW - (retention + 5) * DAY);
    await insertClick('young', NOW - (retention - 1) * DAY);
    const f = await fixture();
    await seedConversion(
      conversionRow(f, await goalIdOf(f.offerId, 'lead'), {
        click_id: 'old-converted',
        dedupe_key: 'c:old-converted',
        status: 'approved',
      }),
    );

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
    const f = await fixture();
    await insertClicks(Array.from({ length: 250 }, (_, i) => clickRecord(f, old, { click_id: `bulk-${i}` })));
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
    await adminOk('PATCH', `/offers/${(await fixture()).offerId}`, { attribution_window_days: retention + 30 });
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
