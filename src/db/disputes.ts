// Everything stored about one click, read in one D1 round trip for the admin dispute view: the
// click row, its conversions, their status histories and deliveries, and the postback requests
// that named the click or its conversions. Every section is bounded. A partitioned click (v2 ID)
// is read from its partition at the same time as the D1 batch (src/clicks/reads.ts).

import { clickIdPlacement } from '../click/click-id';
import { findClick } from '../clicks/reads';
import { type ClickRow, selectClickStatement } from './clicks';
import type { ConversionEventRow, ConversionWithGoal } from './conversions';
import type { DeliveryRow } from './deliveries';
import type { PostbackLogRow } from './postback-log';

export interface DisputeLimits {
  conversions: number;
  events_per_conversion: number;
  deliveries_per_conversion: number;
  postbacks: number;
}

export interface ClickDisputeRows {
  click: ClickRow | null;
  /** Oldest first; one row more than the limit when there are more. */
  conversions: ConversionWithGoal[];
  /** Per conversion, oldest first; up to one more than the limit per conversion. */
  events: ConversionEventRow[];
  /** Per conversion, oldest first; up to one more than the limit per conversion. */
  deliveries: DeliveryRow[];
  /** Newest first; one row more than the limit when there are more. */
  postbacks: PostbackLogRow[];
}

/**
 * The conversions the view shows: events and deliveries are read only for these, so a click
 * with more conversions than the limit does not read the history of the ones it leaves out.
 */
const SHOWN_CONVERSIONS = 'SELECT id FROM conversions WHERE click_id = ?1 ORDER BY created_at, id LIMIT ?2';

/** `clickId` must be verified (verifyClickId): a v2 ID names the partition that is read. */
export async function readClickDispute(env: Env, clickId: string, limits: DisputeLimits): Promise<ClickDisputeRows> {
  const db = env.DB;
  const partitioned = clickIdPlacement(clickId) !== null;
  const [[click, conversions, events, deliveries, postbacks], fromPartition] = await Promise.all([
    readDisputeBatch(db, clickId, limits, partitioned),
    partitioned ? findClick(env, clickId) : null,
  ]);
  return {
    click: partitioned ? fromPartition : ((click?.results[0] as ClickRow | undefined) ?? null),
    conversions: (conversions?.results ?? []) as ConversionWithGoal[],
    events: (events?.results ?? []) as ConversionEventRow[],
    deliveries: (deliveries?.results ?? []) as DeliveryRow[],
    postbacks: (postbacks?.results ?? []) as PostbackLogRow[],
  };
}

/** The D1 part; for a partitioned click its first statement reads nothing (keeps the shape). */
function readDisputeBatch(db: D1Database, clickId: string, limits: DisputeLimits, partitioned: boolean) {
  return db.batch([
    partitioned ? db.prepare('SELECT 1 WHERE 0') : selectClickStatement(db, clickId),
    db
      .prepare(
        `SELECT c.*, g.key AS goal_key FROM conversions c JOIN goals g ON g.id = c.goal_id
         WHERE c.click_id = ? ORDER BY c.created_at, c.id LIMIT ?`,
      )
      .bind(clickId, limits.conversions + 1),
    // ROW_NUMBER caps each conversion's history separately; the extra row tells "truncated".
    db
      .prepare(
        `SELECT * FROM (
           SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.conversion_id ORDER BY e.created_at, e.rowid) AS nth
           FROM conversion_events e WHERE e.conversion_id IN (${SHOWN_CONVERSIONS})
         ) WHERE nth <= ?3 ORDER BY conversion_id, nth`,
      )
      .bind(clickId, limits.conversions, limits.events_per_conversion + 1),
    db
      .prepare(
        `SELECT * FROM (
           SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.conversion_id ORDER BY d.created_at, d.id) AS nth
           FROM deliveries d WHERE d.conversion_id IN (${SHOWN_CONVERSIONS})
         ) WHERE nth <= ?3 ORDER BY conversion_id, nth`,
      )
      .bind(clickId, limits.conversions, limits.deliveries_per_conversion + 1),
    // A status update may name only the order ID, so the click's conversions count too
    // (postback_log_click and postback_log_conversion serve the two halves of the OR).
    db
      .prepare(
        `SELECT * FROM postback_log
         WHERE click_id = ?1 OR conversion_id IN (SELECT id FROM conversions WHERE click_id = ?1)
         ORDER BY id DESC LIMIT ?2`,
      )
      .bind(clickId, limits.postbacks + 1),
  ]);
}
