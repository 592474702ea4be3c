// Read models of the partner portal, each scoped by party: an operator reads everything, a
// publisher or advertiser only its own rows. Every read is a range of an index (rollups by day,
// conversions by party and time, deliveries by endpoint or status, postbacks by advertiser), so
// a page costs the same however many clicks and conversions exist; tests check the plans.
import type { PartyFilter } from '../auth/scope';
import type { ConversionStatus } from '../conversions/status';
import type { DeliveryRow } from './deliveries';
import { exactSumSql, minorOf } from './rollups';

export type ReportGroup = 'day' | 'offer' | 'publisher';

const GROUP_COLUMN: Record<ReportGroup, string> = { day: 'day', offer: 'offer_id', publisher: 'publisher_id' };

/**
 * Rollups of a range of UTC days grouped by one key, scoped: ?1..?2 the days, ?3 publisher id,
 * ?4 advertiser id (either may be NULL). An advertiser's rows are those of its offers.
 */
export function scopedRollupSql(table: 'daily_click_stats' | 'daily_conversion_stats', group: ReportGroup): string {
  const key = GROUP_COLUMN[group];
  const sums =
    table === 'daily_click_stats'
      ? 'SUM(clicks) AS clicks, SUM(unique_clicks) AS unique_clicks, SUM(bot_clicks) AS bot_clicks, SUM(impressions) AS impressions'
      : `currency, SUM(pending) AS pending, SUM(approved) AS approved, SUM(rejected) AS rejected, SUM(reversed) AS reversed,
         ${exactSumSql(['revenue_pending', 'revenue_approved'], 'revenue')},
         ${exactSumSql(['payout_pending', 'payout_approved'], 'payout')}`;
  const groupBy = table === 'daily_conversion_stats' ? `${key}, currency` : key;
  return `SELECT ${key} AS key, ${sums} FROM ${table}
    WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR publisher_id = ?3)
      AND (?4 IS NULL OR offer_id IN (SELECT id FROM offers WHERE advertiser_id = ?4))
    GROUP BY ${groupBy} ORDER BY key`;
}

export interface ClickGroupRow {
  key: string | number;
  clicks: number;
  unique_clicks: number;
  bot_clicks: number;
  impressions?: number;
}

export interface ConversionGroupRow {
  key: string | number;
  currency: string;
  pending: number;
  approved: number;
  rejected: number;
  reversed: number;
  /** Pending + approved, minor units of `currency`: exact sums (src/db/rollups.ts). */
  revenue: bigint;
  payout: bigint;
}

type ConversionGroupText = Omit<ConversionGroupRow, 'revenue' | 'payout'> & { revenue: string; payout: string };

/** The conversion rows of scopedRollupStatements, their money sums read as bigints. */
export const conversionGroupRows = (result: D1Result | undefined): ConversionGroupRow[] =>
  ((result?.results ?? []) as ConversionGroupText[]).map((row) => ({
    ...row,
    revenue: minorOf(row.revenue),
    payout: minorOf(row.payout),
  }));

export const scopedRollupStatements = (
  db: D1Database,
  scope: PartyFilter,
  range: { from: string; to: string },
  group: ReportGroup,
): [D1PreparedStatement, D1PreparedStatement] => {
  const binds = [range.from, range.to, scope.publisher_id ?? null, scope.advertiser_id ?? null];
  return [
    db.prepare(scopedRollupSql('daily_click_stats', group)).bind(...binds),
    db.prepare(scopedRollupSql('daily_conversion_stats', group)).bind(...binds),
  ];
};

/** A conversion as the portal lists it, with its offer's and publisher's names. */
export interface PortalConversionRow {
  id: string;
  created_at: string;
  offer_id: number;
  offer_name: string | null;
  publisher_id: number;
  publisher_name: string | null;
  advertiser_id: number;
  goal_key: string;
  click_id: string | null;
  order_id: string | null;
  status: ConversionStatus;
  currency: string;
  amount: number;
  payout_currency: string;
  revenue: number;
  payout: number;
  sub1: string | null;
  /** 'server', 'browser' or 'claim'; 'click' or 'view_through' (migration 0028). */
  source: string;
  attribution: string;
}

const CONVERSION_COLUMNS = `c.id, c.created_at, c.offer_id, o.name AS offer_name, c.publisher_id, p.name AS publisher_name,
  c.advertiser_id, g.key AS goal_key, c.click_id, c.order_id, c.status, c.currency, c.amount, c.payout_currency,
  c.revenue, c.payout, c.sub1, c.source, c.attribution`;
const CONVERSION_JOINS = `LEFT JOIN offers o ON o.id = c.offer_id LEFT JOIN publishers p ON p.id = c.publisher_id
  JOIN goals g ON g.id = c.goal_id`;

/**
 * Conversions created in [?from, ?to), newest first, of one party (or all), optionally of one
 * status. One statement per scope so each is a range of its own index (party or status, then
 * time); `before` is the created_at of the previous page's last row.
 */
export function scopedConversionsSql(scope: PartyFilter, status: boolean): string {
  const party =
    scope.publisher_id !== undefined
      ? 'c.publisher_id = ?1'
      : scope.advertiser_id !== undefined
        ? 'c.advertiser_id = ?1'
        : '?1 IS NULL';
  const byStatus = status ? ' AND c.status = ?5' : '';
  return `SELECT ${CONVERSION_COLUMNS} FROM conversions c ${CONVERSION_JOINS}
    WHERE ${party}${byStatus} AND c.created_at >= ?2 AND c.created_at < ?3
    ORDER BY c.created_at DESC, c.id DESC LIMIT ?4`;
}

export const scopedConversionsStatement = (
  db: D1Database,
  scope: PartyFilter,
  range: { from: string; to: string },
  limit: number,
  status?: ConversionStatus,
): D1PreparedStatement =>
  db
    .prepare(scopedConversionsSql(scope, status !== undefined))
    .bind(scope.publisher_id ?? scope.advertiser_id ?? null, range.from, range.to, limit, ...(status ? [status] : []));

/** A delivery with its endpoint's publisher and URL. */
export interface PortalDeliveryRow extends DeliveryRow {
  publisher_id: number;
  endpoint_url: string;
}

/**
 * Deliveries, newest first: a publisher's (a range of deliveries_publisher_time, migration
 * 0013), everybody's for an operator; `failing` keeps the retrying and dead ones, by last update.
 *
 * A publisher's failing ones are the newest of each failing status, each a range of that status's
 * index by publisher and time (deliveries_publisher_retrying and _dead, migration 0017) cut at
 * ?2, merged: at most 2 x ?2 index entries and endpoint lookups, whatever the planner's
 * statistics (the shape of FAILING_DELIVERIES_SQL in src/db/deliveries.ts, scoped). A single
 * `status IN ('retrying', 'dead')` read sorted every failing delivery of every publisher, or once
 * ANALYZE had run every delivery of the publisher. CROSS JOIN keeps the endpoints inner, looked up
 * by primary key for the rows kept. Everybody's failing ones are read through
 * FAILING_DELIVERIES_SQL by the portal (src/portal/notifications.ts).
 */
export function scopedDeliveriesSql(scope: PartyFilter, failing: boolean): string {
  const select = `SELECT d.*, e.publisher_id, e.url AS endpoint_url FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id`;
  if (failing && scope.publisher_id !== undefined) {
    const newest = (status: 'retrying' | 'dead') => `SELECT * FROM (SELECT * FROM deliveries
      WHERE publisher_id = ?1 AND status = '${status}' ORDER BY updated_at DESC LIMIT ?2)`;
    return `SELECT failing.*, e.publisher_id, e.url AS endpoint_url
      FROM (${newest('retrying')} UNION ALL ${newest('dead')}) failing
      CROSS JOIN endpoints e ON e.id = failing.endpoint_id
      ORDER BY failing.updated_at DESC LIMIT ?2`;
  }
  if (failing) {
    return `${select} WHERE d.status IN ('retrying', 'dead') AND ?1 IS NULL ORDER BY d.updated_at DESC LIMIT ?2`;
  }
  if (scope.publisher_id !== undefined) {
    return `${select} WHERE d.publisher_id = ?1 ORDER BY d.created_at DESC, d.id DESC LIMIT ?2`;
  }
  return `${select} WHERE ?1 IS NULL ORDER BY d.created_at DESC, d.id DESC LIMIT ?2`;
}

export const scopedDeliveriesStatement = (
  db: D1Database,
  scope: PartyFilter,
  limit: number,
  failing = false,
): D1PreparedStatement => db.prepare(scopedDeliveriesSql(scope, failing)).bind(scope.publisher_id ?? null, limit);

/** Which offers a publisher's listing holds: those it may promote, or those it may apply to. */
export type PublisherListing = 'promote' | 'apply';

/** An offer of a publisher's listing, one row per goal, with the payout it pays that publisher. */
export interface PromotableGoalRow {
  offer_id: number;
  offer_name: string;
  landing_url: string;
  currency: string;
  deep_link_hosts: string;
  visibility: 'public' | 'private';
  attribution_window_days: number;
  min_seconds_to_convert: number | null;
  max_seconds_to_convert: number | null;
  time_rule: 'flag' | 'reject';
  /** The publisher's application to the offer, if it made one. */
  application_id: number | null;
  application_status: 'pending' | 'approved' | 'rejected' | null;
  goal_key: string;
  goal_name: string;
  payout_fixed: number;
  payout_percent_bp: number;
  /** 'own': the publisher's own rule in force priced it; 'goal': the goal's base rule. */
  payout_rule: 'own' | 'goal';
}

const APPROVED = `EXISTS (SELECT 1 FROM offer_applications a
        WHERE a.offer_id = o.id AND a.publisher_id = ?1 AND a.status = 'approved')`;

/**
 * A page of the active offers of publisher ?1's listing: those it may promote (public, or private
 * with its application approved) or those it may apply to (private, not approved); ?2 offers
 * after offer id ?3. A range of the offers' primary key.
 */
const listingPageSql = (listing: PublisherListing) => `SELECT o.* FROM offers o
    WHERE o.id > ?3 AND o.status = 'active'
      AND ${listing === 'promote' ? `(o.visibility = 'public' OR ${APPROVED})` : `o.visibility = 'private' AND NOT ${APPROVED}`}
    ORDER BY o.id LIMIT ?2`;

/**
 * The offers of a listing page (listingPageSql), each goal with the payout it pays publisher ?1
 * at ?4: its own rule in force (starts_at <= ?4 < ends_at), else the goal's base rule, and the
 * publisher's application if any. Tiers and commission groups aside; revenue is not read at all.
 * Goals, rules and the application by their offer, goal and (offer, publisher) indexes.
 */
export const publisherOffersSql = (listing: PublisherListing) => `WITH page AS (${listingPageSql(listing)})
  SELECT o.id AS offer_id, o.name AS offer_name, o.landing_url, o.currency, o.deep_link_hosts, o.visibility,
    o.attribution_window_days, o.min_seconds_to_convert, o.max_seconds_to_convert, o.time_rule,
    app.id AS application_id, app.status AS application_status, g.key AS goal_key, g.name AS goal_name,
    COALESCE(own.payout_fixed, base.payout_fixed, 0) AS payout_fixed,
    COALESCE(own.payout_percent_bp, base.payout_percent_bp, 0) AS payout_percent_bp,
    CASE WHEN own.id IS NULL THEN 'goal' ELSE 'own' END AS payout_rule
  FROM page o JOIN goals g ON g.offer_id = o.id
  LEFT JOIN offer_applications app ON app.offer_id = o.id AND app.publisher_id = ?1
  LEFT JOIN payout_rules base ON base.goal_id = g.id AND base.publisher_id IS NULL AND base.commission_group IS NULL
  LEFT JOIN payout_rules own ON own.goal_id = g.id AND own.publisher_id = ?1 AND own.commission_group IS NULL
    AND (own.starts_at IS NULL OR own.starts_at <= ?4) AND (own.ends_at IS NULL OR own.ends_at > ?4)
  ORDER BY o.id, g.id`;

export const PROMOTABLE_SQL = publisherOffersSql('promote');
export const APPLICABLE_SQL = publisherOffersSql('apply');

/** A cap as a publisher sees it: one that counts its traffic (its own, or all publishers'). */
export interface PublisherCapRow {
  offer_id: number;
  /** Null: all publishers together; else this publisher alone. */
  publisher_id: number | null;
  goal_key: string | null;
  metric: 'clicks' | 'conversions' | 'payout';
  period: 'day' | 'week' | 'month' | 'lifetime';
  cap_limit: number;
}

/**
 * The caps of the same listing page that count publisher ?1's traffic: all publishers' and its
 * own, never another publisher's, and never a revenue cap (revenue is not the publisher's to see).
 */
export const publisherOfferCapsSql = (listing: PublisherListing) => `WITH page AS (${listingPageSql(listing)})
  SELECT c.offer_id, c.publisher_id, g.key AS goal_key, c.metric, c.period, c.cap_limit
  FROM page o JOIN caps c ON c.offer_id = o.id LEFT JOIN goals g ON g.id = c.goal_id
  WHERE (c.publisher_id IS NULL OR c.publisher_id = ?1) AND c.metric <> 'revenue'
  ORDER BY c.offer_id, c.id`;

/**
 * A page of a publisher's listing as one batch: the offers with their goals (rows of
 * PromotableGoalRow), then their caps (PublisherCapRow), both of the same page.
 */
export const publisherOffersStatements = (
  db: D1Database,
  publisherId: number,
  listing: PublisherListing,
  limit: number,
  page: { afterOfferId?: number; now?: string } = {},
): [D1PreparedStatement, D1PreparedStatement] => {
  const after = page.afterOfferId ?? 0;
  return [
    db.prepare(publisherOffersSql(listing)).bind(publisherId, limit, after, page.now ?? new Date().toISOString()),
    db.prepare(publisherOfferCapsSql(listing)).bind(publisherId, limit, after),
  ];
};

/** The offers of rows from publisherOffersSql, in order, each with its goals. */
export function groupPromotable(rows: PromotableGoalRow[]): PromotableGoalRow[][] {
  const offers = new Map<number, PromotableGoalRow[]>();
  for (const row of rows) offers.set(row.offer_id, [...(offers.get(row.offer_id) ?? []), row]);
  return [...offers.values()];
}

export interface OfferSummaryRow {
  id: number;
  advertiser_id: number;
  name: string;
  status: string;
  visibility: string;
  landing_url: string;
  click_param: string;
  currency: string;
  goals: string;
  /** 1 when the offer takes browser conversions (migration 0028), and its window for the tag's cookie. */
  browser_tracking: number;
  attribution_window_days: number;
}

/** Offers of one advertiser (or all for ?1 NULL) with their goal keys, comma-separated. */
export const OFFERS_SQL = `SELECT o.id, o.advertiser_id, o.name, o.status, o.visibility, o.landing_url, o.click_param, o.currency,
    o.browser_tracking, o.attribution_window_days,
    (SELECT group_concat(key, ', ') FROM goals WHERE offer_id = o.id) AS goals
  FROM offers o WHERE (?1 IS NULL OR o.advertiser_id = ?1) ORDER BY o.id LIMIT ?2`;

export const offerSummariesStatement = (db: D1Database, advertiserId: number | null, limit: number) =>
  db.prepare(OFFERS_SQL).bind(advertiserId, limit);

/** A party's name: the publisher's or advertiser's, for the page header. */
export const partyNameStatement = (db: D1Database, scope: PartyFilter): D1PreparedStatement =>
  scope.publisher_id !== undefined
    ? db.prepare('SELECT name FROM publishers WHERE id = ?').bind(scope.publisher_id)
    : db.prepare('SELECT name FROM advertisers WHERE id = ?').bind(scope.advertiser_id ?? 0);

/** The publisher of a delivery, through its endpoint (scope checks of the deliveries API). */
export const deliveryPublisherStatement = (db: D1Database, deliveryId: string): D1PreparedStatement =>
  db
    .prepare('SELECT e.publisher_id FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id WHERE d.id = ?')
    .bind(deliveryId);
