// Where a click is stored: a partition is one (period, shard) pair. The period follows from the
// click time, the shard from the visitor (so one visitor's clicks on an offer meet in one shard
// and the unique-click rule stays local); both are carried by a v2 click ID, so any reader finds
// a click's partition from its ID alone, with no lookup table.

/** A partition covers seven days of clicks: retention drops whole weeks. */
export const PERIOD_MS = 7 * 86_400_000;
export const DAY_MS = 86_400_000;

export interface PartitionKey {
  period: number;
  shard: number;
}

export const periodOf = (clickedAt: number) => Math.floor(clickedAt / PERIOD_MS);
export const periodStart = (period: number) => period * PERIOD_MS;

/** The Durable Object name of a partition; stable forever, since IDs already issued point at it. */
export const partitionName = ({ period, shard }: PartitionKey) => `clicks:${period}:${shard}`;

/**
 * Shard count from CLICK_PARTITION_SHARDS; 0 (or unset) keeps clicks in D1 as before. Changing
 * the count moves new visitors between shards but never an issued ID: the shard is in the ID.
 */
export function shardCount(env: { CLICK_PARTITION_SHARDS?: string }): number {
  const count = Number(env.CLICK_PARTITION_SHARDS ?? '0');
  return Number.isInteger(count) && count > 0 && count <= 256 ? count : 0;
}

/** The shard of a visitor: a byte of the keyed visitor hash, so shards fill evenly. */
export const shardOf = (visitorByte: number, shards: number) => visitorByte % shards;
