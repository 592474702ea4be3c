// Cron reconciliation of deliveries whose queue message never arrived: written but never
// enqueued (the send after the D1 commit failed), enqueued long ago and never attempted, or
// retrying long past their next attempt (the message was lost). Safe to run any number of
// times: a re-sent delivery gets a fresh enqueued_at, and a delivery claimed by one message is
// skipped by any other.
import { overdueDeliveries, releaseDeliveries, stuckDeliveries, unsentDeliveries } from '../db/deliveries';
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
  const db = env.DB;
  const graceCutoff = iso(now - ENQUEUE_GRACE_MS);
  const stuckCutoff = iso(now - STUCK_AFTER_MS);
  const unsent = await unsentDeliveries(db, graceCutoff, LIMIT);
  const stuck = await stuckDeliveries(db, stuckCutoff, LIMIT);
  const overdue = await overdueDeliveries(db, stuckCutoff, LIMIT);
  const handOver = [...stuck, ...overdue];
  // Their old message is presumed lost: let whichever message comes next claim them.
  if (handOver.length > 0) await releaseDeliveries(db, handOver);
  await sendDeliveryMessages(env, [...unsent, ...handOver]);
  return { unsent: unsent.length, stuck: stuck.length, overdue: overdue.length };
}
