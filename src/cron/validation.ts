// Validation periods (Awin's auto-validation): a pending conversion whose goal has
// validation_days is approved by the cron once that many days have passed since it was created,
// unless an offer holds it as flagged. Exactly once: each approval is a guarded status change
// (it commits only while the conversion is still pending), so a second run, an overlapping run
// or an operator's decision in the meantime wins and nothing is approved twice.
import { applyStatusChange, loadSnapshotContext } from '../conversions/record';
import { dueForValidation } from '../db/conversions';
import { errorFields, log } from '../lib/log';
import { sendDeliveryMessages } from '../notify/fanout';

/** Conversions approved per cron run, at most (the rest wait for the next run). */
const MAX_PER_RUN = 200;
const PAGE = 50;

export const VALIDATION_REASON = 'validation_period';

export async function approveValidatedConversions(env: Env, now = Date.now(), max = MAX_PER_RUN): Promise<number> {
  const db = env.DB;
  const at = new Date(now).toISOString();
  let approved = 0;
  let seen = 0;
  const deliveryIds: string[] = [];
  while (seen < max) {
    const due = await dueForValidation(db, at, Math.min(PAGE, max - seen));
    if (due.length === 0) break;
    seen += due.length;
    for (const cv of due) {
      const committed = await applyStatusChange(
        db,
        cv,
        'approved',
        await loadSnapshotContext(db, cv),
        'system',
        VALIDATION_REASON,
        new Date(Math.max(now, Date.parse(cv.updated_at) + 1)).toISOString(),
      );
      if (!committed) continue;
      approved++;
      deliveryIds.push(...committed.deliveryIds);
    }
    if (due.length < PAGE) break;
  }
  // A failed hand-off leaves the deliveries pending without enqueued_at: reconciliation sends them.
  if (deliveryIds.length > 0) {
    await sendDeliveryMessages(env, deliveryIds).catch((error: unknown) =>
      log('warn', 'cron.validation_enqueue_failed', { deliveries: deliveryIds.length, ...errorFields(error) }),
    );
  }
  return approved;
}
