// GET /api/v1/reports?group_by=source (alone, or with offer or publisher): conversions and money
// per source (server, browser, claim) over days in the report time zone, read from the range of
// conversions (src/db/source-report.ts). Each party sees its own side of the money only: a
// publisher no revenue, an advertiser no payout.
import * as z from 'zod';
import type { Principal } from '../auth/principal';
import { type SourceGroup, sourceReport } from '../db/source-report';
import { badRequest } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { zonedDaysWindow } from '../lib/timezone';
import { component, lazy } from '../openapi/operation';
import { shapes } from '../openapi/shapes';

export const sourceReportShapes = lazy(() => {
  const { rowId, day, money, currencyCode } = shapes();
  const SourceReportRow = component(
    'SourceReportRow',
    z.strictObject({
      source: z.enum(['server', 'browser', 'claim']).describe('Where the conversions came from'),
      offer_id: rowId.optional().describe('Present when grouped by offer as well'),
      publisher_id: rowId.optional().describe('Present when grouped by publisher as well'),
      currency: currencyCode,
      conversions: z.strictObject({
        pending: z.int().min(0),
        approved: z.int().min(0),
        rejected: z.int().min(0),
        reversed: z.int().min(0),
      }),
      revenue: money.optional().describe('Pending + approved revenue (not shown to publishers)'),
      revenue_approved: money.optional(),
      payout: money.optional().describe('Pending + approved payout (not shown to advertisers)'),
      payout_approved: money.optional(),
    }),
  );
  const SourceReport = component(
    'SourceReport',
    z.strictObject({
      from: day,
      to: day,
      timezone: z.string().describe('IANA time zone the days are in'),
      group_by: z.array(z.string()),
      data: z.array(SourceReportRow).describe('One row per source (and offer or publisher) and currency'),
    }),
  );
  return { SourceReportRow, SourceReport };
});

type SourceReport = z.input<ReturnType<typeof sourceReportShapes>['SourceReport']>;

const GROUP_COLUMN: Record<string, SourceGroup> = { offer: 'offer_id', publisher: 'publisher_id' };

export interface SourceReportQuery {
  groups: string[];
  from: string;
  to: string;
  timezone: string;
  offer_id?: number;
  publisher_id?: number;
  advertiser_id?: number;
}

export async function readSourceReport(
  db: D1Database,
  query: SourceReportQuery,
  principal: Principal | undefined,
): Promise<SourceReport> {
  const others = query.groups.filter((g) => g !== 'source');
  if (others.length > 1 || others.some((g) => !(g in GROUP_COLUMN))) {
    throw badRequest('source groups alone or with one of offer, publisher', {
      group_by: 'source combines with offer or publisher only',
    });
  }
  const groups = others.map((g) => GROUP_COLUMN[g] as SourceGroup);
  const rows = await sourceReport(db, {
    groups,
    ...zonedDaysWindow(query.from, query.to, query.timezone),
    offerId: query.offer_id,
    publisherId: query.publisher_id,
    advertiserId: query.advertiser_id,
  });
  const role = principal?.role ?? 'operator';
  return {
    from: query.from,
    to: query.to,
    timezone: query.timezone,
    group_by: query.groups,
    data: rows.map((row) => ({
      source: row.source as 'server' | 'browser' | 'claim',
      ...(row.offer_id === undefined ? {} : { offer_id: row.offer_id }),
      ...(row.publisher_id === undefined ? {} : { publisher_id: row.publisher_id }),
      currency: row.currency,
      conversions: { pending: row.pending, approved: row.approved, rejected: row.rejected, reversed: row.reversed },
      ...(role === 'publisher'
        ? {}
        : {
            revenue: formatAmount(row.revenue, row.currency),
            revenue_approved: formatAmount(row.revenue_approved, row.currency),
          }),
      ...(role === 'advertiser'
        ? {}
        : {
            payout: formatAmount(row.payout, row.currency),
            payout_approved: formatAmount(row.payout_approved, row.currency),
          }),
    })),
  };
}
