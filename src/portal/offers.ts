// A publisher's Offers page: the offers it may promote (its payout, terms and tracking links, a
// link builder) and the private offers it may apply to, with their terms, its application's
// status and an Apply button (POST /api/v1/offers/:id/applications as the signed-in person).
// Both lists are the API's own publisher views (src/admin/publisher-offers.ts), read in one batch.
import type { Context } from 'hono';
import {
  type ApplicableOffer,
  type PublisherOffer,
  presentApplicableOffer,
  presentPublisherOffer,
} from '../admin/publisher-offers';
import { html, type SafeHtml } from '../dashboard/html';
import { groupDigits } from '../dashboard/render';
import { groupPromotable, type PromotableGoalRow, type PublisherCapRow, publisherOffersStatements } from '../db/portal';
import { callApi, problemText } from './api';
import type { PortalEnv } from './env';
import { field } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

/** How many offers each list shows (the API pages them; a portal page lists them all). */
const LIST_LIMIT = 500;

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

type ListedOffer = PublisherOffer | ApplicableOffer;
type Goal = ListedOffer['goals'][number];

function payoutText(goal: Goal, currency: string): string {
  const parts: string[] = [];
  if (Number(goal.payout) > 0) parts.push(`${groupDigits(goal.payout)} ${currency}`);
  if (goal.payout_percent > 0) parts.push(`${goal.payout_percent}% of the sale`);
  return parts.length > 0 ? parts.join(' + ') : 'no payout';
}

const duration = (seconds: number): string =>
  seconds % 86_400 === 0 && seconds > 0
    ? `${seconds / 86_400} d`
    : seconds % 3600 === 0 && seconds > 0
      ? `${seconds / 3600} h`
      : seconds % 60 === 0 && seconds > 0
        ? `${seconds / 60} min`
        : `${seconds} s`;

/** The terms that bind the publisher's traffic, one line each. */
function termsList(offer: ListedOffer): SafeHtml {
  const lines: (string | SafeHtml)[] = [`Attribution window: ${offer.attribution_window_days} days`];
  const min = offer.min_seconds_to_convert;
  const max = offer.max_seconds_to_convert;
  if (min !== null || max !== null) {
    const bounds = [min !== null ? `at least ${duration(min)}` : '', max !== null ? `at most ${duration(max)}` : '']
      .filter(Boolean)
      .join(', ');
    const outcome = offer.time_rule === 'reject' ? 'rejected' : 'flagged';
    lines.push(`Click to conversion: ${bounds} (else ${outcome})`);
  }
  for (const cap of offer.caps) {
    const amount = typeof cap.limit === 'string' ? `${groupDigits(cap.limit)} ${offer.currency} payout` : cap.limit;
    const unit = cap.metric === 'payout' ? '' : ` ${cap.metric}`;
    const goal = cap.goal ? ` of ${cap.goal}` : '';
    const whose = cap.applies_to === 'you' ? 'yours' : 'all publishers together';
    lines.push(`Cap: ${amount}${unit}${goal} per ${cap.period === 'lifetime' ? 'lifetime' : cap.period} (${whose})`);
  }
  if (offer.deep_link_hosts.length > 0) lines.push(`Deep links to: ${offer.deep_link_hosts.join(', ')}`);
  return html`<ul class="terms">${lines.map((line) => html`<li>${line}</li>`)}</ul>`;
}

const goalsCell = (offer: ListedOffer) =>
  offer.goals.map(
    (g) => html`<div><strong>${g.key}</strong>: <span class="payout">${payoutText(g, offer.currency)}</span></div>`,
  );

const ACCESS_TEXT: Record<ApplicableOffer['access'], string> = {
  apply: 'Not applied',
  pending: 'Pending',
  rejected: 'Rejected',
};

function applyRow(offer: ApplicableOffer, csrf: string): SafeHtml {
  const action =
    offer.access === 'pending'
      ? null
      : html`<form class="stack" method="post" action="/portal/offers/${offer.id}/apply">${csrfField(csrf)}
<label>A note for the operator (optional)<input name="message" maxlength="1000"></label>
<button type="submit">${offer.access === 'rejected' ? 'Apply again' : 'Apply'}</button></form>`;
  return html`<tr data-offer-id="${offer.id}"><td>${offer.name}<span class="id">offer ${offer.id} · ${offer.currency}</span></td>
<td>${goalsCell(offer)}</td><td>${termsList(offer)}</td>
<td><span class="status" data-access="${offer.access}">${ACCESS_TEXT[offer.access]}</span>${offer.access === 'pending' ? html`<span class="id">the operator decides</span>` : null}${action}</td></tr>`;
}

async function readOffers(c: Context<PortalEnv>, publisherId: number) {
  const now = new Date().toISOString();
  const db = c.env.DB;
  const [promoteGoals, promoteCaps, applyGoals, applyCaps] = await db.batch<PromotableGoalRow | PublisherCapRow>([
    ...publisherOffersStatements(db, publisherId, 'promote', LIST_LIMIT, { now }),
    ...publisherOffersStatements(db, publisherId, 'apply', LIST_LIMIT, { now }),
  ]);
  const grouped = (result: D1Result | undefined) => groupPromotable((result?.results ?? []) as PromotableGoalRow[]);
  const caps = (result: D1Result | undefined) => (result?.results ?? []) as PublisherCapRow[];
  const origin = new URL(c.req.url).origin;
  return {
    promotable: grouped(promoteGoals).map((goals) =>
      presentPublisherOffer(goals, caps(promoteCaps), publisherId, origin),
    ),
    applicable: grouped(applyGoals).map((goals) => presentApplicableOffer(goals, caps(applyCaps))),
  };
}

export async function publisherOffersPage(
  c: Context<PortalEnv>,
  publisherId: number,
  message?: PageMessage,
  status: 200 | 400 | 404 = 200,
): Promise<Response> {
  const viewer = c.get('viewer');
  const { promotable, applicable } = await readOffers(c, publisherId);
  const origin = new URL(c.req.url).origin;
  const query = c.req.query();
  const chosen = Number(query.offer);
  const built = promotable.some((o) => o.id === chosen) ? trackingLink(origin, chosen, publisherId, query) : null;
  const list = promotable.map(
    (
      offer,
    ) => html`<tr data-offer-id="${offer.id}"><td>${offer.name}<span class="id">offer ${offer.id} · ${offer.currency}${offer.access === 'approved' ? ' · private, approved' : ''}</span></td>
<td>${goalsCell(offer)}</td><td>${termsList(offer)}</td><td><code>${offer.tracking_link}</code></td></tr>`,
  );
  const options = promotable.map(
    (offer) => html`<option value="${offer.id}"${offer.id === chosen ? html` selected` : ''}>${offer.name}</option>`,
  );
  const content = html`${message ? notice(message.text, message.kind) : null}
<section aria-labelledby="offers-title"><h2 id="offers-title">Offers you can promote</h2>
<div class="scroll"><table id="offers"><thead><tr><th scope="col">Offer</th><th scope="col">Your payout</th><th scope="col">Terms</th><th scope="col">Tracking link</th></tr></thead>
<tbody>${list.length > 0 ? list : html`<tr><td colspan="4" class="muted">No offers are open to you yet.</td></tr>`}</tbody></table></div></section>
<section aria-labelledby="apply-title"><h2 id="apply-title">Apply to promote</h2>
<p class="muted">Private offers: the operator decides on each application. Once approved, an offer moves to the list above with its tracking link.</p>
<div class="scroll"><table id="apply-offers"><thead><tr><th scope="col">Offer</th><th scope="col">Your payout</th><th scope="col">Terms</th><th scope="col">Your application</th></tr></thead>
<tbody>${applicable.length > 0 ? applicable.map((offer) => applyRow(offer, viewer.csrf)) : html`<tr><td colspan="4" class="muted">No private offers to apply to.</td></tr>`}</tbody></table></div></section>
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
  return c.html(page(viewer, '/portal', 'Offers', content), status);
}

/** The Apply button: the publisher applies through the API; the page shows the outcome. */
export async function applyToOfferAction(c: Context<PortalEnv>, publisherId: number): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const form = await c.req.parseBody();
  const message = field(form, 'message');
  const answer = await callApi<{ id?: number; status?: string }>(
    c,
    'POST',
    `/offers/${encodeURIComponent(id)}/applications`,
    message ? { message } : {},
  );
  if (answer.status !== 201) {
    return publisherOffersPage(
      c,
      publisherId,
      { text: problemText(answer), kind: 'error' },
      answer.status === 404 ? 404 : 400,
    );
  }
  const text =
    answer.body.status === 'approved'
      ? `Your application ${answer.body.id} to offer ${id} is already approved.`
      : `Applied to offer ${id}: application ${answer.body.id} is ${answer.body.status}; the operator decides.`;
  return publisherOffersPage(c, publisherId, { text, kind: 'ok' });
}
