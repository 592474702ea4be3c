// Cron reconciliation of deliveries whose queue message never arrived: written but never
// enqueued (the send after the D1 commit failed), enqueued long ago and never attempted, or
// retrying long past their next attempt (the message was lost). Safe to run any number of
// times: a re-sent delivery gets a fresh enqueued_at, and a delivery claimed by one message is
// skipped by any other.
import { iso } from '../lib/time';
import { sendDeliveryMessages } from './fanout';

/** A delivery written this long ago and still not enqueued is re-sent. */
export const ENQUEUE_GRACE_MS = 60_000;
/** A pending delivery enqueued this long ago, or a retry this far past due, is re-sent. */
export const STUCK_AFTER_MS = 15 * 60_000;
const LIMIT = 500;

export interface ReconcileResult {
  unsent: number;
  stuck: number;
  overdue: number;
}

export async function reconcileDeliveries(env: Env, now = Date.now()): Promise<ReconcileResult> {
  const graceCutoff = iso(now - ENQUEUE_GRACE_MS);
  const stuckCutoff = iso(now - STUCK_AFTER_MS);
  const ids = async (sql: string, ...binds: unknown[]) =>
    (
      await env.DB.prepare(sql)
        .bind(...binds, LIMIT)
        .all<{ id: string }>()
    ).results.map((r) => r.id);

  const unsent = await ids(
    `SELECT id FROM deliveries WHERE status = 'pending' AND enqueued_at IS NULL AND updated_at < ? ORDER BY updated_at LIMIT ?`,
    graceCutoff,
  );
  const stuck = await ids(
    `SELECT id FROM deliveries WHERE status = 'pending' AND enqueued_at < ? ORDER BY enqueued_at LIMIT ?`,
    stuckCutoff,
  );
  const overdue = await ids(
    `SELECT id FROM deliveries WHERE status = 'retrying' AND next_attempt_at < ?1
       AND (enqueued_at IS NULL OR enqueued_at < ?1) ORDER BY next_attempt_at LIMIT ?2`,
    stuckCutoff,
  );
  const handOver = [...stuck, ...overdue];
  if (handOver.length > 0) {
    // Their old message is presumed lost: let whichever message comes next claim them.
    await env.DB.prepare(
      `UPDATE deliveries SET message_id = NULL WHERE id IN (SELECT value FROM json_each(?)) AND status IN ('pending', 'retrying')`,
    )
      .bind(JSON.stringify(handOver))
      .run();
  }
  await sendDeliveryMessages(env, [...unsent, ...handOver]);
  return { unsent: unsent.length, stuck: stuck.length, overdue: overdue.length };
}
