// GET /api/v1/reports: clicks, conversions by status, revenue, payout, conversion rate and EPC,
// grouped by any combination of day, offer and publisher over a range of days in the operator's
// time zone (TIMEZONE, or ?timezone=). Served from the rollups read model (src/db/rollups.ts),
// so its cost depends on days (quarters off UTC) × offers × publishers, not on raw click counts.
// Each row is cut for the caller: a publisher reads no revenue, an advertiser no payout.
import * as z from 'zod';
import { epcBasis, visibleTo } from '../auth/money-view';
import type { Role } from '../auth/principal';
import { readSourceReport, sourceReportShapes } from '../browser/source-report';
import {
  type ClickTotals,
  type ConversionTotals,
  type Grouped,
  type RollupGroup,
  readRollups,
  rollupPlan,
} from '../db/rollups';
import { isSubKey, type SubKey } from '../db/sub-id-reports';
import { badRequest } from '../lib/errors';
import { divideRounded, formatAmount } from '../lib/money';
import { DAY_MS, utcDay } from '../lib/time';
import { isTimeZone, operatorTimeZone, zonedDay } from '../lib/timezone';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { shapes } from '../openapi/shapes';
import { readReportRejections, splitRejections } from '../terms/report-rejections';
import { filters } from './schemas';
import { readSubIdReport, subIdReportShapes } from './sub-id-report';

const GROUPS = ['day', 'offer', 'publisher'] as const;
type Group = (typeof GROUPS)[number];
const COLUMN: Record<Group, RollupGroup> = { day: 'day', offer: 'offer_id', publisher: 'publisher_id' };

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(
    (v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && utcDay(Date.parse(`${v}T00:00:00Z`)) === v,
    'is not a date',
  );

export const reportQuery = z.object({
  from: day.optional().describe('First day in the report time zone (default: 29 days before to)'),
  to: day.optional().describe('Last day, inclusive (default: today in the report time zone)'),
  timezone: z
    .string()
    .max(64)
    .refine(isTimeZone, 'is not an IANA time zone')
    .optional()
    .describe('IANA time zone of the days, e.g. Asia/Kolkata (default: the TIMEZONE setting, else UTC)'),
  group_by: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const groups = (v ?? '').split(',').filter(Boolean);
      for (const g of groups) {
        if (!(GROUPS as readonly string[]).includes(g) && !isSubKey(g) && g !== 'source') {
          ctx.addIssue({
            code: 'custom',
            message: `unknown group ${g}; use day, offer, publisher, source or sub1..sub6`,
          });
          return z.NEVER;
        }
      }
      return [...new Set(groups)] as (Group | SubKey | 'source')[];
    })
    .describe(
      'Comma-separated: day, offer, publisher (default: one total); or one of sub1..sub6, alone or with offer, for a publisher’s conversions and payout by sub ID (SubIdReport); or source, alone or with offer or publisher, for conversions by where they came from: server, browser, claim (SourceReport)',
    ),
  offer_id: filters.offer_id(),
  publisher_id: filters.publisher_id(),
  advertiser_id: filters.advertiser_id().describe("Only this advertiser's offers (implied for an advertiser key)"),
});

const MAX_DAYS = 731;

export const reportShapes = lazy(() => {
  const { rowId, day, money, currencyCode } = shapes();
  const ReportRow = component(
    'ReportRow',
    z.strictObject({
      day: day.optional().describe('Present when grouped by day'),
      offer_id: rowId.optional().describe('Present when grouped by offer'),
      publisher_id: rowId.optional().describe('Present when grouped by publisher'),
      currency: currencyCode.nullable().describe('Currency of the money columns; null for a group without conversions'),
      clicks: z.int().min(0),
      unique_clicks: z.int().min(0),
      bot_clicks: z.int().min(0),
      impressions: z.int().min(0).describe('Impressions counted by /i/ and /aff_i (bots not counted)'),
      conversions: z.strictObject({
        pending: z.int().min(0),
        approved: z.int().min(0),
        rejected: z.int().min(0),
        reversed: z.int().min(0),
      }),
      revenue: money.optional().describe('Pending + approved revenue. Never shown to a publisher'),
      revenue_approved: money.optional().describe('Never shown to a publisher'),
      payout: money.optional().describe('Pending + approved payout. Never shown to an advertiser'),
      payout_approved: money.optional().describe('Never shown to an advertiser'),
      rejected_by_reason: z
        .record(z.string(), z.int().min(0))
        .optional()
        .describe(
          'Present when the row has rejected conversions: their count by reason (cap_reached, too_fast, ...; none when a party rejected them)',
        ),
      rejected_by_cap: z
        .array(z.strictObject({ cap_id: rowId, conversions: z.int().min(0) }))
        .optional()
        .describe('Grouped by offer, when caps refused conversions: how many each cap refused (reason cap_reached)'),
      conversion_rate: z.number().describe('(pending + approved conversions) / clicks, 4 decimals; 0 without clicks'),
      epc: money.describe(
        "Earnings per click: payout / clicks; for an advertiser, revenue / clicks (its cost per click), so EPC never carries the other side's money",
      ),
    }),
  );
  const Report = component(
    'Report',
    z.strictObject({
      from: day,
      to: day,
      timezone: z.string().describe('IANA time zone the days are in'),
      group_by: z.array(z.enum(GROUPS)),
      data: z.array(ReportRow).describe('One row per group and currency'),
    }),
  );
  return { ReportRow, Report };
});

type ReportRow = z.input<ReturnType<typeof reportShapes>['ReportRow']>;

const ratio = (numerator: number, denominator: number) =>
  denominator === 0 ? 0 : Math.round((numerator / denominator) * 10_000) / 10_000;

/**
 * One report row as `role` may see it (src/auth/money-view.ts): a group's click totals with the
 * money of one currency (or none).
 */
function reportRow(role: Role, keys: Grouped<object>, totals: ClickTotals, conv: ConversionTotals | null): ReportRow {
  const counted = (conv?.pending ?? 0) + (conv?.approved ?? 0);
  // Money sums are bigints (src/db/rollups.ts): exact past 2^53 minor units.
  const payout = (conv?.payout_pending ?? 0n) + (conv?.payout_approved ?? 0n);
  const revenue = (conv?.revenue_pending ?? 0n) + (conv?.revenue_approved ?? 0n);
  const earned = epcBasis(role) === 'payout' ? payout : revenue;
  const money = (minor: bigint) => (conv ? formatAmount(minor, conv.currency) : '0');
  return visibleTo(role, {
    ...keys,
    currency: conv?.currency ?? null,
    ...totals,
    impressions: totals.impressions ?? 0,
    conversions: {
      pending: conv?.pending ?? 0,
      approved: conv?.approved ?? 0,
      rejected: conv?.rejected ?? 0,
      reversed: conv?.reversed ?? 0,
    },
    revenue: money(revenue),
    revenue_approved: money(conv?.revenue_approved ?? 0n),
    payout: money(payout),
    payout_approved: money(conv?.payout_approved ?? 0n),
    conversion_rate: ratio(counted, totals.clicks),
    epc: money(totals.clicks === 0 ? 0n : divideRounded(earned, BigInt(totals.clicks))),
  });
}

export const reportRoutes = new ApiRoutes('/api/v1/reports', {
  name: 'Reports',
  description: 'Clicks, conversions, revenue and payout from the daily rollups.',
});

reportRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'getReport',
    summary: 'Report clicks, conversions and money',
    description:
      'Totals over days in a time zone (default TIMEZONE) from the rollups (daily ones at UTC+00:00, quarter-hour ones elsewhere), grouped by any of day, offer and publisher; money per currency. At most 731 days.',
    auth: 'admin',
    query: reportQuery,
    queryExample: { from: '2026-11-01', to: '2026-11-30', group_by: 'day,offer', timezone: 'Europe/Berlin' },
    responses: {
      200: {
        description: 'The report (SubIdReport when grouped by a sub ID, SourceReport by source)',
        schema: () =>
          z.union([reportShapes().Report, subIdReportShapes().SubIdReport, sourceReportShapes().SourceReport]),
      },
    },
  },
  async (c, { query }) => {
    const timezone = query.timezone ?? operatorTimeZone(c.env);
    const to = query.to ?? zonedDay(Date.now(), timezone);
    const from = query.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS);
    const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS;
    if (span < 0) throw badRequest('from must not be after to', { from: 'must not be after to' });
    if (span >= MAX_DAYS)
      throw badRequest(`The range is limited to ${MAX_DAYS} days`, { to: `at most ${MAX_DAYS} days after from` });

    const sub = query.group_by.find(isSubKey);
    if (sub) {
      return {
        status: 200,
        body: await readSubIdReport(c.env.DB, { ...query, sub, groups: query.group_by, from, to, timezone }),
      };
    }
    if (query.group_by.includes('source')) {
      const range = { ...query, groups: query.group_by, from, to, timezone };
      return { status: 200, body: await readSourceReport(c.env.DB, range, c.get('principal')) };
    }
    const role = c.get('principal').role;
    const groups = query.group_by as Group[];
    const keys = groups.map((g) => COLUMN[g]);
    const range = {
      from,
      to,
      zone: timezone,
      offer_id: query.offer_id,
      publisher_id: query.publisher_id,
      advertiser_id: query.advertiser_id,
    };
    const [rollups, rejections] = await Promise.all([
      readRollups(c.env.DB, range, keys),
      readReportRejections(c.env.DB, range, keys, rollupPlan(range)),
    ]);

    const groupKey = (row: Grouped<object>) => keys.map((k) => String(row[k])).join('|');
    const groupFields = (row: Grouped<object>): Grouped<object> => Object.fromEntries(keys.map((k) => [k, row[k]]));
    const clicks = new Map(rollups.clicks.map((row) => [groupKey(row), row]));
    const conversions = new Map<string, Grouped<ConversionTotals>[]>();
    for (const row of rollups.conversions) {
      const list = conversions.get(groupKey(row)) ?? [];
      list.push(row);
      conversions.set(groupKey(row), list);
    }

    const splits = splitRejections(rejections, (row) => `${groupKey(row)}|${row.currency}`, groups.includes('offer'));
    const rows: ReportRow[] = [];
    for (const key of new Set([...clicks.keys(), ...conversions.keys()])) {
      const clickRow = clicks.get(key);
      const totals: ClickTotals = {
        clicks: clickRow?.clicks ?? 0,
        unique_clicks: clickRow?.unique_clicks ?? 0,
        bot_clicks: clickRow?.bot_clicks ?? 0,
        impressions: clickRow?.impressions ?? 0,
      };
      const source = clickRow ?? conversions.get(key)?.[0] ?? {};
      // Money is reported per currency; click counts repeat on each currency row of a group.
      for (const conv of conversions.get(key) ?? [null]) {
        const split = conv && splits.get(`${key}|${conv.currency}`);
        rows.push({ ...reportRow(role, groupFields(source), totals, conv), ...split });
      }
    }
    rows.sort((a, b) => {
      for (const k of keys) {
        const x = a[k] as string | number;
        const y = b[k] as string | number;
        if (x !== y) return x < y ? -1 : 1;
      }
      return String(a.currency).localeCompare(String(b.currency));
    });
    return { status: 200, body: { from, to, timezone, group_by: groups, data: rows } };
  },
);
