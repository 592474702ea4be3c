// conversions and conversion_events tables: row types shared by the postback flow (which
// writes them) and the notification flow (which reads events and their snapshots).

import type { ConversionActor, ConversionEventType, ConversionStatus } from '../conversions/status';
import { epochIsStill } from './config-epoch';

export type { ConversionEventType, ConversionStatus };

export interface ConversionRow {
  id: string;
  offer_id: number;
  goal_id: number;
  advertiser_id: number;
  publisher_id: number;
  click_id: string | null;
  click_time: string | null;
  order_id: string | null;
  dedupe_key: string;
  status: ConversionStatus;
  currency: string;
  amount: number;
  payout_currency: string;
  revenue: number;
  payout: number;
  voucher: string | null;
  description: string | null;
  products: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  /** The postback profile (or integration) that recorded it: 'canonical', 'stripe', 'browser', 'pixel', ... */
  profile: string;
  flags: string | null;
  created_at: string;
  updated_at: string;
  // Columns of migration 0008 (conversion rules); optional so rows built without them still
  // type-check, stored as NULL when absent.
  /** Why a rule set the status ('too_fast', 'too_slow', ...), NULL when a party decided. */
  reason?: string | null;
  /** JSON of the PricingTerms it was priced under (src/conversions/terms.ts). */
  pricing?: string | null;
  /** Rate from `currency` into `payout_currency` used for a sale in another currency. */
  exchange_rate?: string | null;
  /** Migration 0009: the cap that refused a conversion stored rejected with reason cap_reached. */
  cap_id?: number | null;
  /** Migration 0007: the sixth sub ID; 0014: the click's creative ids (Awin's bannerId, groupId). */
  sub6?: string | null;
  creative_id?: number | null;
  creative_group_id?: number | null;
  /** Migration 0029: 'server' | 'browser' | 'claim' (the contract's source). */
  source?: string;
  /** 'click' | 'affiliate' | 'coupon' | 'view_through', and the claim that lost a conflict. */
  attribution?: string | null;
  attribution_note?: string | null;
}

export interface ConversionEventRow {
  id: string;
  conversion_id: string;
  type: ConversionEventType;
  from_status: ConversionStatus | null;
  to_status: ConversionStatus;
  actor: ConversionActor;
  reason: string | null;
  /** JSON of a ConversionSnapshot (src/conversions/snapshot.ts). */
  snapshot: string;
  created_at: string;
}

/** A conversion with its goal key, as the admin API and the postback answer present it. */
export interface ConversionWithGoal extends ConversionRow {
  goal_key: string;
}

const WITH_GOAL = 'SELECT c.*, g.key AS goal_key FROM conversions c JOIN goals g ON g.id = c.goal_id';

export const getConversion = (db: D1Database, id: string) =>
  db.prepare(`${WITH_GOAL} WHERE c.id = ?`).bind(id).first<ConversionWithGoal>();

/**
 * Conversions of an offer holding any of these deduplication keys, across goals: `o:<order id>`
 * finds a conversion by the advertiser's order ID for a status update.
 */
export function conversionsByKeysStatement(db: D1Database, offerId: number, dedupeKeys: string[]) {
  // goal_id IN (...) lets SQLite use the UNIQUE (offer_id, goal_id, dedupe_key) index. The unary
  // + keeps it from ordering by conversions_offer_time instead, which walks every conversion of
  // the offer (a postback's cost grew with the offer's history; test/flows/postback-plans.test.ts).
  return db
    .prepare(
      `${WITH_GOAL} WHERE c.offer_id = ?1 AND c.goal_id IN (SELECT id FROM goals WHERE offer_id = ?1)
       AND c.dedupe_key IN (SELECT value FROM json_each(?2)) ORDER BY +c.created_at LIMIT 20`,
    )
    .bind(offerId, JSON.stringify(dedupeKeys));
}

export async function findConversionsByKeys(db: D1Database, offerId: number, dedupeKeys: string[]) {
  const { results } = await conversionsByKeysStatement(db, offerId, dedupeKeys).all<ConversionWithGoal>();
  return results;
}

export async function listConversionEvents(db: D1Database, conversionId: string) {
  const { results } = await db
    .prepare('SELECT * FROM conversion_events WHERE conversion_id = ? ORDER BY created_at, rowid')
    .bind(conversionId)
    .all<ConversionEventRow>();
  return results;
}

const CONVERSION_COLUMNS = [
  'id',
  'offer_id',
  'goal_id',
  'advertiser_id',
  'publisher_id',
  'click_id',
  'click_time',
  'order_id',
  'dedupe_key',
  'status',
  'currency',
  'amount',
  'payout_currency',
  'revenue',
  'payout',
  'voucher',
  'description',
  'products',
  'sub1',
  'sub2',
  'sub3',
  'sub4',
  'sub5',
  'sub6',
  'creative_id',
  'creative_group_id',
  'profile',
  'source',
  'attribution',
  'attribution_note',
  'flags',
  'created_at',
  'updated_at',
  'reason',
  'pricing',
  'exchange_rate',
] as const satisfies readonly (keyof ConversionRow)[];

/**
 * Inserts a conversion unless its (offer, goal, dedupe_key) is taken; the database, not a read
 * before the write, decides which of two concurrent postbacks creates it. Statements that
 * follow in the same batch check that this row id exists before they do anything.
 */
export function insertConversionStatement(db: D1Database, row: ConversionRow): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO conversions (${CONVERSION_COLUMNS.join(', ')})
       VALUES (${CONVERSION_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (offer_id, goal_id, dedupe_key) DO NOTHING`,
    )
    .bind(...CONVERSION_COLUMNS.map((column) => columnValue(row, column)));
}

/** A row that names no source is a server's (the column's default, which a bound NULL would defeat). */
const columnValue = (row: ConversionRow, column: (typeof CONVERSION_COLUMNS)[number]) =>
  column === 'source' ? (row.source ?? 'server') : (row[column] ?? null);

/**
 * The insert of a conversion priced from an isolate's memory (src/postback/config-cache.ts):
 * written only while the config epoch is still `epoch`, and, for the keys in `anyGoalKeys`, only
 * if no conversion of the offer holds one under any goal (what a postback without a goal would
 * have updated instead). Nothing written otherwise, as on a duplicate key.
 */
export function insertConversionIfCurrentStatement(
  db: D1Database,
  row: ConversionRow,
  epoch: string,
  anyGoalKeys: string[],
): D1PreparedStatement {
  const n = CONVERSION_COLUMNS.length;
  const offer = CONVERSION_COLUMNS.indexOf('offer_id') + 1;
  return db
    .prepare(
      `INSERT INTO conversions (${CONVERSION_COLUMNS.join(', ')})
       SELECT ${CONVERSION_COLUMNS.map((_, i) => `?${i + 1}`).join(', ')}
       WHERE ${epochIsStill(`?${n + 1}`)}
         AND NOT EXISTS (SELECT 1 FROM conversions WHERE offer_id = ?${offer}
           AND goal_id IN (SELECT id FROM goals WHERE offer_id = ?${offer})
           AND dedupe_key IN (SELECT value FROM json_each(?${n + 2})))
       ON CONFLICT (offer_id, goal_id, dedupe_key) DO NOTHING`,
    )
    .bind(...CONVERSION_COLUMNS.map((column) => columnValue(row, column)), epoch, JSON.stringify(anyGoalKeys));
}

/** Sets a new status only if the conversion still has the status the change was decided on. */
export function updateConversionStatusStatement(
  db: D1Database,
  id: string,
  from: ConversionStatus,
  to: ConversionStatus,
  now: string,
): D1PreparedStatement {
  return db
    .prepare('UPDATE conversions SET status = ?, updated_at = ? WHERE id = ? AND status = ?')
    .bind(to, now, id, from);
}

/** The columns of a conversion event, numbered ?1..?9 in this order by every insert below. */
const INSERT_EVENT =
  'INSERT INTO conversion_events (id, conversion_id, type, from_status, to_status, actor, reason, snapshot, created_at)';
const eventValues = (e: ConversionEventRow) =>
  [e.id, e.conversion_id, e.type, e.from_status, e.to_status, e.actor, e.reason, e.snapshot, e.created_at] as const;

/** Inserted only when the conversion `conversion_id` exists (its insert was not a duplicate). */
export function insertEventIfConversionStatement(db: D1Database, event: ConversionEventRow): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT_EVENT}
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM conversions WHERE id = ?2)`,
    )
    .bind(...eventValues(event));
}

/**
 * The event of a status change, written first in its batch. If the conversion no longer has
 * `event.from_status` (a concurrent change won), to_status becomes NULL, the NOT NULL
 * constraint fails and the whole batch rolls back: nothing is half-applied, and the caller
 * re-reads the conversion and decides again. See isStaleStatusError.
 */
export function insertGuardedStatusEventStatement(db: D1Database, event: ConversionEventRow): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT_EVENT}
       VALUES (?1, ?2, ?3, ?4,
         CASE WHEN (SELECT status FROM conversions WHERE id = ?2) = ?4 THEN ?5 ELSE NULL END,
         ?6, ?7, ?8, ?9)`,
    )
    .bind(...eventValues(event));
}

/**
 * The event of an adjustment (conversion.modified), written first in its batch: like the
 * guarded status event, it aborts the batch (to_status NULL) unless the conversion still has
 * the status and updated_at the adjustment was computed from.
 */
export function insertGuardedModifiedEventStatement(
  db: D1Database,
  event: ConversionEventRow,
  expectedUpdatedAt: string,
): D1PreparedStatement {
  return db
    .prepare(
      `${INSERT_EVENT}
       VALUES (?1, ?2, ?3, ?4,
         CASE WHEN (SELECT status = ?4 AND updated_at = ?10 FROM conversions WHERE id = ?2) THEN ?5 ELSE NULL END,
         ?6, ?7, ?8, ?9)`,
    )
    .bind(...eventValues(event), expectedUpdatedAt);
}

/** New amounts of an adjusted conversion (its guard is the event statement before it). */
export function updateConversionAmountsStatement(
  db: D1Database,
  id: string,
  amounts: Pick<ConversionRow, 'amount' | 'products' | 'revenue' | 'payout'>,
  now: string,
): D1PreparedStatement {
  return db
    .prepare('UPDATE conversions SET amount = ?, products = ?, revenue = ?, payout = ?, updated_at = ? WHERE id = ?')
    .bind(amounts.amount, amounts.products, amounts.revenue, amounts.payout, now, id);
}

/**
 * Pending conversions whose goal's validation period has passed at `now`, oldest first, except
 * flagged ones of offers that hold flagged conversions and browser ones of offers that hold those. Served by conversions_status_time.
 */
export async function dueForValidation(db: D1Database, now: string, limit: number) {
  const { results } = await db
    .prepare(
      `SELECT c.*, g.key AS goal_key FROM conversions c
       JOIN goals g ON g.id = c.goal_id JOIN offers o ON o.id = c.offer_id
       WHERE c.status = 'pending' AND c.created_at <= ?1 AND g.validation_days IS NOT NULL
         AND c.created_at <= strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || g.validation_days || ' days')
         AND NOT (o.hold_flagged = 1 AND c.flags IS NOT NULL AND c.flags <> '[]')
         AND NOT (o.hold_browser = 1 AND c.source = 'browser')
       ORDER BY c.created_at LIMIT ?2`,
    )
    .bind(now, limit)
    .all<ConversionWithGoal>();
  return results;
}

export function isStaleStatusError(error: unknown): boolean {
  return error instanceof Error && /NOT NULL constraint failed: conversion_events\.to_status/.test(error.message);
}

export type StatsColumn =
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'reversed'
  | 'revenue_pending'
  | 'revenue_approved'
  | 'payout_pending'
  | 'payout_approved';

/** The money and count columns of the conversion rollups (daily and quarter-hour), in table order. */
export const STATS_COLUMNS: readonly StatsColumn[] = [
  'pending',
  'approved',
  'rejected',
  'reversed',
  'revenue_pending',
  'revenue_approved',
  'payout_pending',
  'payout_approved',
];

export interface StatsKey {
  day: string;
  offer_id: number;
  publisher_id: number;
  currency: string;
}

/**
 * Adds `delta` to one daily_conversion_stats row (creating it), only when the conversion
 * `conversionId` exists, so a batch whose conversion insert was a duplicate counts nothing.
 */
export function addConversionStatsStatement(
  db: D1Database,
  key: StatsKey,
  delta: Partial<Record<StatsColumn, number>>,
  conversionId: string,
): D1PreparedStatement {
  const values = STATS_COLUMNS.map((column) => delta[column] ?? 0);
  return db
    .prepare(
      `INSERT INTO daily_conversion_stats (day, offer_id, publisher_id, currency, ${STATS_COLUMNS.join(', ')})
       SELECT ?, ?, ?, ?, ${STATS_COLUMNS.map(() => '?').join(', ')}
       WHERE EXISTS (SELECT 1 FROM conversions WHERE id = ?)
       ON CONFLICT (day, offer_id, publisher_id, currency) DO UPDATE SET
         ${STATS_COLUMNS.map((column) => `${column} = ${column} + excluded.${column}`).join(',\n         ')}`,
    )
    .bind(key.day, key.offer_id, key.publisher_id, key.currency, ...values, conversionId);
}

export interface ConversionFilters {
  status?: ConversionStatus;
  offer_id?: number;
  publisher_id?: number;
  advertiser_id?: number;
  click_id?: string;
  order_id?: string;
  /** created_at >= from */
  from?: string;
  /** created_at < to */
  to?: string;
}

/** Newest first; `before` is the (created_at, id) of the last row of the previous page. */
export async function listConversions(
  db: D1Database,
  filters: ConversionFilters,
  before: { created_at: string; id: string } | undefined,
  limit: number,
) {
  const where: string[] = [];
  const binds: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    where.push(sql);
    binds.push(value);
  };
  if (filters.status) add('c.status = ?', filters.status);
  if (filters.offer_id !== undefined) add('c.offer_id = ?', filters.offer_id);
  if (filters.publisher_id !== undefined) add('c.publisher_id = ?', filters.publisher_id);
  if (filters.advertiser_id !== undefined) add('c.advertiser_id = ?', filters.advertiser_id);
  if (filters.click_id) add('c.click_id = ?', filters.click_id);
  if (filters.order_id) add('c.order_id = ?', filters.order_id);
  if (filters.from) add('c.created_at >= ?', filters.from);
  if (filters.to) add('c.created_at < ?', filters.to);
  if (before) {
    where.push('(c.created_at, c.id) < (?, ?)');
    binds.push(before.created_at, before.id);
  }
  const { results } = await db
    .prepare(
      `${WITH_GOAL} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY c.created_at DESC, c.id DESC LIMIT ?`,
    )
    .bind(...binds, limit)
    .all<ConversionWithGoal>();
  return results;
}
