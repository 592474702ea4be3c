// The dashboard's "capped conversions" table: which caps refused conversions lately (stored
// rejected with reason cap_reached) and how many. Absent when no cap refused anything, so a
// network without caps sees the page it always saw. Program terms: docs/program-terms.md.
import type { CappedConversionsRow } from '../db/rejected-conversions';
import { formatAmount } from '../lib/money';
import { html, type SafeHtml } from './html';

export const CAPPED_DAYS = 30;
export const CAPPED_LIMIT = 20;

const count = new Intl.NumberFormat('en-US');
const MONEY_METRICS: readonly (string | null)[] = ['payout', 'revenue'];

/** "conversions ≤ 10 per day", "payout ≤ 500.00 EUR per month", "… lifetime"; a deleted cap says so. */
export function capTerms(row: CappedConversionsRow): string {
  if (row.metric === null || row.cap_limit === null) return 'deleted cap';
  const limit =
    MONEY_METRICS.includes(row.metric) && row.offer_currency
      ? `${formatAmount(row.cap_limit, row.offer_currency)} ${row.offer_currency}`
      : count.format(row.cap_limit);
  const per = row.period === 'lifetime' ? 'lifetime' : `per ${row.period}`;
  const scope = [
    row.publisher_id === null ? 'all publishers' : `publisher ${row.publisher_id}`,
    ...(row.goal_key === null ? [] : [`goal ${row.goal_key}`]),
  ];
  return `${row.metric} ≤ ${limit} ${per}, ${scope.join(', ')}`;
}

const utcTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;

function cappedRow(row: CappedConversionsRow): SafeHtml {
  return html`<tr data-cap-id="${row.cap_id}">
<td>cap ${row.cap_id}<span class="id">${capTerms(row)}</span></td>
<td>${row.offer_name ?? 'Deleted offer'}<span class="id">offer ${row.offer_id}</span></td>
<td class="num capped">${count.format(row.conversions)}</td>
<td><time datetime="${row.last_at}">${utcTime(row.last_at)}</time></td>
</tr>`;
}

export function cappedSection(rows: readonly CappedConversionsRow[] | undefined): SafeHtml | null {
  if (!rows || rows.length === 0) return null;
  return html`<section aria-labelledby="capped-title">
<h2 id="capped-title">Capped conversions <span class="muted">(last ${CAPPED_DAYS} days, stored rejected with reason cap_reached)</span></h2>
<div class="scroll"><table id="capped-conversions">
<thead><tr><th scope="col">Cap</th><th scope="col">Offer</th><th scope="col" class="num">Refused</th><th scope="col">Last refusal (UTC)</th></tr></thead>
<tbody>${rows.map(cappedRow)}</tbody>
</table></div>
</section>`;
}
