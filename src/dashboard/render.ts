// The dashboard page as one self-contained HTML document: no script, no external resource, one
// inline stylesheet (allowed by its hash in the Content-Security-Policy, see index.ts). Every
// value goes through the escaping `html` tag: offer and publisher names are operator input and
// order IDs come from advertisers.
import { formatAmount, type Minor } from '../lib/money';
import { cappedSection } from './capped-conversions';
import { renderChart, shortDay } from './chart';
import type { DashboardData, DeliveryCounts, RecentConversion } from './data';
import { html, raw, type SafeHtml } from './html';

export const STYLESHEET = `
:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b2130;--muted:#5a6374;--card:#fff;--line:#dde2ea;--clicks:#2563eb;--conversions:#15803d;--ok:#15803d;--warn:#b45309;--bad:#b91c1c}
@media (prefers-color-scheme:dark){:root{--bg:#10141b;--fg:#e5e8ee;--muted:#9aa3b3;--card:#19202a;--line:#2b3441;--ok:#4ade80;--warn:#fbbf24;--bad:#f87171}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 20px}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px;padding-top:18px}
h1{font-size:20px;margin:0}
h2{font-size:15px;margin:0 0 10px}
.muted,header p{color:var(--muted);margin:0}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin:16px 0}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:0}
.kpi{border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.kpi dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.kpi dd{margin:2px 0 0;font-size:26px;font-weight:600;font-variant-numeric:tabular-nums}
.kpi dd.note{font-size:12px;font-weight:400;color:var(--muted)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px}
td.num,th.num{text-align:right}
.money{margin-top:14px}
caption{caption-side:top;text-align:left;padding:0 0 6px;font-size:12px}
.scroll{overflow-x:auto}
.id{display:block;color:var(--muted);font:11px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.order{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.status{font-size:12px;padding:1px 6px;border-radius:9px;border:1px solid var(--line)}
.status-approved{color:var(--ok)}.status-rejected,.status-reversed{color:var(--bad)}
.dl{white-space:nowrap;margin-right:8px}
.dl-delivered{color:var(--ok)}.dl-retrying,.dl-pending{color:var(--warn)}.dl-dead{color:var(--bad);font-weight:600}
figure{margin:0}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart text{fill:var(--muted);font-size:11px}
.chart .panel-title{fill:var(--fg);font-size:12px;font-weight:600}
.bar-clicks{fill:var(--clicks)}
.bar-conversions{fill:var(--conversions)}
.legend{display:flex;gap:16px;color:var(--muted);font-size:12px;margin:6px 0 0}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.swatch-clicks{background:var(--clicks)}.swatch-conversions{background:var(--conversions)}
details{margin-top:10px}
summary{cursor:pointer;color:var(--muted)}
footer{color:var(--muted);font-size:12px;padding-bottom:24px}
`;

const count = new Intl.NumberFormat('en-US');

/** Thousands separators on an exact decimal string from formatAmount ("1234567.89" -> "1,234,567.89"). */
export function groupDigits(decimal: string): string {
  const negative = decimal.startsWith('-');
  const [whole = '', fraction] = (negative ? decimal.slice(1) : decimal).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** "1,234.56 EUR": exact minor units, never rounded through floating point. */
export function money(minor: Minor, currency: string): string {
  return `${groupDigits(formatAmount(minor, currency))} ${currency}`;
}

const utcTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;

const DELIVERY_ORDER = ['delivered', 'retrying', 'pending', 'dead'] as const;

function deliveryState(counts: DeliveryCounts): SafeHtml {
  const parts = DELIVERY_ORDER.filter((status) => counts[status] > 0).map(
    (status) => html`<span class="dl dl-${status}">${counts[status]} ${status}</span>`,
  );
  return parts.length > 0 ? html`${parts}` : html`<span class="muted">no endpoint</span>`;
}

function kpi(id: string, label: string, value: number, note: SafeHtml | string | null = null): SafeHtml {
  return html`<div class="kpi"><dt>${label}</dt><dd id="${id}">${count.format(value)}</dd>${note === null ? null : html`<dd class="note">${note}</dd>`}</div>`;
}

function todaySection(data: DashboardData): SafeHtml {
  const { clicks, conversions } = data;
  const counted = conversions.pending + conversions.approved;
  const moneyRows = data.money.map(
    (m) =>
      html`<tr data-currency="${m.currency}"><td>${m.currency}</td><td class="num conversions">${count.format(m.conversions)}</td><td class="num revenue">${money(m.revenue, m.currency)}</td><td class="num payout">${money(m.payout, m.currency)}</td></tr>`,
  );
  return html`<section aria-labelledby="today-title">
<h2 id="today-title">Today <span class="muted">(UTC day ${data.today})</span></h2>
<dl class="kpis">
${kpi('today-clicks', 'Clicks', clicks.clicks, `${count.format(clicks.bot_clicks)} bot ${clicks.bot_clicks === 1 ? 'click' : 'clicks'} not counted`)}
${kpi('today-unique-clicks', 'Unique clicks', clicks.unique_clicks)}
${kpi('today-impressions', 'Impressions', clicks.impressions ?? 0)}
${kpi('today-conversions', 'Conversions', counted, html`<span id="today-conversion-statuses">${count.format(conversions.pending)} pending · ${count.format(conversions.approved)} approved · ${count.format(conversions.rejected)} rejected · ${count.format(conversions.reversed)} reversed</span>`)}
</dl>
<table class="money" id="today-money">
<caption class="muted">Revenue and payout of today's pending and approved conversions, per payout currency</caption>
<thead><tr><th scope="col">Currency</th><th scope="col" class="num">Conversions</th><th scope="col" class="num">Revenue</th><th scope="col" class="num">Payout</th></tr></thead>
<tbody>${moneyRows.length > 0 ? moneyRows : html`<tr><td colspan="4" class="muted">No conversions today.</td></tr>`}</tbody>
</table>
</section>`;
}

function chartSection(data: DashboardData): SafeHtml {
  const rows = [...data.days]
    .reverse()
    .map(
      (d) =>
        html`<tr data-day="${d.day}"><td>${d.day}</td><td class="num">${count.format(d.clicks)}</td><td class="num">${count.format(d.conversions)}</td></tr>`,
    );
  return html`<section aria-labelledby="chart-section-title">
<h2 id="chart-section-title">Last ${data.days.length} days <span class="muted">(UTC, ${shortDay(data.days[0]?.day ?? data.today)} to ${shortDay(data.today)})</span></h2>
<figure id="daily-chart">${renderChart(data.days)}
<figcaption class="legend"><span><span class="swatch swatch-clicks"></span>Clicks (bots not counted)</span><span><span class="swatch swatch-conversions"></span>Conversions (pending + approved)</span></figcaption>
</figure>
<details><summary>Daily numbers</summary><div class="scroll"><table id="daily-table"><thead><tr><th scope="col">Day</th><th scope="col" class="num">Clicks</th><th scope="col" class="num">Conversions</th></tr></thead><tbody>${rows}</tbody></table></div></details>
</section>`;
}

function recentRow(cv: RecentConversion): SafeHtml {
  return html`<tr data-conversion-id="${cv.id}">
<td><time datetime="${cv.created_at}">${utcTime(cv.created_at)}</time></td>
<td><span class="order">${cv.order_id ?? '—'}</span><span class="id">${cv.id}</span></td>
<td>${cv.offer_name ?? 'Deleted offer'}<span class="id">offer ${cv.offer_id}</span></td>
<td>${cv.publisher_name ?? 'Deleted publisher'}<span class="id">publisher ${cv.publisher_id}</span></td>
<td>${cv.event}<span class="id source">${cv.source ?? 'server'}</span></td>
<td><span class="status status-${cv.status}">${cv.status}</span></td>
<td class="num amount">${money(cv.amount, cv.currency)}</td>
<td class="num revenue">${money(cv.revenue, cv.payout_currency)}</td>
<td class="num payout">${money(cv.payout, cv.payout_currency)}</td>
<td class="deliveries">${deliveryState(cv.deliveries)}</td>
</tr>`;
}

function recentSection(data: DashboardData, limit: number): SafeHtml {
  return html`<section aria-labelledby="recent-title">
<h2 id="recent-title">Recent conversions <span class="muted">(newest ${limit}, all days)</span></h2>
<div class="scroll"><table id="recent-conversions">
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Order ID</th><th scope="col">Offer</th><th scope="col">Publisher</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col" class="num">Sale amount</th><th scope="col" class="num">Revenue</th><th scope="col" class="num">Payout</th><th scope="col">Notifications</th></tr></thead>
<tbody>${data.recent.length > 0 ? data.recent.map(recentRow) : html`<tr><td colspan="10" class="muted">No conversions yet.</td></tr>`}</tbody>
</table></div>
</section>`;
}

/** The operator overview's sections and the stylesheet they need (src/portal/overview.ts). */
export interface OverviewPart {
  sections: SafeHtml;
  stylesheet: string;
  /** The parked queue messages' alert line, shown first (src/dashboard/parked.ts). */
  alert?: SafeHtml;
}

export function renderDashboard(data: DashboardData, recentLimit: number, overview?: OverviewPart): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>Clickhop dashboard</title>
<style>${raw(overview?.stylesheet ?? STYLESHEET)}</style>
</head>
<body>
<header><h1>Clickhop</h1><p>Operator dashboard · read at <time datetime="${data.generated_at}">${utcTime(data.generated_at)} UTC</time> · <a href="/portal">Portal</a></p></header>
<main>
${overview?.alert ?? null}
${todaySection(data)}
${chartSection(data)}
${overview ? html`<h2 class="page-title" id="overview-title">Breakdowns, approvals and failing deliveries</h2>${overview.sections}` : null}
${recentSection(data, recentLimit)}
${cappedSection(data.capped)}
</main>
<footer>Counts come from the daily rollups; clicks reach them through the clicks queue within seconds. Reload the page for fresh numbers.</footer>
</body>
</html>
`.toString();
}
