// Table rows the portal's pages share: conversions (with the click's dispute view) and
// notification deliveries.
import { moneyShown } from '../auth/money-view';
import type { Role } from '../auth/principal';
import { html, type SafeHtml } from '../dashboard/html';
import type { PortalConversionRow, PortalDeliveryRow } from '../db/portal';
import { money, utcTime } from './format';

export function conversionRows(
  rows: PortalConversionRow[],
  role: Role,
  actions?: (row: PortalConversionRow) => SafeHtml | null,
  disputeHref: (clickId: string) => string = (id) => `/api/v1/clicks/${id}`,
): SafeHtml[] {
  const shown = moneyShown(role);
  return rows.map(
    (
      cv,
    ) => html`<tr data-conversion-id="${cv.id}"><td><time datetime="${cv.created_at}">${utcTime(cv.created_at)}</time></td>
<td><span class="order">${cv.order_id ?? '—'}</span><span class="id">${cv.id}</span>${cv.click_id ? html`<a class="id" href="${disputeHref(cv.click_id)}">click dispute view</a>` : null}</td>
<td>${cv.offer_name ?? 'Deleted offer'}<span class="id">offer ${cv.offer_id}</span></td>
<td>${cv.publisher_name ?? 'Deleted publisher'}<span class="id">publisher ${cv.publisher_id}${cv.sub1 ? ` · sub1 ${cv.sub1}` : ''}</span></td>
<td>${cv.goal_key}<span class="id source source-${cv.source}">${cv.source}${cv.attribution === 'view_through' ? ' · view-through' : ''}</span></td><td><span class="status status-${cv.status}">${cv.status}</span></td>
<td class="num">${money(cv.amount, cv.currency)}</td>${shown.payout ? html`<td class="num">${money(cv.payout, cv.payout_currency)}</td>` : null}${shown.revenue ? html`<td class="num">${money(cv.revenue, cv.payout_currency)}</td>` : null}
${actions ? html`<td>${actions(cv)}</td>` : null}</tr>`,
  );
}

export function conversionHead(role: Role): SafeHtml {
  const shown = moneyShown(role);
  return html`<th scope="col">Time (UTC)</th><th scope="col">Order ID</th><th scope="col">Offer</th><th scope="col">Publisher</th><th scope="col">Goal</th><th scope="col">Status</th><th scope="col" class="num">Sale amount</th>${shown.payout ? html`<th scope="col" class="num">Payout</th>` : null}${shown.revenue ? html`<th scope="col" class="num">${role === 'advertiser' ? 'Cost' : 'Revenue'}</th>` : null}`;
}

export function deliveryRows(rows: PortalDeliveryRow[], action?: (row: PortalDeliveryRow) => SafeHtml): SafeHtml[] {
  return rows.map(
    (d) => html`<tr data-delivery-id="${d.id}"><td><time datetime="${d.updated_at}">${utcTime(d.updated_at)}</time></td>
<td><code>${d.endpoint_url}</code><span class="id">endpoint ${d.endpoint_id} · publisher ${d.publisher_id}</span></td>
<td>${d.event_type}<span class="id">${d.conversion_id}</span></td><td><span class="dl dl-${d.status}">${d.status}</span></td>
<td class="num">${d.attempts}</td><td>${d.last_status_code ?? ''} ${d.last_error ?? ''}</td>
<td><a href="/api/v1/conversions/${d.conversion_id}">conversion</a></td>${action ? html`<td>${action(d)}</td>` : null}</tr>`,
  );
}

export const DELIVERY_HEAD = html`<th scope="col">Updated (UTC)</th><th scope="col">Endpoint</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Last answer</th><th scope="col">Dispute view</th>`;
