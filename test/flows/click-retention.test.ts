// Retention of partitioned clicks: whole weeks are dropped once older than both the click
// retention and every offer's attribution window; clicks that led to a conversion are copied to
// D1 first and stay readable by ID; old ingest markers are purged; a second run changes nothing.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import { storeClicks } from '../../src/click/ingest';
import { PERIOD_MS, periodOf } from '../../src/clicks/partition-key';
import { findClick } from '../../src/clicks/reads';
import { dropExpiredPartitions } from '../../src/clicks/retention';
import { partitionStub } from '../../src/clicks/store';
import { clickRecord, conversionRow, goalIdOf, seedConversion } from '../fixtures';
import { createFixture, type Fixture, scalar } from '../helpers';

const DAY = 86_400_000;

async function partitionedClick(f: Fixture, at: number, shard: number, visitor: string) {
  const id = await mintClickId(await clickIdKeys(env), {
    clickedAt: at,
    offerId: f.offerId,
    publisherId: f.publisherId,
    shard,
  });
  return clickRecord(f, new Date(at).toISOString(), { click_id: id, visitor_hash: visitor, sub1: `s-${visitor}` });
}

describe('click partition retention', () => {
  it('drops expired weeks whole, keeping converted clicks in D1 and newer weeks untouched', async () => {
    const f = await createFixture({ attribution_window_days: 30 });
    const now = Date.now();
    // Ten weeks back: past the 14-day retention and the 30-day window. Two shards of that week.
    const oldWeek = (periodOf(now) - 10) * PERIOD_MS + DAY;
    const kept = await partitionedClick(f, oldWeek, 1, 'v-kept');
    const gone = await partitionedClick(f, oldWeek + 3_600_000, 1, 'v-gone');
    const otherShard = await partitionedClick(f, oldWeek, 2, 'v-other');
    const recent = await partitionedClick(f, now - 2 * DAY, 1, 'v-recent');
    await storeClicks(env, [{ batchKey: 'retention-1', clicks: [kept, gone, otherShard, recent] }]);
    await seedConversion(
      conversionRow(f, await goalIdOf(f.offerId, 'lead'), { click_id: kept.click_id, click_time: kept.clicked_at }),
    );
    await env.DB.prepare('INSERT INTO click_ingests (batch_key, ingested_at) VALUES (?, ?)')
      .bind('ancient-message', new Date(now - 30 * DAY).toISOString())
      .run();
    const retentionEnv = { ...env, CLICK_RETENTION_DAYS: '14' };

    const result = await dropExpiredPartitions(retentionEnv, now);
    expect(result).toMatchObject({ dropped: 2, kept: 1 });
    expect(result.markers).toBeGreaterThanOrEqual(1);

    // The converted click is read from D1 now, with its flags and sub IDs as stored.
    expect(await findClick(env, kept.click_id, now)).toMatchObject({
      click_id: kept.click_id,
      sub1: 's-v-kept',
      is_unique: 1,
    });
    expect(await findClick(env, gone.click_id, now)).toBeNull();
    expect(await findClick(env, otherShard.click_id, now)).toBeNull();
    const oldPeriod = periodOf(oldWeek);
    expect(await partitionStub(env, { period: oldPeriod, shard: 1 }).stats()).toEqual({ clicks: 0, bytes: 0 });
    expect(await scalar('SELECT COUNT(*) AS n FROM click_partitions WHERE period = ?', oldPeriod)).toBe(0);
    expect(await scalar("SELECT COUNT(*) AS n FROM click_ingests WHERE batch_key = 'ancient-message'")).toBe(0);
    expect(await scalar("SELECT COUNT(*) AS n FROM click_ingests WHERE batch_key = 'retention-1'")).toBe(1);
    // The recent week stays, and so do the rollups of the dropped one.
    expect(await findClick(env, recent.click_id, now)).toMatchObject({ sub1: 's-v-recent' });
    expect(await scalar('SELECT SUM(clicks) AS n FROM daily_click_stats WHERE offer_id = ?', f.offerId)).toBe(4);

    expect(await dropExpiredPartitions(retentionEnv, now)).toMatchObject({ dropped: 0, kept: 0 });
  });

  it('keeps every week inside the longest attribution window, whatever the click retention', async () => {
    const f = await createFixture({ attribution_window_days: 120 });
    const now = Date.now();
    const at = (periodOf(now) - 10) * PERIOD_MS + DAY;
    const click = await partitionedClick(f, at, 4, 'v-window');
    await storeClicks(env, [{ batchKey: 'retention-2', clicks: [click] }]);
    expect(await dropExpiredPartitions({ ...env, CLICK_RETENTION_DAYS: '14' }, now)).toMatchObject({ dropped: 0 });
    expect(await findClick(env, click.click_id, now)).toMatchObject({ click_id: click.click_id });
  });
});
