// The portal's first page by role: a publisher's offers (src/portal/offers.ts); an
// advertiser's offers; an operator's overview (breakdowns by offer and publisher over a date
// range, conversions awaiting approval, failing deliveries: src/portal/overview.ts). One D1
// batch each.
import type { Context } from 'hono';
import { html } from '../dashboard/html';
import { type OfferSummaryRow, offerSummariesStatement } from '../db/portal';
import type { PortalEnv } from './env';
import { dayRange } from './format';
import { page } from './layout';
import { publisherOffersPage } from './offers';
import { loadOverview, overviewSections } from './overview';
import { balancesSection } from './statements';

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
${await balancesSection(c.env.DB)}
<p class="muted">The operator dashboard, with today's numbers and the last 30 days, is at <a href="/dashboard">/dashboard</a>.</p>`;
  return page(c.get('viewer'), '/portal', 'Overview', content);
}

export async function homePage(c: Context<PortalEnv>): Promise<Response> {
  const principal = c.get('principal');
  if (principal.role === 'publisher') return publisherOffersPage(c, principal.publisherId);
  if (principal.role === 'advertiser') return c.html(await advertiserHome(c, principal.advertiserId));
  return c.html(await operatorHome(c));
}
