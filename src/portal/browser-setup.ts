// The advertiser's integration page, browser part: per offer, whether it takes browser
// conversions and the tag and pixel snippets filled in with its own click parameter, window,
// goal and tracking host, ready to copy (docs/browser-tracking.md explains each).
import { html } from '../dashboard/html';
import type { OfferSummaryRow } from '../db/portal';

const firstGoal = (goals: string | null) => (goals ?? '').split(', ')[0] || 'sale';

function tagSnippet(origin: string, offer: OfferSummaryRow): string {
  const goal = firstGoal(offer.goals);
  return [
    '<!-- every page of your shop, landing page included -->',
    '<script>window.clickhop=window.clickhop||function(){(clickhop.q=clickhop.q||[]).push(arguments)}</script>',
    `<script async src="${origin}/t.js" data-param="${offer.click_param}" data-days="${offer.attribution_window_days}"></script>`,
    '<!-- the thank-you page, with your own order values -->',
    `<script>clickhop('conversion', {offer_id: ${offer.id}, goal: '${goal}', order_id: 'ORDER-ID', amount: '0.00', currency: '${offer.currency}'});</script>`,
  ].join('\n');
}

function pixelSnippet(origin: string, offer: OfferSummaryRow): string {
  const goal = firstGoal(offer.goals);
  return `<img src="${origin}/px?offer_id=${offer.id}&goal=${goal}&order_id=ORDER-ID&amount=0.00&currency=${offer.currency}" width="1" height="1" alt="">`;
}

/** The "Browser tracking" section of the integration page. */
export function browserSections(origin: string, offers: OfferSummaryRow[]) {
  const on = offers.filter((o) => o.browser_tracking === 1);
  const off = offers.filter((o) => o.browser_tracking !== 1);
  return html`<section aria-labelledby="browser-title"><h2 id="browser-title">Browser tracking (tag and pixel)</h2>
<p>For a shop that cannot call a postback URL from its server: the tag keeps the click ID in a first-party cookie on your domain and reports the sale from the thank-you page; the pixel does the same without script. Browser conversions are recorded like postbacks (<code>source: "browser"</code>) but prove less: see the guide in docs/browser-tracking.md.</p>
${on.map(
  (o) => html`<h3 id="browser-offer-${o.id}">${o.name}<span class="id">offer ${o.id}</span></h3>
<p>Tag (recommended):</p><pre data-snippet="tag" data-offer-id="${o.id}">${tagSnippet(origin, o)}</pre>
<p>Pixel (no script):</p><pre data-snippet="pixel" data-offer-id="${o.id}">${pixelSnippet(origin, o)}</pre>`,
)}
${
  off.length > 0
    ? html`<p id="browser-off">Browser conversions are off for ${off.map((o, i) => html`${i > 0 ? ', ' : ''}${o.name} (offer ${o.id})`)}: ask the network to turn on browser tracking for an offer before you install the tag; until then the tag's conversions are logged and ignored.</p>`
    : null
}</section>`;
}
