// The portal's first page by role: a publisher's offers with its payout and a link builder; an
// advertiser's offers; an operator's overview (breakdowns by offer and publisher over a date
// range, conversions awaiting approval, failing deliveries). One D1 batch each.
import type { Context } from 'hono';
import type { Role } from '../auth/principal';
import { partyFilter } from '../auth/scope';
import { html, type SafeHtml } from '../dashboard/html';
import {
  type ClickGroupRow,
  type ConversionGroupRow,
  groupPromotable,
  type OfferSummaryRow,
  offerSummariesStatement,
  type PortalConversionRow,
  type PortalDeliveryRow,
  type PromotableGoalRow,
  promotableOffersStatement,
  scopedConversionsStatement,
  scopedDeliveriesStatement,
  scopedRollupStatements,
} from '../db/portal';
import type { PortalEnv } from './env';
import { count, dayRange, instants, money, utcTime } from './format';
import { page } from './layout';
import { breakdownTable, moneyShown, rangeForm } from './reports';

const LIST_LIMIT = 50;

function payoutText(goal: PromotableGoalRow): string {
  const parts: string[] = [];
  if (goal.payout_fixed > 0) parts.push(money(goal.payout_fixed, goal.currency));
  if (goal.payout_percent_bp > 0) parts.push(`${goal.payout_percent_bp / 100}% of the sale`);
  return parts.length > 0 ? parts.join(' + ') : 'no payout';
}

/** The tracking link for a publisher, with its sub IDs and deep link in the query. */
export function trackingLink(
  origin: string,
  offerId: number,
  publisherId: number,
  query: Record<string, string>,
): string {
  const params = new URLSearchParams();
  for (const key of ['sub1', 'sub2', 'sub3', 'sub4', 'sub5', 'url']) {
    const value = query[key]?.trim();
    if (value) params.set(key, value);
  }
  const search = params.toString();
  return `${origin}/c/${offerId}/${publisherId}${search ? `?${search}` : ''}`;
}

async function publisherHome(c: Context<PortalEnv>, publisherId: number): Promise<string> {
  const rows = (await promotableOffersStatement(c.env.DB, publisherId, 500).all<PromotableGoalRow>()).results;
  const offers = new Map(groupPromotable(rows).map((goals) => [(goals[0] as PromotableGoalRow).offer_id, goals]));
  const origin = new URL(c.req.url).origin;
  const query = c.req.query();
  const chosen = Number(query.offer);
  const built = offers.has(chosen) ? trackingLink(origin, chosen, publisherId, query) : null;
  const list = [...offers.values()].map((goals) => {
    const first = goals[0] as PromotableGoalRow;
    return html`<tr data-offer-id="${first.offer_id}"><td>${first.offer_name}<span class="id">offer ${first.offer_id} · ${first.currency}</span></td>
<td>${goals.map((g) => html`<div><strong>${g.goal_key}</strong>: <span class="payout">${payoutText(g)}</span></div>`)}</td>
<td><code>${trackingLink(origin, first.offer_id, publisherId, {})}</code></td></tr>`;
  });
  const options = [...offers.values()].map((goals) => {
    const first = goals[0] as PromotableGoalRow;
    return html`<option value="${first.offer_id}"${first.offer_id === chosen ? html` selected` : ''}>${first.offer_name}</option>`;
  });
  const content = html`<section aria-labelledby="offers-title"><h2 id="offers-title">Offers you can promote</h2>
<div class="scroll"><table id="offers"><thead><tr><th scope="col">Offer</th><th scope="col">Your payout</th><th scope="col">Tracking link</th></tr></thead>
<tbody>${list.length > 0 ? list : html`<tr><td colspan="3" class="muted">No offers are open to you yet.</td></tr>`}</tbody></table></div></section>
<section aria-labelledby="builder-title"><h2 id="builder-title">Link builder</h2>
<form class="stack" method="get" action="/portal">
<label>Offer<select name="offer" required>${options}</select></label>
<label>Sub ID 1 (sub1)<input name="sub1" maxlength="255" value="${query.sub1 ?? ''}"></label>
<label>Sub ID 2 (sub2)<input name="sub2" maxlength="255" value="${query.sub2 ?? ''}"></label>
<label>Deep link (a page on the advertiser's site)<input name="url" type="url" maxlength="2048" value="${query.url ?? ''}"></label>
<button type="submit">Build link</button>
</form>
${built ? html`<p>Your link:</p><code class="secret" id="built-link">${built}</code>` : null}
</section>`;
  return page(c.get('viewer'), '/portal', 'Offers', content);
}

async function advertiserHome(c: Context<PortalEnv>, advertiserId: number): Promise<string> {
  const rows = (await offerSummariesStatement(c.env.DB, advertiserId, 500).all<OfferSummaryRow>()).results;
  const list = rows.map(
    (
      o,
    ) => html`<tr data-offer-id="${o.id}"><td>${o.name}<span class="id">offer ${o.id}</span></td><td>${o.status}</td><td>${o.goals ?? ''}</td>
<td><code>${o.landing_url}</code><span class="id">click ID parameter: ${o.click_param}</span></td></tr>`,
  );
  const content = html`<section aria-labelledby="offers-title"><h2 id="offers-title">Your offers</h2>
<div class="scroll"><table id="offers"><thead><tr><th scope="col">Offer</th><th scope="col">Status</th><th scope="col">Goals</th><th scope="col">Landing page</th></tr></thead>
<tbody>${list.length > 0 ? list : html`<tr><td colspan="4" class="muted">No offers yet: your operator sets them up.</td></tr>`}</tbody></table></div>
<p><a href="/portal/integration">How to send postbacks</a></p></section>`;
  return page(c.get('viewer'), '/portal', 'Offers', content);
}

export function conversionRows(
  rows: PortalConversionRow[],
  role: Role,
  actions?: (row: PortalConversionRow) => SafeHtml | null,
): SafeHtml[] {
  const shown = moneyShown(role);
  return rows.map(
    (
      cv,
    ) => html`<tr data-conversion-id="${cv.id}"><td><time datetime="${cv.created_at}">${utcTime(cv.created_at)}</time></td>
<td><span class="order">${cv.order_id ?? '—'}</span><span class="id">${cv.id}</span>${cv.click_id ? html`<a class="id" href="/api/v1/clicks/${cv.click_id}">click dispute view</a>` : null}</td>
<td>${cv.offer_name ?? 'Deleted offer'}<span class="id">offer ${cv.offer_id}</span></td>
<td>${cv.publisher_name ?? 'Deleted publisher'}<span class="id">publisher ${cv.publisher_id}${cv.sub1 ? ` · sub1 ${cv.sub1}` : ''}</span></td>
<td>${cv.goal_key}</td><td><span class="status status-${cv.status}">${cv.status}</span></td>
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

async function operatorHome(c: Context<PortalEnv>): Promise<string> {
  const range = dayRange(c.req.query(), Date.now());
  const db = c.env.DB;
  const scope = partyFilter(c.get('principal'));
  const [byOfferClicks, byOfferConversions] = scopedRollupStatements(db, scope, range, 'offer');
  const [byPublisherClicks, byPublisherConversions] = scopedRollupStatements(db, scope, range, 'publisher');
  const results = await db.batch([
    byOfferClicks,
    byOfferConversions,
    byPublisherClicks,
    byPublisherConversions,
    scopedConversionsStatement(db, scope, instants(range), LIST_LIMIT, 'pending'),
    scopedDeliveriesStatement(db, scope, LIST_LIMIT, true),
  ]);
  const rows = <T>(i: number) => (results[i]?.results ?? []) as T[];
  const pending = rows<PortalConversionRow>(4);
  const failing = rows<PortalDeliveryRow>(5);
  const content = html`${rangeForm('/portal', range)}
<section aria-labelledby="by-offer-title"><h2 id="by-offer-title">By offer</h2>${breakdownTable('by-offer', 'Offer', rows<ClickGroupRow>(0), rows<ConversionGroupRow>(1), 'operator')}</section>
<section aria-labelledby="by-publisher-title"><h2 id="by-publisher-title">By publisher</h2>${breakdownTable('by-publisher', 'Publisher', rows<ClickGroupRow>(2), rows<ConversionGroupRow>(3), 'operator')}</section>
<section aria-labelledby="pending-title"><h2 id="pending-title">Awaiting approval <span class="muted">(${count.format(pending.length)}${pending.length === LIST_LIMIT ? '+' : ''} in range)</span></h2>
<div class="scroll"><table id="pending-conversions"><thead><tr>${conversionHead('operator')}</tr></thead>
<tbody>${pending.length > 0 ? conversionRows(pending, 'operator') : html`<tr><td colspan="8" class="muted">Nothing awaits approval.</td></tr>`}</tbody></table></div>
<p><a href="/portal/conversions?status=pending&amp;from=${range.from}&amp;to=${range.to}">Decide on them</a></p></section>
<section aria-labelledby="failing-title"><h2 id="failing-title">Failing deliveries</h2>
<div class="scroll"><table id="failing-deliveries"><thead><tr>${DELIVERY_HEAD}</tr></thead>
<tbody>${failing.length > 0 ? deliveryRows(failing) : html`<tr><td colspan="7" class="muted">No delivery is failing.</td></tr>`}</tbody></table></div></section>
<p class="muted">The full operator dashboard is at <a href="/dashboard">/dashboard</a>.</p>`;
  return page(c.get('viewer'), '/portal', 'Overview', content);
}

export async function homePage(c: Context<PortalEnv>): Promise<Response> {
  const principal = c.get('principal');
  if (principal.role === 'publisher') return c.html(await publisherHome(c, principal.publisherId));
  if (principal.role === 'advertiser') return c.html(await advertiserHome(c, principal.advertiserId));
  return c.html(await operatorHome(c));
}
