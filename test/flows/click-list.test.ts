// The admin clicks list and the dispute view across click stores: partitioned clicks (v2 IDs,
// several weeks and shards) and D1 clicks (v1 IDs) in one newest-first list whose cursor pages
// through ties at the same millisecond in both stores, every click exactly once.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import { storeClicks } from '../../src/click/ingest';
import { PERIOD_MS, periodOf } from '../../src/clicks/partition-key';
import type { ClickRecord } from '../../src/db/clicks';
import { clickRecord, insertClicks } from '../fixtures';
import { adminOk, createFixture, type Fixture } from '../helpers';

interface Page {
  data: { click_id: string; clicked_at: string; sub1: string | null; is_unique: boolean }[];
  next_cursor: string | null;
}

async function walk(query: string, limit: number): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await adminOk<Page>(
      'GET',
      `/clicks?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    pages.push(page);
    cursor = page.next_cursor;
    if (pages.length > 100) throw new Error('cursor walk does not end');
  } while (cursor);
  return pages;
}

let visitors = 0;
async function v2(f: Fixture, at: number, shard: number, sub1: string): Promise<ClickRecord> {
  const id = await mintClickId(await clickIdKeys(env), {
    clickedAt: at,
    offerId: f.offerId,
    publisherId: f.publisherId,
    shard,
  });
  return clickRecord(f, new Date(at).toISOString(), { click_id: id, sub1, visitor_hash: `lv-${++visitors}` });
}

async function seed() {
  const f = await createFixture();
  const thisWeek = periodOf(Date.now()) * PERIOD_MS;
  const tie = thisWeek + 3_600_000;
  const lastWeek = thisWeek - 2 * 86_400_000;
  const partitioned = [
    await v2(f, tie, 0, 'p-tie-0'),
    await v2(f, tie, 1, 'p-tie-1'),
    await v2(f, tie, 1, 'p-tie-1b'),
    await v2(f, tie + 1, 2, 'p-newest'),
    await v2(f, lastWeek, 0, 'p-last-week'),
    await v2(f, lastWeek - PERIOD_MS, 3, 'p-two-weeks'),
  ];
  await storeClicks(env, [{ batchKey: `list-${f.offerId}`, clicks: partitioned }]);
  const legacy = [
    clickRecord(f, new Date(tie).toISOString(), { sub1: 'd-tie-a', visitor_hash: 'ld-1' }),
    clickRecord(f, new Date(tie).toISOString(), { sub1: 'd-tie-b', visitor_hash: 'ld-2' }),
    clickRecord(f, new Date(lastWeek - 1).toISOString(), { sub1: 'd-old', visitor_hash: 'ld-3' }),
  ];
  await insertClicks(legacy);
  return { f, all: [...partitioned, ...legacy], tie };
}

describe('GET /api/v1/clicks across partitions and D1', () => {
  it('lists every click once, newest first, whatever the page size', async () => {
    const { f, all } = await seed();
    for (const limit of [1, 2, 3, 4, 9, 50]) {
      const pages = await walk(`offer_id=${f.offerId}`, limit);
      const seen = pages.flatMap((p) => p.data.map((c) => c.click_id));
      expect(seen, `limit ${limit}`).toHaveLength(all.length);
      expect(new Set(seen)).toEqual(new Set(all.map((c) => c.click_id)));
      const times = pages.flatMap((p) => p.data.map((c) => c.clicked_at));
      expect(times).toEqual([...times].sort().reverse());
      expect(pages.slice(0, -1).every((p) => p.data.length === limit)).toBe(true);
    }
  });

  it('applies filters in both stores and across pages', async () => {
    const { f, tie } = await seed();
    const from = new Date(tie).toISOString();
    const pages = await walk(`offer_id=${f.offerId}&from=${encodeURIComponent(from)}`, 2);
    expect(pages.flatMap((p) => p.data.map((c) => c.sub1)).sort()).toEqual(
      ['d-tie-a', 'd-tie-b', 'p-newest', 'p-tie-0', 'p-tie-1', 'p-tie-1b'].sort(),
    );
    const bySub = await walk(`offer_id=${f.offerId}&sub1=p-two-weeks`, 5);
    expect(bySub.flatMap((p) => p.data.map((c) => c.sub1))).toEqual(['p-two-weeks']);
  });

  it('shows a partitioned click in the dispute view as landed', async () => {
    const { all } = await seed();
    const click = all[0] as ClickRecord;
    const view = await adminOk<{ landed: boolean; click: { sub1: string } | null }>('GET', `/clicks/${click.click_id}`);
    expect(view).toMatchObject({ landed: true, click: { sub1: 'p-tie-0' } });
  });
});
