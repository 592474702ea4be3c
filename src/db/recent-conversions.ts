// The newest conversions with their offer and publisher names and their deliveries counted by
// status: the dashboard's "recent" read model. Each read walks conversions_time backwards and
// stops at the limit, so its cost never grows with the table.
import type { ConversionStatus } from '../conversions/status';
import type { DeliveryStatus } from './deliveries';

export interface RecentConversionRow {
  id: string;
  created_at: string;
  order_id: string | null;
  status: ConversionStatus;
  event: string;
  offer_id: number;
  offer_name: string | null;
  publisher_id: number;
  publisher_name: string | null;
  currency: string;
  amount: number;
  payout_currency: string;
  revenue: number;
  payout: number;
  /** 'server', 'browser' or 'claim' (migration 0028). */
  source?: string;
}

export interface DeliveryCountRow {
  conversion_id: string;
  status: DeliveryStatus;
  n: number;
}

const newestIds = (limit: number) =>
  `SELECT id FROM conversions ORDER BY created_at DESC, id DESC LIMIT ${Math.trunc(limit)}`;

/** Exported so tests can check the query plans. */
export const recentConversionsSql = (limit: number) =>
  `SELECT c.id, c.created_at, c.order_id, c.status, g.key AS event, c.offer_id, o.name AS offer_name,
      c.publisher_id, p.name AS publisher_name, c.currency, c.amount, c.payout_currency, c.revenue, c.payout,
      c.source
    FROM conversions c
    JOIN goals g ON g.id = c.goal_id
    LEFT JOIN offers o ON o.id = c.offer_id
    LEFT JOIN publishers p ON p.id = c.publisher_id
    WHERE c.id IN (${newestIds(limit)})
    ORDER BY c.created_at DESC, c.id DESC`;

export const recentDeliveryCountsSql = (limit: number) =>
  `SELECT conversion_id, status, COUNT(*) AS n FROM deliveries
    WHERE conversion_id IN (${newestIds(limit)}) GROUP BY conversion_id, status`;

export const recentConversionsStatement = (db: D1Database, limit: number): D1PreparedStatement =>
  db.prepare(recentConversionsSql(limit));

export const recentDeliveryCountsStatement = (db: D1Database, limit: number): D1PreparedStatement =>
  db.prepare(recentDeliveryCountsSql(limit));

export async function recentConversions(db: D1Database, limit: number): Promise<RecentConversionRow[]> {
  return (await recentConversionsStatement(db, limit).all<RecentConversionRow>()).results;
}

export async function recentDeliveryCounts(db: D1Database, limit: number): Promise<DeliveryCountRow[]> {
  return (await recentDeliveryCountsStatement(db, limit).all<DeliveryCountRow>()).results;
}
