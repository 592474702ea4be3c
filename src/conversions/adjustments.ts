// Adjusting a stored conversion (admin API, later the advertiser's portal): plan it under the
// conversion's frozen terms (adjust.ts), write it in one batch with the move of the caps that
// counted it (record.ts), and meet a concurrent change by re-reading and planning again.
import { type ConversionWithGoal, getConversion } from '../db/conversions';
import { goalsWithRules } from '../db/offers';
import type { RuleRow } from '../db/payout-rules';
import { ApiError } from '../lib/errors';
import { capScopeAt } from '../terms/cap-guard';
import { type AdjustmentInput, planAdjustment } from './adjust';
import { applyAdjustment, type Committed, loadSnapshotContext } from './record';
import type { ConversionActor } from './status';
import { chooseTerms, type PricingTerms, parseTerms } from './terms';

const MAX_ATTEMPTS = 4;

export interface AdjustmentResult {
  conversion: ConversionWithGoal;
  previous: ConversionWithGoal;
  committed: Committed;
}

/**
 * The terms a conversion was priced under; one made before terms were frozen (migration 0008)
 * is priced under its goal's rules as they were in force at its creation, without tiers.
 */
async function termsOf(db: D1Database, cv: ConversionWithGoal): Promise<PricingTerms> {
  const frozen = parseTerms(cv.pricing);
  if (frozen) return frozen;
  const goals = (await goalsWithRules(db, [cv.offer_id])).get(cv.offer_id) ?? [];
  const rules: RuleRow[] = goals.find((g) => g.goal.id === cv.goal_id)?.rules ?? [];
  return chooseTerms({ rules, publisherId: cv.publisher_id, at: cv.created_at, tiers: [], before: 0 });
}

export async function adjustConversion(
  env: Pick<Env, 'DB' | 'TIMEZONE'>,
  initial: ConversionWithGoal,
  input: AdjustmentInput,
  actor: ConversionActor,
  reason: string | null,
  now: () => string,
): Promise<AdjustmentResult> {
  const db = env.DB;
  let cv: ConversionWithGoal | null = initial;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && cv; attempt++) {
    const plan = planAdjustment(cv, input, await termsOf(db, cv), laterThan(now(), cv.updated_at));
    // Caps count a conversion in the periods of its creation; an adjustment moves those.
    const caps = capScopeAt(env, cv.created_at);
    const context = await loadSnapshotContext(db, cv);
    const committed = await applyAdjustment(db, cv, plan, context, actor, reason, caps);
    if (committed) return { conversion: { ...cv, ...plan.after }, previous: cv, committed };
    cv = await getConversion(db, cv.id);
  }
  if (!cv) throw new ApiError(404, 'not_found', 'Conversion not found');
  throw new ApiError(409, 'conflict', 'The conversion is being changed concurrently; retry the request');
}

/** updated_at must move on every change (it guards the next one), even within a millisecond. */
function laterThan(now: string, previous: string): string {
  return now > previous ? now : new Date(Date.parse(previous) + 1).toISOString();
}
