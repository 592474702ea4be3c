// GET /api/v1/reports?group_by=sub1 (..sub6, optionally with offer): a publisher's conversions
// and payout per sub ID value over days in the report time zone, from a range of its
// conversions (src/db/sub-id-reports.ts). Revenue is left out for every caller: this is the
// publisher's view of its own tracking values, and clicks are not counted by sub ID.
import * as z from 'zod';
import { type SubKey, subIdReport } from '../db/sub-id-reports';
import { badRequest } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { zonedDaysWindow } from '../lib/timezone';
import { component, lazy } from '../openapi/operation';
import { shapes } from '../openapi/shapes';

export const subIdReportShapes = lazy(() => {
  const { rowId, day, money, currencyCode } = shapes();
  const SubIdReportRow = component(
    'SubIdReportRow',
    z.strictObject({
      value: z.string().nullable().describe('The sub ID value; null for conversions without one'),
      offer_id: rowId.optional().describe('Present when grouped by offer as well'),
      currency: currencyCode,
      conversions: z.strictObject({
        pending: z.int().min(0),
        approved: z.int().min(0),
        rejected: z.int().min(0),
        reversed: z.int().min(0),
      }),
      payout: money.describe('Pending + approved payout'),
      payout_approved: money,
    }),
  );
  const SubIdReport = component(
    'SubIdReport',
    z.strictObject({
      from: day,
      to: day,
      timezone: z.string().describe('IANA time zone the days are in'),
      publisher_id: rowId,
      sub_id: z.enum(['sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'sub6']),
      group_by: z.array(z.string()),
      data: z.array(SubIdReportRow).describe('One row per sub value (and offer) and currency, by value'),
    }),
  );
  return { SubIdReportRow, SubIdReport };
});

type SubIdReport = z.input<ReturnType<typeof subIdReportShapes>['SubIdReport']>;

export interface SubIdReportQuery {
  sub: SubKey;
  groups: string[];
  from: string;
  to: string;
  timezone: string;
  publisher_id?: number;
  advertiser_id?: number;
  offer_id?: number;
}

export async function readSubIdReport(db: D1Database, query: SubIdReportQuery): Promise<SubIdReport> {
  const others = query.groups.filter((g) => g !== query.sub);
  if (others.some((g) => g !== 'offer')) {
    throw badRequest('A sub ID groups alone or with offer', { group_by: 'sub1..sub6 combine with offer only' });
  }
  if (query.advertiser_id !== undefined) {
    throw badRequest('Sub ID reports are the publisher’s', { group_by: 'sub IDs are reported per publisher only' });
  }
  if (query.publisher_id === undefined) {
    throw badRequest('publisher_id is required with a sub ID group', { publisher_id: 'is required with sub1..sub6' });
  }
  const rows = await subIdReport(db, {
    sub: query.sub,
    byOffer: others.includes('offer'),
    publisherId: query.publisher_id,
    ...zonedDaysWindow(query.from, query.to, query.timezone),
    offerId: query.offer_id,
  });
  return {
    from: query.from,
    to: query.to,
    timezone: query.timezone,
    publisher_id: query.publisher_id,
    sub_id: query.sub,
    group_by: query.groups,
    data: rows.map((row) => ({
      value: row.value,
      ...(row.offer_id === undefined ? {} : { offer_id: row.offer_id }),
      currency: row.currency,
      conversions: { pending: row.pending, approved: row.approved, rejected: row.rejected, reversed: row.reversed },
      payout: formatAmount(row.payout, row.currency),
      payout_approved: formatAmount(row.payout_approved, row.currency),
    })),
  };
}
