// The portal's first page by role: a publisher's offers with its payout and a link builder; an
// advertiser's offers; an operator's overview (breakdowns by offer and publisher over a date
// range, conversions awaiting approval, failing deliveries: src/portal/overview.ts). One D1
// batch each.
import type { Context } from 'hono';
import { html } from '../dashboard/html';
import {
  groupPromotable,
  type OfferSummaryRow,
  offerSummariesStatement,
  type PromotableGoalRow,
  promotableOffersStatement,
} from '../db/portal';
import type { PortalEnv } from './env';
import { dayRange, money } from './format';
import { page } from './layout';
import { loadOverview, overviewSections } from './overview';

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

async function operatorHome(c: Context<PortalEnv>): Promise<string> {
  const range = dayRange(c.req.query(), Date.now());
  const data = await loadOverview(c.env.DB, range);
  const retry = {
    action: (id: string) => `/portal/parked/${encodeURIComponent(id)}/retry`,
    csrf: c.get('viewer').csrf,
    notice: c.req.query('parked'),
  };
  const content = html`${overviewSections(data, '/portal', undefined, retry)}
<p class="muted">The operator dashboard, with today's numbers and the last 30 days, is at <a href="/dashboard">/dashboard</a>.</p>`;
  return page(c.get('viewer'), '/portal', 'Overview', content);
}

export async function homePage(c: Context<PortalEnv>): Promise<Response> {
  const principal = c.get('principal');
  if (principal.role === 'publisher') return c.html(await publisherHome(c, principal.publisherId));
  if (principal.role === 'advertiser') return c.html(await advertiserHome(c, principal.advertiserId));
  return c.html(await operatorHome(c));
}
