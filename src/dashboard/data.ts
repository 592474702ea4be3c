// What the dashboard shows, read in ONE D1 batch (one round trip, one consistent snapshot):
// today's and the last 30 days' totals from the daily rollups, whose size depends on days x
// offers x publishers x currencies and never on raw click counts, and the newest conversions
// with their delivery counts, each read through an index and bounded by RECENT_LIMIT.
import type { ConversionStatus } from '../db/conversions';
import { DAY_MS, utcDay } from '../lib/time';
import type { DeliveryStatus } from '../notify/store';

export const CHART_DAYS = 30;
export const RECENT_LIMIT = 20;

export interface ClickTotals {
  /** Human clicks (bots are counted apart, as in the reports). */
  clicks: number;
  unique_clicks: number;
  bot_clicks: number;
}

export interface StatusCounts {
  pending: number;
  approved: number;
  rejected: number;
  reversed: number;
}

/** Money of one payout currency; minor units, pending + approved (what is still owed or earned). */
export interface CurrencyTotals {
  currency: string;
  /** Pending + approved conversions in this currency. */
  conversions: number;
  revenue: number;
  payout: number;
}

export interface DayTotals {
  day: string;
  clicks: number;
  /** Pending + approved conversions created that day. */
  conversions: number;
}

export type DeliveryCounts = Record<DeliveryStatus, number>;

export interface RecentConversion {
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
  /** Deliveries of all its events, by status; all zero when no endpoint took any event. */
  deliveries: DeliveryCounts;
}

export interface DashboardData {
  /** ISO time the numbers were read. */
  generated_at: string;
  /** The UTC day "today" refers to. */
  today: string;
  clicks: ClickTotals;
  conversions: StatusCounts;
  money: CurrencyTotals[];
  /** CHART_DAYS entries, oldest first, ending today; days without data are zeros. */
  days: DayTotals[];
  /** Newest first, at most RECENT_LIMIT. */
  recent: RecentConversion[];
}

interface ClickDayRow extends ClickTotals {
  day: string;
}

interface ConversionDayRow extends StatusCounts {
  day: string;
  currency: string;
  revenue_pending: number;
  revenue_approved: number;
  payout_pending: number;
  payout_approved: number;
}

type RecentRow = Omit<RecentConversion, 'deliveries'>;

interface DeliveryCountRow {
  conversion_id: string;
  status: DeliveryStatus;
  n: number;
}

// The newest conversions, walked backwards on conversions_time (created_at); LIMIT bounds it.
const RECENT_IDS = `SELECT id FROM conversions ORDER BY created_at DESC, id DESC LIMIT ${RECENT_LIMIT}`;

/** The dashboard's statements, exported so a test can check their query plans. ?1..?2 = first and last day. */
export const DASHBOARD_SQL = {
  clicksByDay: `SELECT day, SUM(clicks) AS clicks, SUM(unique_clicks) AS unique_clicks, SUM(bot_clicks) AS bot_clicks
    FROM daily_click_stats WHERE day BETWEEN ?1 AND ?2 GROUP BY day`,
  conversionsByDay: `SELECT day, currency, SUM(pending) AS pending, SUM(approved) AS approved, SUM(rejected) AS rejected,
      SUM(reversed) AS reversed, SUM(revenue_pending) AS revenue_pending, SUM(revenue_approved) AS revenue_approved,
      SUM(payout_pending) AS payout_pending, SUM(payout_approved) AS payout_approved
    FROM daily_conversion_stats WHERE day BETWEEN ?1 AND ?2 GROUP BY day, currency`,
  recentConversions: `SELECT c.id, c.created_at, c.order_id, c.status, g.key AS event, c.offer_id, o.name AS offer_name,
      c.publisher_id, p.name AS publisher_name, c.currency, c.amount, c.payout_currency, c.revenue, c.payout
    FROM conversions c
    JOIN goals g ON g.id = c.goal_id
    LEFT JOIN offers o ON o.id = c.offer_id
    LEFT JOIN publishers p ON p.id = c.publisher_id
    WHERE c.id IN (${RECENT_IDS})
    ORDER BY c.created_at DESC, c.id DESC`,
  recentDeliveries: `SELECT conversion_id, status, COUNT(*) AS n FROM deliveries
    WHERE conversion_id IN (${RECENT_IDS}) GROUP BY conversion_id, status`,
} as const;

export async function loadDashboard(db: D1Database, nowMs: number): Promise<DashboardData> {
  const today = utcDay(nowMs);
  const first = utcDay(nowMs - (CHART_DAYS - 1) * DAY_MS);
  const [clickResult, conversionResult, recentResult, deliveryResult] = await db.batch([
    db.prepare(DASHBOARD_SQL.clicksByDay).bind(first, today),
    db.prepare(DASHBOARD_SQL.conversionsByDay).bind(first, today),
    db.prepare(DASHBOARD_SQL.recentConversions),
    db.prepare(DASHBOARD_SQL.recentDeliveries),
  ]);

  const clickRows = (clickResult?.results ?? []) as ClickDayRow[];
  const conversionRows = (conversionResult?.results ?? []) as ConversionDayRow[];

  const clicksByDay = new Map(clickRows.map((row) => [row.day, row]));
  const conversionsByDay = new Map<string, number>();
  const conversions: StatusCounts = { pending: 0, approved: 0, rejected: 0, reversed: 0 };
  const money = new Map<string, CurrencyTotals>();
  for (const row of conversionRows) {
    conversionsByDay.set(row.day, (conversionsByDay.get(row.day) ?? 0) + row.pending + row.approved);
    if (row.day !== today) continue;
    conversions.pending += row.pending;
    conversions.approved += row.approved;
    conversions.rejected += row.rejected;
    conversions.reversed += row.reversed;
    const totals = money.get(row.currency) ?? { currency: row.currency, conversions: 0, revenue: 0, payout: 0 };
    totals.conversions += row.pending + row.approved;
    totals.revenue += row.revenue_pending + row.revenue_approved;
    totals.payout += row.payout_pending + row.payout_approved;
    money.set(row.currency, totals);
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
    },
    conversions,
    money: [...money.values()].filter((m) => m.conversions > 0).sort((a, b) => a.currency.localeCompare(b.currency)),
    days,
    recent: ((recentResult?.results ?? []) as RecentRow[]).map((row) => ({
      ...row,
      deliveries: deliveries.get(row.id) ?? emptyDeliveryCounts(),
    })),
  };
}

const emptyDeliveryCounts = (): DeliveryCounts => ({ delivered: 0, retrying: 0, pending: 0, dead: 0 });
