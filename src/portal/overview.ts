// The operator's overview: breakdowns by offer and by publisher over a date range, the
// conversions awaiting approval and the failing deliveries, with links to each click's dispute
// view. One read model and one renderer, shown by the portal's first page for operators and by
// /dashboard (which links the dispute views under its own sign-in). One D1 batch.
import type { PartyFilter } from '../auth/scope';
import { html, type SafeHtml } from '../dashboard/html';
import {
  type ClickGroupRow,
  type ConversionGroupRow,
  type PortalConversionRow,
  type PortalDeliveryRow,
  scopedConversionsStatement,
  scopedDeliveriesStatement,
  scopedRollupStatements,
} from '../db/portal';
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
}

export async function loadOverview(db: D1Database, scope: PartyFilter, range: DayRange): Promise<Overview> {
  const [byOfferClicks, byOfferConversions] = scopedRollupStatements(db, scope, range, 'offer');
  const [byPublisherClicks, byPublisherConversions] = scopedRollupStatements(db, scope, range, 'publisher');
  const results = await db.batch([
    byOfferClicks,
    byOfferConversions,
    byPublisherClicks,
    byPublisherConversions,
    scopedConversionsStatement(db, scope, instants(range), OVERVIEW_LIMIT, 'pending'),
    scopedDeliveriesStatement(db, scope, OVERVIEW_LIMIT, true),
  ]);
  const rows = <T>(i: number) => (results[i]?.results ?? []) as T[];
  return {
    range,
    byOffer: [rows(0), rows(1)],
    byPublisher: [rows(2), rows(3)],
    pending: rows(4),
    failing: rows(5),
  };
}

/**
 * The overview's sections. `action` is the page the date range form reloads; `disputeHref`
 * links a click's dispute view (the API's for a portal session, /dashboard's own under Basic).
 */
export function overviewSections(
  data: Overview,
  action: string,
  disputeHref: (clickId: string) => string = (id) => `/api/v1/clicks/${id}`,
): SafeHtml {
  const { range, pending, failing } = data;
  return html`${rangeForm(action, range)}
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
