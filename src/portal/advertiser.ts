// An advertiser's integration page (its postback URLs per profile, how to keep the click ID, its
// Stripe and Shopify setup and coupon codes (store-setup.ts), a test conversion sent through the
// real postback route) and its postback log.
import type { Context } from 'hono';
import { visibleTo } from '../auth/money-view';
import { html } from '../dashboard/html';
import { type OfferSummaryRow, offerSummariesStatement } from '../db/portal';
import { listPostbackLog } from '../db/postback-log';
import { browserSections } from './browser-setup';
import type { PortalEnv } from './env';
import { field, utcTime } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';
import { storeSections } from './store-setup';

const PROFILES = [
  { path: '/postback', use: "Clickhop's own parameter names (click_id, event, order_id, amount, currency)" },
  {
    path: '/postback/hasoffers',
    use: 'HasOffers/TUNE names (transaction_id, goal_id, adv_sub, amount, security_token)',
  },
  { path: '/postback/tradetracker/lead', use: 'TradeTracker S2S leads' },
  { path: '/postback/tradetracker/sale', use: 'TradeTracker S2S sales' },
];

export async function integrationPage(
  c: Context<PortalEnv>,
  advertiserId: number,
  message?: PageMessage,
): Promise<Response> {
  const offers = (await offerSummariesStatement(c.env.DB, advertiserId, 100).all<OfferSummaryRow>()).results;
  const origin = new URL(c.req.url).origin;
  const viewer = c.get('viewer');
  const content = html`${message ? notice(message.text, message.kind) : null}${message?.detail ?? null}
<section aria-labelledby="urls-title"><h2 id="urls-title">Postback URLs</h2>
<div class="scroll"><table id="postback-urls"><thead><tr><th scope="col">URL</th><th scope="col">Use it when you send</th></tr></thead>
<tbody>${PROFILES.map((p) => html`<tr><td><code>${origin}${p.path}</code></td><td>${p.use}</td></tr>`)}</tbody></table></div>
<p>Every URL takes GET or POST. Authenticate with your postback key: <code>Authorization: Bearer pbk_…</code> (or <code>key=</code>).</p></section>
<section aria-labelledby="click-title"><h2 id="click-title">Keeping the click ID</h2>
<p>Visitors arrive on your landing page with the click ID in the URL. Keep it with the visitor (session or a first-party cookie for the attribution window), copy it onto the order, and send it back in the postback from your server.</p>
<div class="scroll"><table id="offer-params"><thead><tr><th scope="col">Offer</th><th scope="col">Click ID parameter</th><th scope="col">Goals</th></tr></thead>
<tbody>${offers.map((o) => html`<tr><td>${o.name}<span class="id">offer ${o.id}</span></td><td><code>${o.click_param}</code></td><td>${o.goals ?? ''}</td></tr>`)}</tbody></table></div></section>
${browserSections(origin, offers)}
${await storeSections(c, advertiserId)}
<section aria-labelledby="test-title"><h2 id="test-title">Test conversion</h2>
<p>Open one of your tracking links, copy the click ID from your landing page's address, and send a conversion for it here. It goes through the real postback URL and appears in your <a href="/portal/postbacks">postback log</a> and your conversions.</p>
<form class="stack" method="post" action="/portal/integration/test">${csrfField(viewer.csrf)}
<label>Click ID<input name="click_id" required maxlength="64" pattern="[A-Za-z0-9_-]+"></label>
<label>Goal<input name="event" value="lead" maxlength="64"></label>
<label>Order ID<input name="order_id" maxlength="128" value="TEST-1"></label>
<label>Amount (for a sale)<input name="amount" inputmode="decimal" maxlength="20"></label>
<label>Your postback key<input name="key" type="password" required maxlength="100" autocomplete="off"></label>
<button type="submit">Send test conversion</button>
</form></section>`;
  return c.html(page(viewer, '/portal/integration', 'Integration', content), message?.kind === 'error' ? 400 : 200);
}

/** The postback's JSON answer as an advertiser may see it (src/auth/money-view.ts): no payout. */
function answerShown(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    return body && typeof body === 'object' ? JSON.stringify(visibleTo('advertiser', body)) : text;
  } catch {
    return text;
  }
}

/** Sends the form as a canonical postback through the app itself, and shows the answer. */
export async function sendTestConversion(c: Context<PortalEnv>, advertiserId: number): Promise<Response> {
  const form = await c.req.parseBody();
  const params = new URLSearchParams();
  for (const name of ['click_id', 'event', 'order_id', 'amount']) {
    const value = field(form, name);
    if (value) params.set(name, value);
  }
  const request = new Request(new URL('/postback', c.req.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${field(form, 'key')}` },
    body: params,
  });
  const { app } = await import('../app');
  const response = await app.fetch(request, c.env, c.executionCtx);
  const answer = answerShown(await response.text());
  const ok = response.status < 300;
  return integrationPage(c, advertiserId, {
    text: ok ? `Test conversion accepted (${response.status}).` : `Test conversion refused (${response.status}).`,
    kind: ok ? 'ok' : 'error',
    detail: html`<details open id="test-result"><summary>Postback request and answer</summary><pre class="secret">POST /postback
${params.toString()}

${response.status} ${answer}</pre></details>`,
  });
}

export async function postbacksPage(c: Context<PortalEnv>, advertiserId: number): Promise<Response> {
  const rows = await listPostbackLog(c.env.DB, { advertiser_id: advertiserId }, undefined, 100);
  const body = rows.map(
    (
      r,
    ) => html`<tr data-postback-id="${r.id}"><td><time datetime="${r.received_at}">${utcTime(r.received_at)}</time></td>
<td>${r.method} ${r.profile}</td><td><span class="status">${r.outcome}</span> ${r.http_status}</td>
<td><span class="order">${r.order_id ?? '—'}</span><span class="id">${r.click_id ?? ''}</span></td>
<td>${r.error_code ?? ''} ${r.error_message ?? ''}</td><td><code>${r.params}</code></td></tr>`,
  );
  const content = html`<section aria-labelledby="log-title"><h2 id="log-title">Latest postbacks, newest first</h2>
<div class="scroll"><table id="postbacks"><thead><tr><th scope="col">Received (UTC)</th><th scope="col">Request</th><th scope="col">Outcome</th><th scope="col">Order / click</th><th scope="col">Error</th><th scope="col">Parameters (secrets redacted)</th></tr></thead>
<tbody>${body.length > 0 ? body : html`<tr><td colspan="6" class="muted">No postbacks yet.</td></tr>`}</tbody></table></div></section>`;
  return c.html(page(c.get('viewer'), '/portal/postbacks', 'Postback log', content));
}
