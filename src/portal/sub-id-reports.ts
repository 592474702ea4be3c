// A publisher's report by sub ID in the portal: conversions and payout per value of sub1..sub6
// over a range of UTC days, as a page section and as CSV (no revenue: the publisher's view).
import { html, type SafeHtml } from '../dashboard/html';
import { isSubKey, type SubIdRow, type SubKey, subIdReport } from '../db/sub-id-reports';
import { formatAmount } from '../lib/money';
import type { CsvCell } from './csv';
import { count, type DayRange, instants, money } from './format';

export { isSubKey, SUB_KEYS, type SubKey } from '../db/sub-id-reports';

export const readSubIdLines = (db: D1Database, publisherId: number, range: DayRange, sub: SubKey) =>
  subIdReport(db, { sub, byOffer: false, publisherId, ...instants(range) });

export function subIdTable(sub: SubKey, rows: SubIdRow[]): SafeHtml {
  const body = rows.map(
    (r) => html`<tr data-key="${r.value ?? ''}"><td>${r.value ?? html`<span class="muted">none</span>`}</td>
<td class="num">${count.format(r.pending)}</td><td class="num">${count.format(r.approved)}</td><td class="num">${count.format(r.rejected + r.reversed)}</td>
<td class="num">${money(r.payout, r.currency)}</td></tr>`,
  );
  return html`<div class="scroll"><table id="report"><thead><tr><th scope="col">${sub}</th>
<th scope="col" class="num">Pending</th><th scope="col" class="num">Approved</th><th scope="col" class="num">Rejected or reversed</th><th scope="col" class="num">Payout</th></tr></thead>
<tbody>${body.length > 0 ? body : html`<tr><td colspan="5" class="muted">No conversions in this range.</td></tr>`}</tbody></table></div>`;
}

export function subIdCsv(sub: SubKey, rows: SubIdRow[]): { header: string[]; rows: CsvCell[][] } {
  return {
    header: [sub, 'pending', 'approved', 'rejected', 'reversed', 'currency', 'payout'],
    rows: rows.map((r) => [
      r.value,
      r.pending,
      r.approved,
      r.rejected,
      r.reversed,
      r.currency,
      formatAmount(r.payout, r.currency),
    ]),
  };
}

/** The sub key a publisher asked for, if any (`group` of the reports page). */
export const subGroup = (group: string | undefined): SubKey | null => (group && isSubKey(group) ? group : null);
