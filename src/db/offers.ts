// offers, goals and payout_rules tables: SQL and row types.

export interface OfferRow {
  id: number;
  advertiser_id: number;
  name: string;
  status: 'active' | 'paused' | 'archived';
  visibility: 'public' | 'private';
  landing_url: string;
  click_param: string;
  deep_link_hosts: string;
  fallback_url: string | null;
  currency: string;
  attribution_window_days: number;
  allow_publisher_postback: number;
  created_at: string;
  updated_at: string;
}

export interface GoalRow {
  id: number;
  offer_id: number;
  key: string;
  name: string;
  is_default: number;
  allow_repeats: number;
  default_status: 'pending' | 'approved';
  created_at: string;
}

export interface PayoutRuleRow {
  id: number;
  goal_id: number;
  publisher_id: number | null;
  commission_group: string | null;
  revenue_fixed: number;
  revenue_percent_bp: number;
  payout_fixed: number;
  payout_percent_bp: number;
  created_at: string;
}

export const getOffer = (db: D1Database, id: number) =>
  db.prepare('SELECT * FROM offers WHERE id = ?').bind(id).first<OfferRow>();

export async function listOffers(db: D1Database, after: number, limit: number, advertiserId?: number) {
  const filter = advertiserId === undefined ? '' : 'AND advertiser_id = ?';
  const binds = advertiserId === undefined ? [after, limit] : [after, advertiserId, limit];
  const { results } = await db
    .prepare(`SELECT * FROM offers WHERE id > ? ${filter} ORDER BY id LIMIT ?`)
    .bind(...binds)
    .all<OfferRow>();
  return results;
}

export interface GoalWithRules {
  goal: GoalRow;
  rules: PayoutRuleRow[];
}

/** The two reads behind goalsWithRules, for callers that put them in a batch of their own. */
export function goalsWithRulesStatements(
  db: D1Database,
  offerIds: number[],
): [D1PreparedStatement, D1PreparedStatement] {
  const ids = JSON.stringify(offerIds);
  return [
    db.prepare('SELECT * FROM goals WHERE offer_id IN (SELECT value FROM json_each(?)) ORDER BY id').bind(ids),
    db
      .prepare(
        `SELECT r.* FROM payout_rules r JOIN goals g ON g.id = r.goal_id
         WHERE g.offer_id IN (SELECT value FROM json_each(?)) ORDER BY r.id`,
      )
      .bind(ids),
  ];
}

/** Goal and rule rows (as goalsWithRulesStatements read them) grouped by offer id. */
export function groupGoals(goals: GoalRow[], rules: PayoutRuleRow[]): Map<number, GoalWithRules[]> {
  const byOffer = new Map<number, GoalWithRules[]>();
  const byGoal = new Map<number, GoalWithRules>();
  for (const goal of goals) {
    const entry: GoalWithRules = { goal, rules: [] };
    byGoal.set(goal.id, entry);
    const list = byOffer.get(goal.offer_id) ?? [];
    list.push(entry);
    byOffer.set(goal.offer_id, list);
  }
  for (const rule of rules) byGoal.get(rule.goal_id)?.rules.push(rule);
  return byOffer;
}

/** Goals of some offers with their payout rules, grouped by offer id. */
export async function goalsWithRules(db: D1Database, offerIds: number[]): Promise<Map<number, GoalWithRules[]>> {
  if (offerIds.length === 0) return new Map();
  const [goals, rules] = await db.batch(goalsWithRulesStatements(db, offerIds));
  return groupGoals((goals?.results ?? []) as GoalRow[], (rules?.results ?? []) as PayoutRuleRow[]);
}
