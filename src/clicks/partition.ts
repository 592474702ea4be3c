// One click partition: a SQLite-backed Durable Object holding the clicks of one (period, shard)
// (see partition-key.ts). Its writes are idempotent (INSERT OR IGNORE on the click ID) and each
// call runs in one storage transaction, so a reset mid-batch leaves all or nothing, and a
// redelivered batch gets back the same flags, hence the same rollup deltas.
import { DurableObject } from 'cloudflare:workers';
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
import { type ListPosition, listClicks } from '../db/click-partition-list';
import type { ClickFilters, ClickRow } from '../db/clicks';

export interface IngestResult {
  /** Flags of the batch's clicks as stored (by this call or an earlier delivery of any batch). */
  stored: StoredFlags[];
  /** Clicks of this partition that the given batches demoted. */
  demoted: Demotion[];
  /** Rows written by this call, as the storage bills them. */
  rowsWritten: number;
}

export class ClickPartition extends DurableObject<Env> {
  // The schema is created by the first write, not on construction: a read of a partition that
  // never stored a click (a lookup of an ID from an empty week) must not create storage.
  private ready = false;

  private writable(): SqlStorage {
    const sql = this.ctx.storage.sql;
    if (!this.ready) {
      sql.exec(PARTITION_SCHEMA);
      upgradePartition(sql);
      this.ready = true;
    }
    return sql;
  }

  private readable(): SqlStorage | null {
    const sql = this.ctx.storage.sql;
    if (this.ready) return sql;
    const table = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'clicks'").toArray();
    if (table.length === 0) return null;
    // `ready` means the schema is current, so a partition first read here is upgraded here.
    upgradePartition(sql);
    this.ready = true;
    return sql;
  }

  /** Stores clicks; `prior` is what the previous partition knows of these visitors (24 h). */
  ingest(clicks: PartitionClick[], prior: Record<string, number>): IngestResult {
    const sql = this.writable();
    const written = this.ctx.storage.transactionSync(() => insertClicks(sql, clicks, prior));
    return this.report(
      clicks.map((c) => c.click_id),
      batchesOf(clicks),
      written,
    );
  }

  /** Demotes clicks here that clicks of the previous partition precede within 24 hours. */
  demote(clicks: VisitorClick[]): IngestResult {
    const sql = this.writable();
    const written = this.ctx.storage.transactionSync(() => demoteAfter(sql, clicks));
    return this.report([], batchesOf(clicks), written);
  }

  /** Per visitor key, the latest non-bot click at or after `since` (read only). */
  latestVisits(keys: { offer_id: number; publisher_id: number; visitor_hash: string }[], since: number) {
    const sql = this.readable();
    return sql ? latestVisits(sql, keys, since) : {};
  }

  click(clickId: string): ClickRow | null {
    const sql = this.readable();
    return sql ? findClick(sql, clickId) : null;
  }

  clicks(clickIds: string[]): ClickRow[] {
    const sql = this.readable();
    return sql ? findClicks(sql, clickIds) : [];
  }

  /** A page of the newest-first list after `before` (see src/clicks/list.ts). */
  list(filters: ClickFilters, before: ListPosition | undefined, limit: number): ClickRow[] {
    const sql = this.readable();
    return sql ? listClicks(sql, filters, before, limit) : [];
  }

  stats(): PartitionStats {
    const sql = this.readable();
    return sql ? partitionStats(sql) : { clicks: 0, bytes: 0 };
  }

  /** Retention: the whole partition goes at once, with no per-row deletes to pay for. */
  async drop(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.ready = false;
  }

  private report(clickIds: string[], batches: number[], rowsWritten: number): IngestResult {
    const sql = this.writable();
    return { stored: storedFlags(sql, clickIds), demoted: demotionsBy(sql, batches), rowsWritten };
  }
}

const batchesOf = (clicks: { batch: number }[]) => [...new Set(clicks.map((c) => c.batch))];
