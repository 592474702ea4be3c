// Caps inside the conversion's own transaction. The conversion write adds one statement that
// counts the new conversion against every cap it falls under (src/db/caps.ts); a cap it would
// overshoot fails the counter's CHECK and aborts the whole batch, which is then written again
// as a rejected conversion with reason cap_reached naming the cap. D1 runs batches one at a
// time, so 50 concurrent postbacks against a cap of 10 count exactly 10.
import { publishOfferConfigs } from '../click/config';
import { countConversionStatement, exceededCap, type PeriodKeys, refusedByCapStatements } from '../db/caps';
import type { ConversionRow } from '../db/conversions';
import { errorFields, log } from '../lib/log';
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

/** A reached cap closes the offer to clicks: republish its edge config after the response. */
export function publishCapReached(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }, offerId: number) {
  ctx.waitUntil(
    publishOfferConfigs(env, [offerId]).catch((error: unknown) =>
      log('warn', 'terms.cap_publish_failed', { offer_id: offerId, ...errorFields(error) }),
    ),
  );
}
