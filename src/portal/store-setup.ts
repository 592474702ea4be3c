// The store integrations on an advertiser's integration page: Stripe and Shopify setup with
// snippets to copy (its own webhook URLs, the events to select, where the click ID goes), a
// form to set or remove each webhook secret (write-only: the page says only whether one is
// set), and the coupon codes publishers hold on its offers.
import type { Context } from 'hono';
import { couponValidAt } from '../conversions/attribution-policy';
import { html, type SafeHtml } from '../dashboard/html';
import { namedCoupons } from '../db/coupons';
import { listIntegrations, PROVIDERS, type Provider } from '../db/integrations';
import { SHOPIFY_TOPICS } from '../integrations/shopify';
import { STRIPE_EVENTS } from '../integrations/stripe';
import { callApi, problemText } from './api';
import type { PortalEnv } from './env';
import { field, utcTime } from './format';
import { csrfField } from './layout';
import type { PageMessage } from './notifications';

const STRIPE_CHECKOUT = `const session = await stripe.checkout.sessions.create({
  mode: 'payment',
  client_reference_id: clickId, // the click ID kept from the landing page
  line_items: [{ price: 'price_...', quantity: 1 }],
  success_url: 'https://your-shop.example/thanks',
});`;

const SHOPIFY_THEME = `<script>
  // theme.liquid, before </body>: keep the click ID from the landing URL on the cart;
  // Shopify copies cart attributes onto the order as note_attributes.
  (function () {
    var id = new URLSearchParams(location.search).get('click_id');
    if (!id) return;
    fetch('/cart/update.js', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ attributes: { click_id: id } }),
    });
  })();
</script>`;

const codes = (names: readonly string[]) => names.map((n, i) => html`${i > 0 ? ' and ' : ''}<code>${n}</code>`);

const LABEL: Record<Provider, string> = { stripe: 'Stripe', shopify: 'Shopify' };

function secretForm(csrf: string, provider: Provider, since: string | null): SafeHtml {
  const hint = provider === 'stripe' ? 'whsec_…' : "your app's client secret";
  return html`<p id="${provider}-secret-state">${
    since
      ? html`Signing secret set on ${utcTime(since)} UTC (never shown again).`
      : html`<strong>No signing secret set</strong>: every event is refused until you set it.`
  }</p>
<form class="stack" method="post" action="/portal/integration/secret">${csrfField(csrf)}
<input type="hidden" name="provider" value="${provider}">
<label>${LABEL[provider]} signing secret<input name="secret" type="password" required minlength="8" maxlength="256" autocomplete="off" placeholder="${hint}"></label>
<button type="submit">Save ${LABEL[provider]} secret</button></form>
${since ? html`<form method="post" action="/portal/integration/secret">${csrfField(csrf)}<input type="hidden" name="provider" value="${provider}"><input type="hidden" name="remove" value="1"><button type="submit">Remove ${LABEL[provider]} secret</button></form>` : null}`;
}

/** The Stripe, Shopify and coupon sections of the integration page. */
export async function storeSections(c: Context<PortalEnv>, advertiserId: number): Promise<SafeHtml> {
  const [integrations, coupons] = await Promise.all([
    listIntegrations(c.env.DB, advertiserId),
    namedCoupons(c.env.DB, { advertiser_id: advertiserId }, 500),
  ]);
  const since = (p: Provider) => integrations.find((i) => i.provider === p)?.updated_at ?? null;
  const origin = new URL(c.req.url).origin;
  const url = (p: Provider) => `${origin}/integrations/${p}/${advertiserId}`;
  const csrf = c.get('viewer').csrf;
  const now = new Date().toISOString();
  return html`<section aria-labelledby="stripe-title"><h2 id="stripe-title">Stripe</h2>
<ol>
<li>In Stripe, Developers → Webhooks → Add endpoint, enter this URL:<pre id="stripe-webhook-url">${url('stripe')}</pre></li>
<li>Select the events ${codes(STRIPE_EVENTS)}.</li>
<li>When you create a Checkout Session, put the click ID in <code>client_reference_id</code> (or <code>metadata.click_id</code>); with a Payment Link, add <code>?client_reference_id=</code> and the click ID to the link.
<pre id="stripe-snippet">${STRIPE_CHECKOUT}</pre></li>
<li>Reveal the endpoint's signing secret in Stripe and save it here.</li>
</ol>
<p>A paid session becomes a sale of its <code>amount_total</code>; a refund lowers it, a full refund reverses it (docs/store-integrations.md).</p>
${secretForm(csrf, 'stripe', since('stripe'))}</section>
<section aria-labelledby="shopify-title"><h2 id="shopify-title">Shopify</h2>
<ol>
<li>In Shopify admin, Settings → Notifications → Webhooks (or your app's webhook subscriptions), create webhooks in JSON format for ${codes(SHOPIFY_TOPICS)} to this URL:<pre id="shopify-webhook-url">${url('shopify')}</pre></li>
<li>Keep the click ID on the cart, so it reaches the order as the note attribute <code>click_id</code> (an order whose landing page URL holds <code>click_id</code> works too):
<pre id="shopify-snippet">${SHOPIFY_THEME}</pre></li>
<li>Save the secret the webhooks are signed with (shown under the webhooks list, or your app's client secret) here.</li>
</ol>
<p>An order becomes a sale of its <code>total_price</code>; a discount code that is one of the coupons below credits its publisher when the order has no click ID.</p>
${secretForm(csrf, 'shopify', since('shopify'))}</section>
<section aria-labelledby="coupons-title"><h2 id="coupons-title">Coupon codes on your offers</h2>
<p>Send the code a shopper used as <code>voucher</code> (or <code>coupon</code>) in your postback: without a click ID it credits the code's publisher.</p>
<div class="scroll"><table id="coupons"><thead><tr><th scope="col">Code</th><th scope="col">Offer</th><th scope="col">Publisher</th><th scope="col">Valid from (UTC)</th><th scope="col">Valid until (UTC)</th><th scope="col">Active</th></tr></thead>
<tbody>${
    coupons.length > 0
      ? coupons.map(
          (
            r,
          ) => html`<tr data-coupon-id="${r.id}"><td><code>${r.code}</code></td><td>${r.offer_name}<span class="id">offer ${r.offer_id}</span></td><td>${r.publisher_id}</td>
<td>${r.starts_at ? utcTime(r.starts_at) : '—'}</td><td>${r.ends_at ? utcTime(r.ends_at) : '—'}</td><td>${couponValidAt({ code: r.code, publisherId: r.publisher_id, startsAt: r.starts_at, endsAt: r.ends_at }, now) ? 'yes' : 'no'}</td></tr>`,
        )
      : html`<tr><td colspan="6" class="muted">No coupon codes yet: the network adds them for your publishers.</td></tr>`
  }</tbody></table></div></section>`;
}

/** Sets or removes a webhook secret through the API as the signed-in advertiser. */
export async function saveIntegrationSecret(c: Context<PortalEnv>, advertiserId: number): Promise<PageMessage> {
  const form = await c.req.parseBody();
  const provider = field(form, 'provider');
  if (!(PROVIDERS as readonly string[]).includes(provider)) return { text: 'Choose Stripe or Shopify.', kind: 'error' };
  const path = `/advertisers/${advertiserId}/integrations/${provider}`;
  const remove = field(form, 'remove') === '1';
  const answer = remove
    ? await callApi(c, 'DELETE', path)
    : await callApi(c, 'PUT', path, { secret: field(form, 'secret') });
  if (answer.status >= 300) return { text: problemText(answer), kind: 'error' };
  const label = LABEL[provider as Provider];
  return { text: remove ? `${label} secret removed.` : `${label} secret saved.`, kind: 'ok' };
}
