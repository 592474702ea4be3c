// What the dashboard shows, read in ONE D1 batch (one round trip, one consistent snapshot):
// today's and the last 30 days' totals from the rollups read model (src/db/rollups.ts) and the
// newest conversions with their delivery counts (src/db/recent-conversions.ts).
import type { ConversionStatus } from '../conversions/status';
import type { DeliveryStatus } from '../db/deliveries';
import {
  type DeliveryCountRow,
  type RecentConversionRow,
  recentConversionsSql,
  recentConversionsStatement,
  recentDeliveryCountsSql,
  recentDeliveryCountsStatement,
} from '../db/recent-conversions';
import { type CappedConversionsRow, cappedConversionsStatement } from '../db/rejected-conversions';
import {
  type ClickTotals,
  CONVERSION_COUNTS_BY_DAY_SQL,
  type ConversionTotals,
  type ConversionTotalsRow,
  clickTotalsStatement,
  conversionCountsByDayStatement,
  conversionTotalsOf,
  conversionTotalsStatement,
  type DayConversionCounts,
  type Grouped,
  rollupSql,
} from '../db/rollups';
import { DAY_MS, iso, utcDay } from '../lib/time';
import { CAPPED_DAYS, CAPPED_LIMIT } from './capped-conversions';

export const CHART_DAYS = 30;
export const RECENT_LIMIT = 20;

export type { ClickTotals };

export type StatusCounts = Pick<ConversionTotals, ConversionStatus>;

/** Money of one payout currency; minor units, pending + approved (what is still owed or earned). */
export interface CurrencyTotals {
  currency: string;
  /** Pending + approved conversions in this currency. */
  conversions: number;
  revenue: bigint;
  payout: bigint;
}

export interface DayTotals {
  day: string;
  clicks: number;
  /** Pending + approved conversions created that day. */
  conversions: number;
}

export type DeliveryCounts = Record<DeliveryStatus, number>;

export interface RecentConversion extends RecentConversionRow {
  /** Deliveries of all its events, by status; all zero when no endpoint took any event. */
  deliveries: DeliveryCounts;
}

export interface DashboardData {
  /** ISO time the numbers were read. */
  generated_at: string;
  /** The UTC day "today" refers to. */
  today: string;
  /** Human clicks (bots are counted apart, as in the reports). */
  clicks: ClickTotals;
  conversions: StatusCounts;
  money: CurrencyTotals[];
  /** CHART_DAYS entries, oldest first, ending today; days without data are zeros. */
  days: DayTotals[];
  /** Newest first, at most RECENT_LIMIT. */
  recent: RecentConversion[];
  /** Caps that refused conversions in the last CAPPED_DAYS days, latest refusal first. */
  capped?: CappedConversionsRow[];
}

/** The dashboard's statements as SQL, so a test can check their query plans. ?1..?2 = first and last day. */
export const DASHBOARD_SQL = {
  clicksByDay: rollupSql('daily_click_stats', ['day']),
  conversionsByDay: CONVERSION_COUNTS_BY_DAY_SQL,
  conversionsToday: rollupSql('daily_conversion_stats', []),
  recentConversions: recentConversionsSql(RECENT_LIMIT),
  recentDeliveries: recentDeliveryCountsSql(RECENT_LIMIT),
} as const;

export async function loadDashboard(db: D1Database, nowMs: number): Promise<DashboardData> {
  const today = utcDay(nowMs);
  const range = { from: utcDay(nowMs - (CHART_DAYS - 1) * DAY_MS), to: today };
  const [clickResult, countResult, todayResult, recentResult, deliveryResult, cappedResult] = await db.batch([
    clickTotalsStatement(db, range, ['day']),
    // The chart's conversion counts, then today's by currency with their money: one day's rows.
    conversionCountsByDayStatement(db, range),
    conversionTotalsStatement(db, { from: today, to: today }, []),
    recentConversionsStatement(db, RECENT_LIMIT),
    recentDeliveryCountsStatement(db, RECENT_LIMIT),
    cappedConversionsStatement(db, iso(nowMs - CAPPED_DAYS * DAY_MS), CAPPED_LIMIT),
  ]);

  const clickRows = (clickResult?.results ?? []) as Grouped<ClickTotals>[];
  const countRows = (countResult?.results ?? []) as DayConversionCounts[];
  const todayRows = conversionTotalsOf((todayResult?.results ?? []) as ConversionTotalsRow[]);

  const clicksByDay = new Map(clickRows.map((row) => [row.day, row]));
  const conversionsByDay = new Map(countRows.map((row) => [row.day, row.pending + row.approved]));
  const conversions: StatusCounts = { pending: 0, approved: 0, rejected: 0, reversed: 0 };
  const money = new Map<string, CurrencyTotals>();
  for (const row of todayRows) {
    conversions.pending += row.pending;
    conversions.approved += row.approved;
    conversions.rejected += row.rejected;
    conversions.reversed += row.reversed;
    money.set(row.currency, {
      currency: row.currency,
      conversions: row.pending + row.approved,
      revenue: row.revenue_pending + row.revenue_approved,
      payout: row.payout_pending + row.payout_approved,
    });
  }

  const days: DayTotals[] = [];
  for (let i = CHART_DAYS - 1; i >= 0; i--) {
    const day = utcDay(nowMs - i * DAY_MS);
    days.push({ day, clicks: clicksByDay.get(day)?.clicks ?? 0, conversions: conversionsByDay.get(day) ?? 0 });
  }

  const todayClicks = clicksByDay.get(today);
  const deliveries = new Map<string, DeliveryCounts>();
  for (const row of (deliveryResult?.results ?? []) as DeliveryCountRow[]) {
    const counts = deliveries.get(row.conversion_id) ?? emptyDeliveryCounts();
    counts[row.status] = row.n;
    deliveries.set(row.conversion_id, counts);
  }

  return {
    generated_at: new Date(nowMs).toISOString(),
    today,
    clicks: {
      clicks: todayClicks?.clicks ?? 0,
      unique_clicks: todayClicks?.unique_clicks ?? 0,
      bot_clicks: todayClicks?.bot_clicks ?? 0,
      impressions: todayClicks?.impressions ?? 0,
    },
    conversions,
    money: [...money.values()].filter((m) => m.conversions > 0).sort((a, b) => a.currency.localeCompare(b.currency)),
    days,
    recent: ((recentResult?.results ?? []) as RecentConversionRow[]).map((row) => ({
      ...row,
      deliveries: deliveries.get(row.id) ?? emptyDeliveryCounts(),
    })),
    capped: (cappedResult?.results ?? []) as CappedConversionsRow[],
  };
}

const emptyDeliveryCounts = (): DeliveryCounts => ({ delivered: 0, retrying: 0, pending: 0, dead: 0 });
