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
  /** Migration 0029: click-less attribution settings (src/admin/offer-attribution.ts). */
  coupon_policy?: 'click_wins' | 'coupon_wins';
  affiliate_channels?: string | null;
  // Migration 0028 (browser tracking); optional so rows built before it still type-check.
  browser_tracking?: number;
  view_through_hours?: number;
  hold_browser?: number;
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

export const selectOfferStatement = (db: D1Database, id: number): D1PreparedStatement =>
  db.prepare('SELECT * FROM offers WHERE id = ?').bind(id);

export const getOffer = (db: D1Database, id: number): Promise<OfferRow | null> =>
  selectOfferStatement(db, id).first<OfferRow>();

export const offerNameStatement = (db: D1Database, id: number): D1PreparedStatement =>
  db.prepare('SELECT name FROM offers WHERE id = ?').bind(id);

export const getOfferName = async (db: D1Database, id: number): Promise<string | null> =>
  (await offerNameStatement(db, id).first<{ name: string }>())?.name ?? null;

/** The longest attribution window of any offer, in days (null without offers). */
export const maxAttributionWindowStatement = (db: D1Database): D1PreparedStatement =>
  db.prepare('SELECT MAX(attribution_window_days) AS days FROM offers');

export const maxAttributionWindowDays = async (db: D1Database): Promise<number | null> =>
  (await maxAttributionWindowStatement(db).first<{ days: number | null }>())?.days ?? null;

/** What the click path caches about an offer: the offer with its advertiser's status. */
export interface OfferClickRow {
  id: number;
  advertiser_id: number;
  status: OfferRow['status'];
  advertiser_status: 'active' | 'paused';
  landing_url: string;
  click_param: string;
  deep_link_hosts: string;
  fallback_url: string | null;
  attribution_window_days: number;
  browser_tracking: number;
  view_through_hours: number;
}

export const offerClickStatement = (db: D1Database, id: number): D1PreparedStatement =>
  db
    .prepare(
      `SELECT o.id, o.advertiser_id, o.status, a.status AS advertiser_status, o.landing_url,
              o.click_param, o.deep_link_hosts, o.fallback_url, o.attribution_window_days,
              o.browser_tracking, o.view_through_hours
       FROM offers o JOIN advertisers a ON a.id = o.advertiser_id WHERE o.id = ?`,
    )
    .bind(id);

export const getOfferClickRow = (db: D1Database, id: number): Promise<OfferClickRow | null> =>
  offerClickStatement(db, id).first<OfferClickRow>();

export async function listOffers(db: D1Database, after: number, limit: number, advertiserId?: number) {
  const filter = advertiserId === undefined ? '' : 'AND advertiser_id = ?';
  const binds = advertiserId === undefined ? [after, limit] : [after, advertiserId, limit];
  const { results } = await db
    .prepare(`SELECT * FROM offers WHERE id > ? ${filter} ORDER BY id LIMIT ?`)
    .bind(...binds)
    .all<OfferRow>();
  return results;
}

export const offerIdsOfAdvertiserStatement = (db: D1Database, advertiserId: number): D1PreparedStatement =>
  db.prepare('SELECT id FROM offers WHERE advertiser_id = ?').bind(advertiserId);

export async function offerIdsOfAdvertiser(db: D1Database, advertiserId: number): Promise<number[]> {
  const { results } = await offerIdsOfAdvertiserStatement(db, advertiserId).all<{ id: number }>();
  return results.map((r) => r.id);
}

export const existingOfferIdsStatement = (db: D1Database, ids: number[]): D1PreparedStatement =>
  db.prepare('SELECT id FROM offers WHERE id IN (SELECT value FROM json_each(?))').bind(JSON.stringify(ids));

/** Which of these offer ids exist. */
export async function existingOfferIds(db: D1Database, ids: number[]): Promise<Set<number>> {
  const { results } = await existingOfferIdsStatement(db, ids).all<{ id: number }>();
  return new Set(results.map((r) => r.id));
}

export type OfferValues = Omit<OfferRow, 'id' | 'visibility'>;

/** Inserts an offer, RETURNING its id; its goals follow in the same batch (see db/goals.ts). */
export const insertOfferStatement = (db: D1Database, row: OfferValues): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO offers (advertiser_id, name, status, landing_url, click_param, deep_link_hosts, fallback_url,
         currency, attribution_window_days, allow_publisher_postback, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    )
    .bind(
      row.advertiser_id,
      row.name,
      row.status,
      row.landing_url,
      row.click_param,
      row.deep_link_hosts,
      row.fallback_url,
      row.currency,
      row.attribution_window_days,
      row.allow_publisher_postback,
      row.created_at,
      row.updated_at,
    );

export type OfferChanges = Partial<
  Pick<
    OfferRow,
    | 'name'
    | 'status'
    | 'landing_url'
    | 'click_param'
    | 'deep_link_hosts'
    | 'fallback_url'
    | 'attribution_window_days'
    | 'allow_publisher_postback'
  >
>;

/** Sets the given columns (undefined ones are left alone) and updated_at. */
export function updateOfferStatement(
  db: D1Database,
  id: number,
  changes: OfferChanges,
  updatedAt: string,
): D1PreparedStatement {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  const sets = [...entries.map(([k]) => `${k} = ?`), 'updated_at = ?'].join(', ');
  return db.prepare(`UPDATE offers SET ${sets} WHERE id = ?`).bind(...entries.map(([, v]) => v), updatedAt, id);
}

/** An offer's browser-tracking columns (migration 0028). */
export type BrowserSettings = Required<Pick<OfferRow, 'browser_tracking' | 'view_through_hours' | 'hold_browser'>>;

/** Offer settings kept beside the offer's own columns: click-less attribution (migration 0029) and browser tracking (0028). */
type OfferSettings = Partial<BrowserSettings> & Pick<OfferRow, 'coupon_policy' | 'affiliate_channels'>;

/** Sets the given settings (undefined ones are left alone); null when none is given. */
export function updateOfferSettingsStatement(
  db: D1Database,
  offer: { id: number } | 'inserted',
  changes: Partial<OfferSettings>,
): D1PreparedStatement | null {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return null;
  const where = offer === 'inserted' ? 'id = (SELECT MAX(id) FROM offers)' : 'id = ?';
  return db
    .prepare(`UPDATE offers SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE ${where}`)
    .bind(...entries.map(([, v]) => v), ...(offer === 'inserted' ? [] : [offer.id]));
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
