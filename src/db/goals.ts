// goals and payout_rules of an offer, as the admin API writes them: goals upserted by key, their
// base payout rules replaced. Statements only, for the batch that also writes the offer row.
import type { PayoutRuleRow } from './offers';

export interface GoalValues {
  key: string;
  /** Undefined keeps the stored name (a new goal is named by its key). */
  name?: string;
  default?: boolean;
  allow_repeats?: boolean;
  default_status?: 'pending' | 'approved';
}

export type BaseRuleValues = Pick<
  PayoutRuleRow,
  'commission_group' | 'revenue_fixed' | 'revenue_percent_bp' | 'payout_fixed' | 'payout_percent_bp'
>;

export interface GoalPlan {
  goal: GoalValues;
  /** The goal's base rules (publisher_id NULL): one without a commission group, one per group. */
  rules: BaseRuleValues[];
}

/**
 * How the statements name the offer: a bound id, or (inside the batch that inserts it) the
 * newest offer, since a batch cannot pass RETURNING values along.
 */
export type OfferRef = { id: number } | 'inserted';

/** Statements that upsert goals (by key) and replace their base payout rules, for one offer. */
export function upsertGoalsStatements(
  db: D1Database,
  offer: OfferRef,
  plans: GoalPlan[],
  now: string,
): D1PreparedStatement[] {
  const offerSql = offer === 'inserted' ? '(SELECT MAX(id) FROM offers)' : '?';
  const offerBinds = offer === 'inserted' ? [] : [offer.id];
  const goalIdSql = `(SELECT id FROM goals WHERE offer_id = ${offerSql} AND key = ?)`;
  const statements: D1PreparedStatement[] = [];
  for (const { goal, rules } of plans) {
    if (goal.default) {
      statements.push(db.prepare(`UPDATE goals SET is_default = 0 WHERE offer_id = ${offerSql}`).bind(...offerBinds));
    }
    statements.push(
      db
        .prepare(
          `INSERT INTO goals (offer_id, key, name, is_default, allow_repeats, default_status, created_at)
           VALUES (${offerSql}, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (offer_id, key) DO UPDATE SET
             name = COALESCE(?, name),
             is_default = MAX(is_default, excluded.is_default),
             allow_repeats = COALESCE(?, allow_repeats),
             default_status = COALESCE(?, default_status)`,
        )
        .bind(
          ...offerBinds,
          goal.key,
          goal.name ?? goal.key,
          goal.default ? 1 : 0,
          goal.allow_repeats ? 1 : 0,
          goal.default_status ?? 'pending',
          now,
          goal.name ?? null,
          goal.allow_repeats === undefined ? null : goal.allow_repeats ? 1 : 0,
          goal.default_status ?? null,
        ),
      db
        .prepare(`DELETE FROM payout_rules WHERE publisher_id IS NULL AND goal_id = ${goalIdSql}`)
        .bind(...offerBinds, goal.key),
    );
    for (const rule of rules) {
      statements.push(
        db
          .prepare(
            `INSERT INTO payout_rules (goal_id, publisher_id, commission_group, revenue_fixed, revenue_percent_bp,
               payout_fixed, payout_percent_bp, created_at)
             VALUES (${goalIdSql}, NULL, ?, ?, ?, ?, ?, ?)`,
          )
          .bind(
            ...offerBinds,
            goal.key,
            rule.commission_group,
            rule.revenue_fixed,
            rule.revenue_percent_bp,
            rule.payout_fixed,
            rule.payout_percent_bp,
            now,
          ),
      );
    }
  }
  // With no goal marked default, the first goal created is the default.
  statements.push(
    db
      .prepare(
        `UPDATE goals SET is_default = 1 WHERE offer_id = ${offerSql}
           AND NOT EXISTS (SELECT 1 FROM goals WHERE offer_id = ${offerSql} AND is_default = 1)
           AND id = (SELECT MIN(id) FROM goals WHERE offer_id = ${offerSql})`,
      )
      .bind(...offerBinds, ...offerBinds, ...offerBinds),
  );
  return statements;
}

/** Runs upsertGoalsStatements in one transaction. */
export async function upsertGoals(db: D1Database, offer: OfferRef, plans: GoalPlan[], now: string): Promise<void> {
  if (plans.length > 0) await db.batch(upsertGoalsStatements(db, offer, plans, now));
}
