// The operator's overview: queue messages parked at a dead end (src/dashboard/parked.ts),
// breakdowns by offer and by publisher over a date range, the conversions awaiting approval and
// the failing deliveries, with links to each click's dispute view. One read model and one renderer, shown by the portal's first page for operators and by
// /dashboard (which links the dispute views under its own sign-in). One D1 batch.
import { html, type SafeHtml } from '../dashboard/html';
import {
  type ParkedOverview,
  type ParkedRetryForm,
  parkedFromResults,
  parkedSection,
  parkedStatements,
} from '../dashboard/parked';
import { FAILING_DELIVERIES_SQL, failingDeliveriesStatement } from '../db/deliveries';
import {
  type ClickGroupRow,
  type ConversionGroupRow,
  type PortalConversionRow,
  type PortalDeliveryRow,
  scopedConversionsStatement,
} from '../db/portal';
import {
  type BreakdownKey,
  type BreakdownRow,
  breakdownSql,
  type ClickTotals,
  type ConversionTotals,
  type ConversionTotalsRow,
  clickBreakdownStatement,
  conversionBreakdownStatement,
  conversionTotalsOf,
} from '../db/rollups';
import { count, type DayRange, instants } from './format';
import { breakdownTable, rangeForm } from './reports';
import { conversionHead, conversionRows, DELIVERY_HEAD, deliveryRows } from './rows';

export const OVERVIEW_LIMIT = 50;

export interface Overview {
  range: DayRange;
  byOffer: [ClickGroupRow[], ConversionGroupRow[]];
  byPublisher: [ClickGroupRow[], ConversionGroupRow[]];
  pending: PortalConversionRow[];
  failing: PortalDeliveryRow[];
  parked: ParkedOverview;
  /** When it was read (ms), for the parked messages' ages. */
  readAt: number;
}

/** The overview's own statements as SQL, so a test can check their query plans. */
export const OVERVIEW_SQL = {
  /** ?1..?2 = first and last day. */
  clickBreakdown: breakdownSql('daily_click_stats'),
  conversionBreakdown: breakdownSql('daily_conversion_stats'),
  /** ?1 = how many. */
  failingDeliveries: FAILING_DELIVERIES_SQL,
} as const;

/** Everybody's figures (the overview is the operator's): six statements, one round trip. */
export async function loadOverview(db: D1Database, range: DayRange, nowMs = Date.now()): Promise<Overview> {
  const results = await db.batch([
    clickBreakdownStatement(db, range),
    conversionBreakdownStatement(db, range),
    scopedConversionsStatement(db, {}, instants(range), OVERVIEW_LIMIT, 'pending'),
    failingDeliveriesStatement(db, OVERVIEW_LIMIT),
    ...parkedStatements(db),
  ]);
  const rows = <T>(i: number) => (results[i]?.results ?? []) as T[];
  const clicks = rows<BreakdownRow<ClickTotals>>(0);
  const conversions = conversionTotalsOf(rows<ConversionTotalsRow<BreakdownRow<ConversionTotals>>>(1));
  return {
    range,
    byOffer: breakdown(clicks, conversions, 'offer_id'),
    byPublisher: breakdown(clicks, conversions, 'publisher_id'),
    pending: rows(2),
    failing: rows(3),
    parked: parkedFromResults(results[4], results[5]),
    readAt: nowMs,
  };
}

/** One key's lines of the breakdown reads, as the breakdown tables take them. */
function breakdown(
  clicks: BreakdownRow<ClickTotals>[],
  conversions: BreakdownRow<ConversionTotals>[],
  by: BreakdownKey,
): [ClickGroupRow[], ConversionGroupRow[]] {
  return [
    clicks
      .filter((row) => row.grouped_by === by)
      .map((row) => ({
        key: row.key,
        clicks: row.clicks,
        unique_clicks: row.unique_clicks,
        bot_clicks: row.bot_clicks,
        impressions: row.impressions ?? 0,
      })),
    conversions
      .filter((row) => row.grouped_by === by)
      .map((row) => ({
        key: row.key,
        currency: row.currency,
        pending: row.pending,
        approved: row.approved,
        rejected: row.rejected,
        reversed: row.reversed,
        revenue: row.revenue_pending + row.revenue_approved,
        payout: row.payout_pending + row.payout_approved,
      })),
  ];
}

/**
 * The overview's sections. `action` is the page the date range form reloads; `disputeHref`
 * links a click's dispute view (the API's for a portal session, /dashboard's own under Basic);
 * `retry` is where the parked messages' retry buttons post (none without it).
 */
export function overviewSections(
  data: Overview,
  action: string,
  disputeHref: (clickId: string) => string = (id) => `/api/v1/clicks/${id}`,
  retry?: ParkedRetryForm,
): SafeHtml {
  const { range, pending, failing } = data;
  return html`${parkedSection(data.parked, data.readAt, retry)}
${rangeForm(action, range)}
<section aria-labelledby="by-offer-title"><h2 id="by-offer-title">By offer</h2>${breakdownTable('by-offer', 'Offer', ...data.byOffer, 'operator')}</section>
<section aria-labelledby="by-publisher-title"><h2 id="by-publisher-title">By publisher</h2>${breakdownTable('by-publisher', 'Publisher', ...data.byPublisher, 'operator')}</section>
<section aria-labelledby="pending-title"><h2 id="pending-title">Awaiting approval <span class="muted">(${count.format(pending.length)}${pending.length === OVERVIEW_LIMIT ? '+' : ''} in range)</span></h2>
<div class="scroll"><table id="pending-conversions"><thead><tr>${conversionHead('operator')}</tr></thead>
<tbody>${pending.length > 0 ? conversionRows(pending, 'operator', undefined, disputeHref) : html`<tr><td colspan="8" class="muted">Nothing awaits approval.</td></tr>`}</tbody></table></div>
<p><a href="/portal/conversions?status=pending&amp;from=${range.from}&amp;to=${range.to}">Decide on them</a> (in the portal)</p></section>
<section aria-labelledby="failing-title"><h2 id="failing-title">Failing deliveries</h2>
<div class="scroll"><table id="failing-deliveries"><thead><tr>${DELIVERY_HEAD}</tr></thead>
<tbody>${failing.length > 0 ? deliveryRows(failing) : html`<tr><td colspan="7" class="muted">No delivery is failing.</td></tr>`}</tbody></table></div></section>`;
}
