// Conversions waiting for their click (migration 0011): a conversion posted before the clicks
// consumer stored its click is held with click_data = 'pending' and its deliveries parked; these
// statements hold it, find it again, and settle it with the click's data (and the verdict of the
// rules that needed it) or as 'missing'.
import type { ConversionSnapshot } from '../conversions/snapshot';
import { jsonChunks } from '../lib/chunks';
import type { ConversionRow } from './conversions';
import type { OfferTermsColumns } from './payout-rules';

/** The click fields a conversion copies: its sub IDs, creative ids and the snapshot's click source object. */
export interface ClickData {
  /** sub1..sub6 */
  subs: [string | null, string | null, string | null, string | null, string | null, string | null];
  creative: { id: number | null; groupId: number | null };
  source: NonNullable<ConversionSnapshot['click']>;
}

/**
 * A waiting conversion with what the rules need to judge it once its click lands: its status
 * and flags as created, the signed click time, its money (a rollup move) and its offer's terms.
 */
export type WaitingConversion = Pick<
  ConversionRow,
  | 'id'
  | 'created_at'
  | 'updated_at'
  | 'status'
  | 'flags'
  | 'click_time'
  | 'offer_id'
  | 'publisher_id'
  | 'payout_currency'
  | 'revenue'
  | 'payout'
> & { click_id: string } & Pick<
    OfferTermsColumns,
    'min_seconds_to_convert' | 'max_seconds_to_convert' | 'time_rule' | 'hold_flagged'
  >;

const WAITING = `SELECT c.id, c.click_id, c.created_at, c.updated_at, c.status, c.flags, c.click_time, c.offer_id,
    c.publisher_id, c.payout_currency, c.revenue, c.payout,
    o.min_seconds_to_convert, o.max_seconds_to_convert, o.time_rule, o.hold_flagged
  FROM conversions c JOIN offers o ON o.id = c.offer_id`;

/**
 * Run in the batch that inserts conversion `id` (each statement is a no-op unless that row was
 * inserted): marks it waiting, and parks its deliveries by giving them an enqueued_at, so the
 * cron's reconciliation treats them as handed over and re-sends them only if they are still
 * pending long after (its stuck-delivery rule): the settling step sends them, and that rule is
 * the safety net should it never run.
 */
export const holdForClickStatements = (db: D1Database, id: string, now: string): D1PreparedStatement[] => [
  db.prepare("UPDATE conversions SET click_data = 'pending' WHERE id = ?").bind(id),
  db.prepare('UPDATE deliveries SET enqueued_at = ? WHERE conversion_id = ? AND enqueued_at IS NULL').bind(now, id),
];

/**
 * Waiting conversions of these click IDs (one conversions_click lookup per ID); the IDs are
 * split under the 2 MB string limit (a consumer batch's 10,000 IDs are about 510 KB: one read).
 */
export async function waitingForClicks(db: D1Database, clickIds: string[]): Promise<WaitingConversion[]> {
  const reads = jsonChunks(clickIds).map(async (json) => {
    const { results } = await db
      .prepare(
        `${WAITING}
         WHERE c.click_id IN (SELECT value FROM json_each(?)) AND c.click_data = 'pending'`,
      )
      .bind(json)
      .all<WaitingConversion>();
    return results;
  });
  return (await Promise.all(reads)).flat();
}

/** Waiting conversions by id (a delayed settle message names them). */
export async function waitingByIds(db: D1Database, ids: string[]): Promise<WaitingConversion[]> {
  const { results } = await db
    .prepare(
      `${WAITING}
       WHERE c.id IN (SELECT value FROM json_each(?)) AND c.click_data = 'pending'`,
    )
    .bind(JSON.stringify(ids))
    .all<WaitingConversion>();
  return results;
}

/** Conversions created before `before` still waiting (conversions_click_pending), oldest first. */
export async function waitingSince(db: D1Database, before: string, limit: number): Promise<WaitingConversion[]> {
  const { results } = await db
    .prepare(
      `${WAITING}
       WHERE c.click_data = 'pending' AND c.created_at < ? ORDER BY c.created_at LIMIT ?`,
    )
    .bind(before, limit)
    .all<WaitingConversion>();
  return results;
}

// Events are rewritten first, guarded on the conversion still waiting; the conversion's own
// update (which ends the wait) comes second and RETURNs its id only to the call that settled it.
const STILL_WAITING = "EXISTS (SELECT 1 FROM conversions WHERE id = ?1 AND click_data = 'pending')";

/**
 * Two statements: the click data and the conversion's flags (all of them, now that the click's
 * are known; null: none) into every event snapshot, then into the conversion row.
 */
export function completeStatements(
  db: D1Database,
  id: string,
  data: ClickData,
  flags: string | null,
): D1PreparedStatement[] {
  const [s1, s2, s3, s4, s5, s6] = data.subs;
  const { id: creativeId, groupId } = data.creative;
  // sub6, the creative ids and flags are in a snapshot only when set (buildSnapshot):
  // json_patch drops the keys whose value is null.
  return [
    db
      .prepare(
        `UPDATE conversion_events SET snapshot = json_patch(json_set(snapshot,
           '$.sub1', ?2, '$.sub2', ?3, '$.sub3', ?4, '$.sub4', ?5, '$.sub5', ?6, '$.click', json(?7)),
           json_object('sub6', ?8, 'creative_id', ?9, 'creative_group_id', ?10, 'flags', json(?11)))
         WHERE conversion_id = ?1 AND ${STILL_WAITING}`,
      )
      .bind(id, s1, s2, s3, s4, s5, JSON.stringify(data.source), s6, creativeId, groupId, flags),
    db
      .prepare(
        `UPDATE conversions SET sub1 = ?2, sub2 = ?3, sub3 = ?4, sub4 = ?5, sub5 = ?6, sub6 = ?7,
           creative_id = ?8, creative_group_id = ?9, flags = ?10, click_data = NULL
         WHERE id = ?1 AND click_data = 'pending' RETURNING id`,
      )
      .bind(id, s1, s2, s3, s4, s5, s6, creativeId, groupId, flags),
  ];
}

/**
 * A conversion created approved that its landed click's flags put on hold (an offer with
 * hold_flagged): it becomes pending as if it had been created so, in a batch of its own. The
 * first statement aborts the batch (isHoldStaleError) unless the conversion is still approved,
 * waiting and unchanged since its creation, with none of its deliveries attempted (the
 * reconciliation's stuck rule sends parked ones after 15 minutes: an approval already sent
 * stands), so the rest needs no guard of its own. Then the
 * approval that was never delivered goes: its parked deliveries, its event, and the status in
 * the conversion.created snapshot. The caller adds the rollup move and the completion.
 */
export function holdStatements(db: D1Database, id: string): D1PreparedStatement[] {
  const approved = "SELECT id FROM conversion_events WHERE conversion_id = ?1 AND type = 'conversion.approved'";
  return [
    db
      .prepare(
        `UPDATE conversions SET status = CASE
           WHEN status = 'approved' AND click_data = 'pending' AND updated_at = created_at
             AND NOT EXISTS (SELECT 1 FROM deliveries WHERE conversion_id = ?1 AND attempts > 0) THEN 'pending' END
         WHERE id = ?1`,
      )
      .bind(id),
    db.prepare(`DELETE FROM deliveries WHERE event_id IN (${approved})`).bind(id),
    db.prepare(`DELETE FROM conversion_events WHERE id IN (${approved})`).bind(id),
    db
      .prepare(
        `UPDATE conversion_events SET snapshot = json_set(snapshot, '$.status', 'pending'), to_status = 'pending'
         WHERE conversion_id = ?1 AND type = 'conversion.created'`,
      )
      .bind(id),
  ];
}

/** The abort of a hold whose conversion changed meanwhile (see holdStatements): nothing was written. */
export function isHoldStaleError(error: unknown): boolean {
  return error instanceof Error && /NOT NULL constraint failed: conversions\.status/.test(error.message);
}

/** Two statements: the snapshots and the row say the click data is missing. */
export function markMissingStatements(db: D1Database, id: string): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE conversion_events SET snapshot = json_set(snapshot, '$.click_data', 'missing')
         WHERE conversion_id = ?1 AND ${STILL_WAITING}`,
      )
      .bind(id),
    db
      .prepare("UPDATE conversions SET click_data = 'missing' WHERE id = ?1 AND click_data = 'pending' RETURNING id")
      .bind(id),
  ];
}

/** Deliveries of these conversions not yet attempted: the ones held while they waited. */
export async function heldDeliveries(db: D1Database, conversionIds: string[]): Promise<string[]> {
  if (conversionIds.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT id FROM deliveries
       WHERE conversion_id IN (SELECT value FROM json_each(?)) AND status = 'pending' AND attempts = 0`,
    )
    .bind(JSON.stringify(conversionIds))
    .all<{ id: string }>();
  return results.map((r) => r.id);
}
