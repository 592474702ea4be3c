// One click partition: a SQLite-backed Durable Object holding the clicks of one (period, shard)
// (see partition-key.ts). Its writes are idempotent (INSERT OR IGNORE on the click ID) and each
// call runs in one storage transaction, so a reset mid-batch leaves all or nothing, and a
// redelivered batch gets back the same flags, hence the same rollup deltas.
import { DurableObject } from 'cloudflare:workers';
import {
  BLOCK_SCHEMA,
  blockDemotionsBy,
  blockStats,
  blockStoredFlags,
  findBlockClick,
  findBlockClicks,
} from '../db/click-blocks';
import { demoteBlockClicks, insertBlockClicks, latestBlockVisits } from '../db/click-blocks-ingest';
import {
  type Demotion,
  demoteAfter,
  demotionsBy,
  findClick,
  findClicks,
  insertClicks,
  latestVisits,
  PARTITION_SCHEMA,
  type PartitionClick,
  type PartitionStats,
  partitionStats,
  type StoredFlags,
  storedFlags,
  upgradePartition,
  type VisitorClick,
} from '../db/click-partition';
import { type ListPosition, listBlockClicks, listClicks } from '../db/click-partition-list';
import { cachedItems, type Part } from '../db/click-parts';
import type { ClickFilters, ClickRow } from '../db/clicks';

export interface IngestResult {
  /** Flags of the batch's clicks as stored (by this call or an earlier delivery of any batch). */
  stored: StoredFlags[];
  /** Clicks of this partition that the given batches demoted. */
  demoted: Demotion[];
  /** Rows written by this call, as the storage bills them. */
  rowsWritten: number;
}

type Layout = 'rows' | 'blocks';

/**
 * Most visitor-log items kept parsed between calls: about 100 bytes each in memory, so at most
 * about 40 MB of the isolate's 128 MB (Workers limits page). A partition whose last 48 hours hold
 * more reads them from storage on every batch instead (docs/capacity.md, scale).
 */
const VISIT_CACHE_ITEMS = 400_000;

export class ClickPartition extends DurableObject<Env> {
  // The schema is created by the first write, not on construction: a read of a partition that
  // never stored a click (a lookup of an ID from an empty week) must not create storage.
  // A partition keeps the layout it was created with: one created before blocks existed (it has
  // the `clicks` table) goes on in rows until retention drops it; new ones use blocks.
  private layout: Layout | null = null;
  // The visitor log's parsed rows from earlier calls (this object is their only writer), so a
  // busy partition does not parse its last 48 hours again for every batch. Cleared when a
  // transaction fails (its rows may hold rolled-back items) and when it passes VISIT_CACHE_ITEMS.
  private visitCache = new Map<string, Part[]>();

  private boundedVisitCache(): Map<string, Part[]> {
    if (cachedItems(this.visitCache) > VISIT_CACHE_ITEMS) this.visitCache = new Map();
    return this.visitCache;
  }

  /** Runs a write in one transaction; a failed one leaves no cached rows behind. */
  private write(run: () => number): number {
    try {
      return this.ctx.storage.transactionSync(run);
    } catch (error) {
      this.visitCache = new Map();
      throw error;
    }
  }

  private existing(): Layout | null {
    if (this.layout) return this.layout;
    const tables = this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('clicks', 'blocks')")
      .toArray()
      .map((t) => t.name);
    if (tables.includes('clicks')) {
      // `layout` means the schema is current, so a partition first read here is upgraded here.
      upgradePartition(this.ctx.storage.sql);
      this.layout = 'rows';
    } else if (tables.includes('blocks')) this.layout = 'blocks';
    return this.layout;
  }

  private writable(): { sql: SqlStorage; layout: Layout } {
    const sql = this.ctx.storage.sql;
    let layout = this.existing();
    if (layout === null) {
      sql.exec(BLOCK_SCHEMA);
      layout = this.layout = 'blocks';
    } else if (layout === 'rows') sql.exec(PARTITION_SCHEMA);
    return { sql, layout };
  }

  private readable(): { sql: SqlStorage; layout: Layout } | null {
    const layout = this.existing();
    return layout ? { sql: this.ctx.storage.sql, layout } : null;
  }

  /** Stores clicks; `prior` is what the previous partition knows of these visitors (24 h). */
  ingest(clicks: PartitionClick[], prior: Record<string, number>): IngestResult {
    const { sql, layout } = this.writable();
    const written = this.write(() =>
      layout === 'rows'
        ? insertClicks(sql, clicks, prior)
        : insertBlockClicks(sql, clicks, prior, this.boundedVisitCache()),
    );
    return this.report(
      clicks.map((c) => c.click_id),
      batchesOf(clicks),
      written,
    );
  }

  /** Demotes clicks here that clicks of the previous partition precede within 24 hours. */
  demote(clicks: VisitorClick[]): IngestResult {
    const { sql, layout } = this.writable();
    const written = this.write(() =>
      layout === 'rows' ? demoteAfter(sql, clicks) : demoteBlockClicks(sql, clicks, this.boundedVisitCache()),
    );
    return this.report([], batchesOf(clicks), written);
  }

  /** Per visitor key, the latest non-bot click at or after `since` (read only). */
  latestVisits(keys: { offer_id: number; publisher_id: number; visitor_hash: string }[], since: number) {
    const store = this.readable();
    if (!store) return {};
    return store.layout === 'rows' ? latestVisits(store.sql, keys, since) : latestBlockVisits(store.sql, keys, since);
  }

  click(clickId: string): ClickRow | null {
    const store = this.readable();
    if (!store) return null;
    return store.layout === 'rows' ? findClick(store.sql, clickId) : findBlockClick(store.sql, clickId);
  }

  clicks(clickIds: string[]): ClickRow[] {
    const store = this.readable();
    if (!store) return [];
    return store.layout === 'rows' ? findClicks(store.sql, clickIds) : findBlockClicks(store.sql, clickIds);
  }

  /** A page of the newest-first list after `before` (see src/clicks/list.ts). */
  list(filters: ClickFilters, before: ListPosition | undefined, limit: number): ClickRow[] {
    const store = this.readable();
    if (!store) return [];
    return store.layout === 'rows'
      ? listClicks(store.sql, filters, before, limit)
      : listBlockClicks(store.sql, filters, before, limit);
  }

  stats(): PartitionStats {
    const store = this.readable();
    if (!store) return { clicks: 0, bytes: 0 };
    return store.layout === 'rows' ? partitionStats(store.sql) : blockStats(store.sql);
  }

  /** Retention: the whole partition goes at once, with no per-row deletes to pay for. */
  async drop(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.layout = null;
    this.visitCache = new Map();
  }

  private report(clickIds: string[], batches: number[], rowsWritten: number): IngestResult {
    const { sql, layout } = this.writable();
    return layout === 'rows'
      ? { stored: storedFlags(sql, clickIds), demoted: demotionsBy(sql, batches), rowsWritten }
      : { stored: blockStoredFlags(sql, clickIds), demoted: blockDemotionsBy(sql, batches), rowsWritten };
  }
}

const batchesOf = (clicks: { batch: number }[]) => [...new Set(clicks.map((c) => c.batch))];
