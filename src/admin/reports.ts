// GET /api/v1/reports: clicks, conversions by status, revenue, payout, conversion rate and EPC,
// grouped by any combination of day, offer and publisher over a UTC date range. Served from the
// daily rollups, so its cost depends on days × offers × publishers, not on raw click counts.
import { Hono } from 'hono';
import * as z from 'zod';
import { badRequest } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { DAY_MS, utcDay } from '../lib/time';
import { parseWith } from '../lib/validate';
import { idParam } from './schemas';

const GROUPS = ['day', 'offer', 'publisher'] as const;
type Group = (typeof GROUPS)[number];
const COLUMN: Record<Group, string> = { day: 'day', offer: 'offer_id', publisher: 'publisher_id' };

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC date YYYY-MM-DD')
  .refine(
    (v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && utcDay(Date.parse(`${v}T00:00:00Z`)) === v,
    'is not a date',
  );

export const reportQuery = z.object({
  from: day.optional(),
  to: day.optional(),
  group_by: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const groups = (v ?? '').split(',').filter(Boolean);
      for (const g of groups) {
        if (!(GROUPS as readonly string[]).includes(g)) {
          ctx.addIssue({ code: 'custom', message: `unknown group ${g}; use day, offer, publisher` });
          return z.NEVER;
        }
      }
      return [...new Set(groups)] as Group[];
    }),
  offer_id: idParam.optional(),
  publisher_id: idParam.optional(),
});

const MAX_DAYS = 731;

interface ClickTotals {
  clicks: number;
  unique_clicks: number;
  bot_clicks: number;
}

interface ConversionTotals {
  currency: string;
  pending: number;
  approved: number;
  rejected: number;
  reversed: number;
  revenue_pending: number;
  revenue_approved: number;
  payout_pending: number;
  payout_approved: number;
}

const ratio = (numerator: number, denominator: number) =>
  denominator === 0 ? 0 : Math.round((numerator / denominator) * 10_000) / 10_000;

export const reportRoutes = new Hono<{ Bindings: Env }>();

reportRoutes.get('/', async (c) => {
  const query = parseWith(reportQuery, c.req.query());
  const to = query.to ?? utcDay(Date.now());
  const from = query.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS);
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS;
  if (span < 0) throw badRequest('from must not be after to', { from: 'must not be after to' });
  if (span >= MAX_DAYS)
    throw badRequest(`The range is limited to ${MAX_DAYS} days`, { to: `at most ${MAX_DAYS} days after from` });

  const groups = query.group_by;
  const keys = groups.map((g) => COLUMN[g]);
  const select = keys.length > 0 ? `${keys.join(', ')}, ` : '';
  const groupBy = (extra: string[]) =>
    keys.length + extra.length > 0 ? `GROUP BY ${[...keys, ...extra].join(', ')}` : '';
  // D1 wants every numbered parameter used, so the optional filters are written as IS NULL OR.
  const where = 'day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR offer_id = ?3) AND (?4 IS NULL OR publisher_id = ?4)';
  const binds = [from, to, query.offer_id ?? null, query.publisher_id ?? null];

  const [clickResult, conversionResult] = await c.env.DB.batch([
    c.env.DB.prepare(
      `SELECT ${select}SUM(clicks) AS clicks, SUM(unique_clicks) AS unique_clicks, SUM(bot_clicks) AS bot_clicks
       FROM daily_click_stats WHERE ${where} ${groupBy([])}`,
    ).bind(...binds),
    c.env.DB.prepare(
      `SELECT ${select}currency, SUM(pending) AS pending, SUM(approved) AS approved, SUM(rejected) AS rejected,
         SUM(reversed) AS reversed, SUM(revenue_pending) AS revenue_pending, SUM(revenue_approved) AS revenue_approved,
         SUM(payout_pending) AS payout_pending, SUM(payout_approved) AS payout_approved
       FROM daily_conversion_stats WHERE ${where} ${groupBy(['currency'])}`,
    ).bind(...binds),
  ]);

  const groupKey = (row: Record<string, unknown>) => keys.map((k) => String(row[k])).join('|');
  const groupFields = (row: Record<string, unknown>) => Object.fromEntries(keys.map((k) => [k, row[k]]));
  const clicks = new Map<string, Record<string, unknown> & ClickTotals>();
  for (const row of (clickResult?.results ?? []) as (Record<string, unknown> & ClickTotals)[]) {
    if (row.clicks !== null) clicks.set(groupKey(row), row);
  }
  const conversions = new Map<string, (Record<string, unknown> & ConversionTotals)[]>();
  for (const row of (conversionResult?.results ?? []) as (Record<string, unknown> & ConversionTotals)[]) {
    if (row.currency === null) continue;
    const list = conversions.get(groupKey(row)) ?? [];
    list.push(row);
    conversions.set(groupKey(row), list);
  }

  const rows = [];
  for (const key of new Set([...clicks.keys(), ...conversions.keys()])) {
    const clickRow = clicks.get(key);
    const totals: ClickTotals = {
      clicks: clickRow?.clicks ?? 0,
      unique_clicks: clickRow?.unique_clicks ?? 0,
      bot_clicks: clickRow?.bot_clicks ?? 0,
    };
    const source = clickRow ?? (conversions.get(key)?.[0] as Record<string, unknown>);
    // Money is reported per currency; click counts repeat on each currency row of a group.
    const perCurrency = conversions.get(key) ?? [null];
    for (const conv of perCurrency) {
      const counted = (conv?.pending ?? 0) + (conv?.approved ?? 0);
      const payout = (conv?.payout_pending ?? 0) + (conv?.payout_approved ?? 0);
      const revenue = (conv?.revenue_pending ?? 0) + (conv?.revenue_approved ?? 0);
      const money = (minor: number) => (conv ? formatAmount(minor, conv.currency) : '0');
      rows.push({
        ...groupFields(source),
        currency: conv?.currency ?? null,
        ...totals,
        conversions: {
          pending: conv?.pending ?? 0,
          approved: conv?.approved ?? 0,
          rejected: conv?.rejected ?? 0,
          reversed: conv?.reversed ?? 0,
        },
        revenue: money(revenue),
        revenue_approved: money(conv?.revenue_approved ?? 0),
        payout: money(payout),
        payout_approved: money(conv?.payout_approved ?? 0),
        conversion_rate: ratio(counted, totals.clicks),
        epc: conv ? formatAmount(totals.clicks === 0 ? 0 : Math.round(payout / totals.clicks), conv.currency) : '0',
      });
    }
  }
  rows.sort((a, b) => {
    for (const k of keys) {
      const x = (a as Record<string, unknown>)[k] as string | number;
      const y = (b as Record<string, unknown>)[k] as string | number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return String(a.currency).localeCompare(String(b.currency));
  });
  return c.json({ from, to, group_by: groups, data: rows });
});
