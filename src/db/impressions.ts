// Impressions are counted in the click rollups (daily_click_stats, quarter_click_stats; column of
// migration 0028), never stored one row each. Counts arrive per clicks Queue message and are
// added once per message key (click_ingests), like partitioned clicks' rollup deltas.

/** Impressions of one offer and publisher in one 15-minute quarter (and its UTC day). */
export interface ImpressionCount {
  day: string;
  quarter: number;
  offer_id: number;
  publisher_id: number;
  impressions: number;
}

export interface ImpressionBatch {
  /** `imp:` + the Queue message id (or a random key for a direct write): counted once. */
  batchKey: string;
  counts: ImpressionCount[];
}

/**
 * Adds each batch's counts unless its key was counted already, then marks the keys counted:
 * three statements whatever the number of batches, for the caller's one D1 batch (a transaction).
 */
export function countImpressionsOnceStatements(db: D1Database, batches: ImpressionBatch[]): D1PreparedStatement[] {
  const rows = JSON.stringify(batches.flatMap((b) => b.counts.map((c) => ({ ...c, batch_key: b.batchKey }))));
  const notCounted = "NOT EXISTS (SELECT 1 FROM click_ingests WHERE batch_key = j.value ->> 'batch_key')";
  return [
    db
      .prepare(
        `INSERT INTO daily_click_stats (day, offer_id, publisher_id, impressions)
         SELECT j.value ->> 'day', j.value ->> 'offer_id', j.value ->> 'publisher_id', SUM(j.value ->> 'impressions')
         FROM json_each(?) j WHERE ${notCounted} GROUP BY 1, 2, 3
         ON CONFLICT (day, offer_id, publisher_id) DO UPDATE SET impressions = impressions + excluded.impressions`,
      )
      .bind(rows),
    db
      .prepare(
        `INSERT INTO quarter_click_stats (quarter, offer_id, publisher_id, impressions)
         SELECT j.value ->> 'quarter', j.value ->> 'offer_id', j.value ->> 'publisher_id', SUM(j.value ->> 'impressions')
         FROM json_each(?) j WHERE ${notCounted} GROUP BY 1, 2, 3
         ON CONFLICT (quarter, offer_id, publisher_id) DO UPDATE SET impressions = impressions + excluded.impressions`,
      )
      .bind(rows),
    db
      .prepare('INSERT OR IGNORE INTO click_ingests (batch_key, ingested_at) SELECT value, ? FROM json_each(?)')
      .bind(new Date().toISOString(), JSON.stringify(batches.map((b) => b.batchKey))),
  ];
}

export async function countImpressionsOnce(db: D1Database, batches: ImpressionBatch[]): Promise<void> {
  const counted = batches.filter((b) => b.counts.length > 0);
  if (counted.length > 0) await db.batch(countImpressionsOnceStatements(db, counted));
}
