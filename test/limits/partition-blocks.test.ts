// The block layout of click partitions: clicks many to a row, the unique rule on a visitor log.
// The rule must stay exact whatever order and batches clicks arrive in, each batch's reported
// flags and demotions must add up to the final unique count (what the rollups count), a stored
// click must read back whole, and rows written must stay far below one per click.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import { PERIOD_MS, partitionName, periodOf } from '../../src/clicks/partition-key';
import type { PartitionClick } from '../../src/db/click-partition';
import { VISITOR_BUCKETS } from '../../src/db/click-visits';
import { clickRecord } from '../fixtures';

const DAY = 86_400_000;
let serial = 0;

async function partitionClick(at: number, visitor: string, batch: number, bot = false): Promise<PartitionClick> {
  const clickId = await mintClickId(await clickIdKeys(env), { clickedAt: at, offerId: 7, publisherId: 9, shard: 1 });
  return {
    ...clickRecord({ offerId: 7, publisherId: 9 }, new Date(at).toISOString(), {
      click_id: clickId,
      visitor_hash: visitor,
      is_bot: bot ? 1 : 0,
      device: bot ? 'bot' : 'desktop',
    }),
    batch,
  };
}

const freshPartition = (at: number) =>
  env.CLICK_PARTITIONS.getByName(partitionName({ period: periodOf(at), shard: 1 }) + `:blocks-${++serial}`);

describe('a block-layout partition', () => {
  it('decides uniqueness exactly whatever order and batches the clicks arrive in (property)', async () => {
    const base = (periodOf(Date.now()) - 2) * PERIOD_MS + 3_600_000;
    const gap = fc.oneof(fc.constantFrom(1, DAY - 1, DAY, DAY + 1, DAY / 2), fc.integer({ min: 1, max: DAY + 1 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ gap, bot: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        async (specs, order, cuts) => {
          let at = base;
          const timeline = specs.map((s) => {
            at += s.gap;
            return { at, bot: s.bot };
          });
          // Reference: unique when not a bot and no earlier non-bot click less than 24 h before.
          const expected = timeline.map((c, i) =>
            !c.bot && !timeline.slice(0, i).some((e) => !e.bot && c.at - e.at < DAY) ? 1 : 0,
          );
          const visitor = `prop-${++serial}`;
          const clicks = await Promise.all(timeline.map((c) => partitionClick(c.at, visitor, 0, c.bot)));
          // Arrival: a permutation of the clicks, cut into batches.
          const arrival = clicks
            .map((c, i) => ({ c, k: order[i] ?? 0 }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.c);
          const stub = freshPartition(base);
          let net = 0;
          let batch: PartitionClick[] = [];
          let number = 0;
          const send = async () => {
            number += 1;
            const result = await stub.ingest(
              batch.map((c) => ({ ...c, batch: number })),
              {},
            );
            const mine = result.stored.filter((s) => s.batch === number);
            net += mine.reduce((n, s) => n + s.was_unique, 0);
            net -= result.demoted.filter((d) => d.batch === number).length;
            batch = [];
          };
          for (let i = 0; i < arrival.length; i++) {
            batch.push(arrival[i] as PartitionClick);
            if (cuts[i] || i === arrival.length - 1) await send();
          }
          const flags = [];
          for (const c of clicks) flags.push((await stub.click(c.click_id))?.is_unique);
          expect(flags).toEqual(expected);
          expect(net).toBe(expected.reduce((n: number, f) => n + f, 0));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reads a stored click back whole and writes far fewer rows than clicks', async () => {
    const at = (periodOf(Date.now()) - 1) * PERIOD_MS + DAY;
    const stub = freshPartition(at);
    const clicks: PartitionClick[] = [];
    for (let i = 0; i < 1_000; i++) clicks.push(await partitionClick(at + i * 5, `many-${i % 700}`, 5));
    const result = await stub.ingest(clicks, {});
    // One 10-second bucket of blocks (5 s of clicks span at most 2), one visitor row per
    // visitor bucket touched (VISITOR_BUCKETS at most), in one hour.
    expect(result.rowsWritten).toBeLessThanOrEqual(2 + VISITOR_BUCKETS);
    expect(result.stored).toHaveLength(1_000);
    const again = await stub.ingest(clicks, {});
    expect(again.rowsWritten).toBe(0);
    const sample = clicks[123] as PartitionClick;
    const { batch: _batch, ...record } = sample;
    expect(await stub.click(sample.click_id)).toEqual({
      sub6: null,
      creative_id: null,
      creative_group_id: null,
      ...record,
      is_unique: 1,
      ingest_batch: 'b5',
    });
    expect((await stub.stats()).clicks).toBe(1_000);
    // Visitors seen before in the batch (1 in 10 here) are not unique.
    expect(result.stored.filter((s) => s.was_unique === 1)).toHaveLength(700);
  });
});
