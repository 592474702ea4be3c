// Caps inside the conversion's own transaction. The conversion write adds one statement that
// counts the new conversion against every cap it falls under (src/db/caps.ts); a cap it would
// overshoot fails the counter's CHECK and aborts the whole batch, which is then written again
// as a rejected conversion with reason cap_reached naming the cap. D1 runs batches one at a
// time, so 50 concurrent postbacks against a cap of 10 count exactly 10.
import { publishOfferConfigs } from '../click/config';
import {
  type AdjustedConversion,
  adjustCapsStatement,
  capExceededByAdjustment,
  countConversionStatement,
  exceededCap,
  type PeriodKeys,
  refusedByCapStatements,
} from '../db/caps';
import type { ConversionRow } from '../db/conversions';
import { ApiError } from '../lib/errors';
import { errorFields, log } from '../lib/log';
import { formatAmount } from '../lib/money';
import { operatorTimeZone } from '../lib/timezone';
import { periodKeys } from './periods';

export { isCapExceededError } from '../db/caps';

export const CAP_REACHED = 'cap_reached';

/** The cap periods a conversion created at `at` counts in, in the operator's time zone. */
export interface CapScope {
  keys: PeriodKeys;
}

export const capScopeAt = (env: Pick<Env, 'TIMEZONE'>, at: string): CapScope => ({
  keys: periodKeys(Date.parse(at), operatorTimeZone(env)),
});

/** The statement that counts `row` against its caps, in the batch that creates it. */
export const capCountStatement = (db: D1Database, row: ConversionRow, scope: CapScope): D1PreparedStatement =>
  countConversionStatement(db, row, scope.keys);

/** True when the counting statement's result shows a cap met exactly (the next one is refused). */
export function metACap(result: D1Result | undefined): boolean {
  return ((result?.results ?? []) as { value: number; cap_limit: number }[]).some((r) => r.value >= r.cap_limit);
}

/**
 * After a batch aborted by a cap: the row to store instead (rejected, cap_reached) and the
 * statements naming the cap, or null when no cap refuses it any more (a period ended or the cap
 * was deleted meanwhile: write it counted again).
 */
export async function refusalByCap(
  db: D1Database,
  row: ConversionRow,
  scope: CapScope,
): Promise<{ row: ConversionRow; statements: D1PreparedStatement[] } | null> {
  const cap = await exceededCap(db, row, scope.keys);
  if (!cap) return null;
  return {
    row: { ...row, status: 'rejected', reason: CAP_REACHED },
    statements: refusedByCapStatements(db, row.id, cap, row.created_at),
  };
}

type Money = Pick<ConversionRow, 'offer_id' | 'publisher_id' | 'goal_id' | 'created_at' | 'payout' | 'revenue'>;

const adjusted = (before: Money, after: Pick<Money, 'payout' | 'revenue'>): AdjustedConversion => ({
  offer_id: before.offer_id,
  publisher_id: before.publisher_id,
  goal_id: before.goal_id,
  created_at: before.created_at,
  payout_delta: after.payout - before.payout,
  revenue_delta: after.revenue - before.revenue,
});

/**
 * The statement that moves the payout and revenue caps which counted a conversion by what its
 * adjustment changes, in the adjustment's batch; null when neither moves. `scope` is that of
 * the conversion's creation: the period it was counted in.
 */
export function adjustCapsCountStatement(
  db: D1Database,
  before: Money,
  after: Pick<Money, 'payout' | 'revenue'>,
  scope: CapScope,
): D1PreparedStatement | null {
  const cv = adjusted(before, after);
  if (cv.payout_delta === 0 && cv.revenue_delta === 0) return null;
  return adjustCapsStatement(db, cv, scope.keys);
}

/** True when the adjustment's cap statement moved any counter (the offer's edge config may change). */
export const movedACap = (result: D1Result | undefined): boolean => (result?.results ?? []).length > 0;

/**
 * After an adjustment's batch aborted by a cap: the 409 naming the cap it would pass (nothing
 * was written), or null when no cap refuses it any more (deleted meanwhile: plan it again). An
 * advertiser is not told a payout cap's amounts: what publishers earn is not its to see.
 */
export async function adjustmentRefusedByCap(
  db: D1Database,
  before: Money & Pick<ConversionRow, 'payout_currency'>,
  after: Pick<Money, 'payout' | 'revenue'>,
  scope: CapScope,
  field: 'amount' | 'products',
  actor: string,
): Promise<ApiError | null> {
  const cv = adjusted(before, after);
  const cap = await capExceededByAdjustment(db, cv, scope.keys);
  if (!cap) return null;
  const per = cap.period === 'lifetime' ? 'lifetime' : `per ${cap.period}`;
  const currency = before.payout_currency;
  const money = (minor: number) => `${formatAmount(minor, currency)} ${currency}`;
  const added = cap.metric === 'payout' ? cv.payout_delta : cv.revenue_delta;
  const detail =
    actor === 'advertiser' && cap.metric === 'payout'
      ? `cap ${cap.id} (${cap.metric}, ${per})`
      : `cap ${cap.id} (${cap.metric} ≤ ${money(cap.cap_limit)} ${per}; ${money(cap.used)} used in ${cap.period_key}, the adjustment adds ${money(added)})`;
  return new ApiError(409, CAP_REACHED, `The adjustment would pass ${detail}; nothing was changed`, {
    [field]: `would pass cap ${cap.id}`,
  });
}

/** A reached cap closes the offer to clicks: republish its edge config after the response. */
export function publishCapReached(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }, offerId: number) {
  ctx.waitUntil(
    publishOfferConfigs(env, [offerId]).catch((error: unknown) =>
      log('warn', 'terms.cap_publish_failed', { offer_id: offerId, ...errorFields(error) }),
    ),
  );
}
