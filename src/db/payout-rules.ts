// Program terms stored beside offers, goals and payout_rules (migration 0008): per-publisher
// payouts with a validity window, volume tiers and validation periods of goals, time rules and
// fraud holds of offers. Row types for the columns 0008 added (SELECT * returns them; they are
// optional here so rows built before them still type-check), and the statements that write them.
import type { GoalRow, OfferRow, PayoutRuleRow } from './offers';

export interface RuleWindowColumns {
  starts_at: string | null;
  ends_at: string | null;
}

export interface GoalTermsColumns {
  /** JSON of Tier[] (src/conversions/tiers.ts), NULL without tiers. */
  tiers: string | null;
  tier_period: 'month' | null;
  validation_days: number | null;
}

export interface OfferTermsColumns {
  min_seconds_to_convert: number | null;
  max_seconds_to_convert: number | null;
  time_rule: 'flag' | 'reject';
  hold_flagged: number;
}

export type RuleRow = PayoutRuleRow & Partial<RuleWindowColumns>;
export type TermedGoal = GoalRow & Partial<GoalTermsColumns>;
export type TermedOffer = OfferRow & Partial<OfferTermsColumns>;

export interface PublisherPayout {
  payout_fixed: number;
  payout_percent_bp: number;
  starts_at: string | null;
  ends_at: string | null;
}

/**
 * Creates or replaces the publisher's own payout for a goal's base rule (commission group NULL).
 * Its revenue columns stay 0: a publisher rule overrides the payout only (conversions/pricing.ts).
 * RETURNING the row; none when the goal does not exist.
 */
export function putPublisherPayoutStatement(
  db: D1Database,
  goalId: number,
  publisherId: number,
  payout: PublisherPayout,
  now: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO payout_rules (goal_id, publisher_id, commission_group, revenue_fixed, revenue_percent_bp,
         payout_fixed, payout_percent_bp, starts_at, ends_at, created_at)
       VALUES (?1, ?2, NULL, 0, 0, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (goal_id, COALESCE(publisher_id, 0), COALESCE(commission_group, '')) DO UPDATE SET
         payout_fixed = excluded.payout_fixed, payout_percent_bp = excluded.payout_percent_bp,
         starts_at = excluded.starts_at, ends_at = excluded.ends_at
       RETURNING *`,
    )
    .bind(goalId, publisherId, payout.payout_fixed, payout.payout_percent_bp, payout.starts_at, payout.ends_at, now);
}

export const putPublisherPayout = (...args: Parameters<typeof putPublisherPayoutStatement>) =>
  putPublisherPayoutStatement(...args).first<RuleRow>();

export const deletePublisherPayoutStatement = (db: D1Database, goalId: number, publisherId: number) =>
  db
    .prepare('DELETE FROM payout_rules WHERE goal_id = ? AND publisher_id = ? AND commission_group IS NULL')
    .bind(goalId, publisherId);

/** True when a rule was deleted. */
export async function deletePublisherPayout(db: D1Database, goalId: number, publisherId: number): Promise<boolean> {
  return ((await deletePublisherPayoutStatement(db, goalId, publisherId).run()).meta.changes ?? 0) > 0;
}

/** Every per-publisher payout rule of some offers' goals (for presenting offers). */
export function publisherPayoutsStatement(db: D1Database, offerIds: number[], publisherId?: number) {
  return db
    .prepare(
      `SELECT r.* FROM payout_rules r JOIN goals g ON g.id = r.goal_id
       WHERE g.offer_id IN (SELECT value FROM json_each(?1)) AND r.publisher_id IS NOT NULL
         AND (?2 IS NULL OR r.publisher_id = ?2) ORDER BY r.goal_id, r.publisher_id, r.id`,
    )
    .bind(JSON.stringify(offerIds), publisherId ?? null);
}

export async function publisherPayouts(db: D1Database, offerIds: number[], publisherId?: number) {
  if (offerIds.length === 0) return [];
  return (await publisherPayoutsStatement(db, offerIds, publisherId).all<RuleRow>()).results;
}

export type GoalTermsChanges = Partial<GoalTermsColumns>;

/** Sets a goal's tier and validation columns (undefined ones are left alone); goal by offer and key. */
export function updateGoalRulesStatement(
  db: D1Database,
  offer: { id: number } | 'inserted',
  key: string,
  changes: GoalTermsChanges,
): D1PreparedStatement | null {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return null;
  const offerSql = offer === 'inserted' ? '(SELECT MAX(id) FROM offers)' : '?';
  const offerBinds = offer === 'inserted' ? [] : [offer.id];
  return db
    .prepare(`UPDATE goals SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE offer_id = ${offerSql} AND key = ?`)
    .bind(...entries.map(([, v]) => v), ...offerBinds, key);
}

export type OfferTermsChanges = Partial<OfferTermsColumns>;

/** Sets an offer's time-rule and hold columns (undefined ones are left alone). */
export function updateOfferRulesStatement(
  db: D1Database,
  offer: { id: number } | 'inserted',
  changes: OfferTermsChanges,
): D1PreparedStatement | null {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return null;
  const where = offer === 'inserted' ? 'id = (SELECT MAX(id) FROM offers)' : 'id = ?';
  return db
    .prepare(`UPDATE offers SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE ${where}`)
    .bind(...entries.map(([, v]) => v), ...(offer === 'inserted' ? [] : [offer.id]));
}

/**
 * How many conversions (pending or approved) a publisher has per tiered goal of an offer since
 * `since`. The constant EXISTS is evaluated once, so an offer without tiers costs no scan. The
 * unary + keeps SQLite on the publisher's range of conversions_publisher_time rather than every
 * conversion of the offer.
 */
export function tierCountsStatement(db: D1Database, offerId: number, publisherId: number, since: string) {
  return db
    .prepare(
      `SELECT goal_id, COUNT(*) AS n FROM conversions
       WHERE publisher_id = ?1 AND created_at >= ?3 AND +offer_id = ?2 AND status IN ('pending', 'approved')
         AND EXISTS (SELECT 1 FROM goals WHERE offer_id = ?2 AND tiers IS NOT NULL)
       GROUP BY goal_id`,
    )
    .bind(publisherId, offerId, since);
}

export async function tierCounts(db: D1Database, offerId: number, publisherId: number, since: string) {
  const { results } = await tierCountsStatement(db, offerId, publisherId, since).all<{ goal_id: number; n: number }>();
  return new Map(results.map((r) => [r.goal_id, r.n]));
}

/** The id and currency behind an offer's goal key, or null. */
export const goalOfOffer = (db: D1Database, offerId: number, key: string) =>
  db
    .prepare(
      'SELECT g.id, o.currency FROM goals g JOIN offers o ON o.id = g.offer_id WHERE g.offer_id = ? AND g.key = ?',
    )
    .bind(offerId, key)
    .first<{ id: number; currency: string }>();
