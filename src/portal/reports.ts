// Reports from the daily rollups, scoped to the viewer's party: by day, offer or publisher over
// a range of UTC days, as a page and as CSV. Two rollup reads in one batch. A publisher may also
// group by sub1..sub6 (src/portal/sub-id-reports.ts): one range of its own conversions. Money
// columns are the viewer's (src/auth/money-view.ts): payout for a publisher, cost for an advertiser.
import type { Context } from 'hono';
import { moneyShown } from '../auth/money-view';
import type { Role } from '../auth/principal';
import { partyFilter } from '../auth/scope';
import { html, type SafeHtml } from '../dashboard/html';
import {
  type ClickGroupRow,
  type ConversionGroupRow,
  conversionGroupRows,
  type ReportGroup,
  scopedRollupStatements,
} from '../db/portal';
import { ApiError } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { csvDocument, csvResponse } from './csv';
import type { PortalEnv } from './env';
import { count, type DayRange, dayRange, money } from './format';
import { page } from './layout';
import { readSubIdLines, SUB_KEYS, subGroup, subIdCsv, subIdTable } from './sub-id-reports';

export interface ReportLine {
  key: string | number;
  clicks: number;
  unique_clicks: number;
  impressions: number;
  currency: string | null;
  pending: number;
  approved: number;
  rejected: number;
  reversed: number;
  revenue: bigint;
  payout: bigint;
}

/** Click rows and conversion rows (one per currency) joined into lines by key. */
export function reportLines(clicks: ClickGroupRow[], conversions: ConversionGroupRow[]): ReportLine[] {
  const lines: ReportLine[] = [];
  const clicksByKey = new Map(clicks.map((row) => [String(row.key), row]));
  const seen = new Set<string>();
  for (const cv of conversions) {
    const click = seen.has(String(cv.key)) ? undefined : clicksByKey.get(String(cv.key));
    seen.add(String(cv.key));
    lines.push({
      ...cv,
      clicks: click?.clicks ?? 0,
      unique_clicks: click?.unique_clicks ?? 0,
      impressions: click?.impressions ?? 0,
    });
  }
  for (const click of clicks) {
    if (seen.has(String(click.key))) continue;
    lines.push({
      key: click.key,
      clicks: click.clicks,
      unique_clicks: click.unique_clicks,
      impressions: click.impressions ?? 0,
      currency: null,
      pending: 0,
      approved: 0,
      rejected: 0,
      reversed: 0,
      revenue: 0n,
      payout: 0n,
    });
  }
  return lines.sort((a, b) => String(a.key).localeCompare(String(b.key), 'en', { numeric: true }));
}

export function rangeForm(action: string, range: DayRange, extra: SafeHtml | null = null): SafeHtml {
  return html`<form class="row" method="get" action="${action}" aria-label="Date range">
<label>From<input type="date" name="from" value="${range.from}" required></label>
<label>To<input type="date" name="to" value="${range.to}" required></label>${extra}
<button type="submit">Show</button></form>`;
}

export function breakdownTable(
  id: string,
  keyLabel: string,
  clicks: ClickGroupRow[],
  conversions: ConversionGroupRow[],
  role: Role,
): SafeHtml {
  const lines = reportLines(clicks, conversions);
  const shown = moneyShown(role);
  const cell = (l: ReportLine, minor: bigint) =>
    html`<td class="num">${l.currency ? money(minor, l.currency) : '—'}</td>`;
  const body = lines.map(
    (l) => html`<tr data-key="${l.key}"><td>${keyLabel === 'Day' ? l.key : `${keyLabel.toLowerCase()} ${l.key}`}</td>
<td class="num">${count.format(l.clicks)}</td><td class="num">${count.format(l.unique_clicks)}</td><td class="num impressions">${count.format(l.impressions)}</td>
<td class="num">${count.format(l.pending)}</td><td class="num">${count.format(l.approved)}</td><td class="num">${count.format(l.rejected + l.reversed)}</td>
${shown.payout ? cell(l, l.payout) : null}${shown.revenue ? cell(l, l.revenue) : null}</tr>`,
  );
  return html`<div class="scroll"><table id="${id}"><thead><tr><th scope="col">${keyLabel}</th><th scope="col" class="num">Clicks</th><th scope="col" class="num">Unique</th><th scope="col" class="num">Impressions</th>
<th scope="col" class="num">Pending</th><th scope="col" class="num">Approved</th><th scope="col" class="num">Rejected or reversed</th>
${shown.payout ? html`<th scope="col" class="num">Payout</th>` : null}${shown.revenue ? html`<th scope="col" class="num">${role === 'advertiser' ? 'Cost' : 'Revenue'}</th>` : null}</tr></thead>
<tbody>${body.length > 0 ? body : html`<tr><td colspan="8" class="muted">Nothing in this range.</td></tr>`}</tbody></table></div>`;
}

const GROUPS: Record<ReportGroup, string> = { day: 'Day', offer: 'Offer', publisher: 'Publisher' };

function reportGroup(c: Context<PortalEnv>): ReportGroup {
  const group = c.req.query('group') || 'day';
  if (group !== 'day' && group !== 'offer' && group !== 'publisher') {
    throw new ApiError(400, 'invalid_request', 'group must be day, offer or publisher', {
      group: 'must be day, offer or publisher',
    });
  }
  return group;
}

async function readReport(c: Context<PortalEnv>) {
  const range = dayRange(c.req.query(), Date.now());
  const group = reportGroup(c);
  const [clicks, conversions] = await c.env.DB.batch(
    scopedRollupStatements(c.env.DB, partyFilter(c.get('principal')), range, group),
  );
  return {
    range,
    group,
    clicks: (clicks?.results ?? []) as ClickGroupRow[],
    conversions: conversionGroupRows(conversions),
  };
}

/** A publisher's sub ID report (group=sub1..sub6): conversions from a range of its own, no clicks. */
async function readSubReport(c: Context<PortalEnv>) {
  const principal = c.get('principal');
  const sub = subGroup(c.req.query('group'));
  if (!sub || principal.role !== 'publisher') return null;
  const range = dayRange(c.req.query(), Date.now());
  return { range, sub, rows: await readSubIdLines(c.env.DB, principal.publisherId, range, sub) };
}

export async function reportsPage(c: Context<PortalEnv>): Promise<Response> {
  const subReport = await readSubReport(c);
  const { range, group, clicks, conversions } = subReport
    ? { range: subReport.range, group: subReport.sub, clicks: [], conversions: [] }
    : await readReport(c);
  const groups: [string, string][] = Object.entries(GROUPS);
  if (c.get('principal').role === 'publisher')
    groups.push(...SUB_KEYS.map((k): [string, string] => [k, `Sub ID ${k}`]));
  const choices = groups.map(
    ([g, label]) => html`<option value="${g}"${g === group ? html` selected` : ''}>${label}</option>`,
  );
  const csv = `/portal/reports.csv?from=${range.from}&to=${range.to}&group=${group}`;
  const table = subReport
    ? subIdTable(subReport.sub, subReport.rows)
    : breakdownTable('report', GROUPS[group as ReportGroup], clicks, conversions, c.get('principal').role);
  const note = subReport
    ? 'Conversions by the sub ID on your links; payout is pending + approved, per currency. Clicks are not counted by sub ID.'
    : 'Money is pending + approved, per currency. Bot clicks are not counted.';
  const content = html`${rangeForm('/portal/reports', range, html`<label>By<select name="group">${choices}</select></label>`)}
<section aria-labelledby="report-title"><h2 id="report-title">${range.from} to ${range.to}, by ${group}</h2>
${table}
<p><a id="report-csv" href="${csv}">Download CSV</a> · ${note}</p></section>`;
  return c.html(page(c.get('viewer'), '/portal/reports', 'Reports', content));
}

export async function reportsCsv(c: Context<PortalEnv>): Promise<Response> {
  const subReport = await readSubReport(c);
  if (subReport) {
    const { header, rows } = subIdCsv(subReport.sub, subReport.rows);
    const name = `report-${subReport.sub}-${subReport.range.from}-${subReport.range.to}.csv`;
    return csvResponse(name, csvDocument(header, rows));
  }
  const { range, group, clicks, conversions } = await readReport(c);
  const shown = moneyShown(c.get('principal').role);
  const amount = (l: ReportLine, minor: bigint) => (l.currency ? formatAmount(minor, l.currency) : null);
  const rows = reportLines(clicks, conversions).map((l) => [
    l.key,
    l.clicks,
    l.unique_clicks,
    l.impressions,
    l.pending,
    l.approved,
    l.rejected,
    l.reversed,
    l.currency,
    ...(shown.payout ? [amount(l, l.payout)] : []),
    ...(shown.revenue ? [amount(l, l.revenue)] : []),
  ]);
  const header = [
    group,
    ...['clicks', 'unique_clicks', 'impressions', 'pending', 'approved', 'rejected', 'reversed', 'currency'],
    ...(shown.payout ? ['payout'] : []),
    ...(shown.revenue ? ['revenue'] : []),
  ];
  return csvResponse(`report-${group}-${range.from}-${range.to}.csv`, csvDocument(header, rows));
}
