// A publisher's coupon codes: which offers they credit and while when, as a page and as CSV
// (to hand on to the podcast host or the newsletter).
import type { Context } from 'hono';
import { couponValidAt } from '../conversions/attribution-policy';
import { html } from '../dashboard/html';
import { type NamedCouponRow, namedCoupons } from '../db/coupons';
import { csvDocument, csvResponse } from './csv';
import type { PortalEnv } from './env';
import { utcTime } from './format';
import { page } from './layout';

/** Enough for any one publisher's codes; the API pages through more. */
const MAX_ROWS = 1000;

const active = (r: NamedCouponRow, now: string) =>
  couponValidAt({ code: r.code, publisherId: r.publisher_id, startsAt: r.starts_at, endsAt: r.ends_at }, now);

export async function couponsPage(c: Context<PortalEnv>, publisherId: number): Promise<Response> {
  const rows = await namedCoupons(c.env.DB, { publisher_id: publisherId }, MAX_ROWS);
  const now = new Date().toISOString();
  const content = html`<section aria-labelledby="coupons-title"><h2 id="coupons-title">Your coupon codes</h2>
<p>A sale with one of these codes is credited to you, even without a click on your link. <a href="/portal/coupons.csv">Download as CSV</a></p>
<div class="scroll"><table id="coupons"><thead><tr><th scope="col">Code</th><th scope="col">Offer</th><th scope="col">Valid from (UTC)</th><th scope="col">Valid until (UTC)</th><th scope="col">Active</th></tr></thead>
<tbody>${
    rows.length > 0
      ? rows.map(
          (
            r,
          ) => html`<tr data-coupon-id="${r.id}"><td><code>${r.code}</code></td><td>${r.offer_name}<span class="id">offer ${r.offer_id}</span></td>
<td>${r.starts_at ? utcTime(r.starts_at) : '—'}</td><td>${r.ends_at ? utcTime(r.ends_at) : '—'}</td><td>${active(r, now) ? 'yes' : 'no'}</td></tr>`,
        )
      : html`<tr><td colspan="5" class="muted">No coupon codes yet: ask the network for one.</td></tr>`
  }</tbody></table></div></section>`;
  return c.html(page(c.get('viewer'), '/portal/coupons', 'Coupon codes', content));
}

export async function couponsCsv(c: Context<PortalEnv>, publisherId: number): Promise<Response> {
  const rows = await namedCoupons(c.env.DB, { publisher_id: publisherId }, MAX_ROWS);
  const now = new Date().toISOString();
  return csvResponse(
    'coupons.csv',
    csvDocument(
      ['code', 'offer_id', 'offer', 'starts_at', 'ends_at', 'active'],
      rows.map((r) => [r.code, r.offer_id, r.offer_name, r.starts_at, r.ends_at, active(r, now) ? 'yes' : 'no']),
    ),
  );
}
