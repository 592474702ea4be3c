// Statements (publishers, operator) and invoices (advertisers, operator) in the portal: a list
// per role, a printable page per document (print CSS hides navigation and buttons, so a person
// prints it to PDF), and the operator's run / issue / paid forms. Everything is read and
// changed through /api/v1 as the signed-in person, so scope is the API's.
import type { Context } from 'hono';
import { html, type SafeHtml } from '../dashboard/html';
import { getAdvertiser } from '../db/advertisers';
import { getPublisher } from '../db/publishers';
import { operatorTimeZone } from '../lib/timezone';
import { type Balance, readBalances } from '../statements/balances';
import { type DocumentKind, KINDS, type KindSpec } from '../statements/kinds';
import { callApi, problemText } from './api';
import type { PortalEnv } from './env';
import { field, money, utcTime } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

interface DocumentAnswer {
  id: number;
  period: string;
  period_start: string;
  period_end: string;
  publisher_id?: number;
  advertiser_id?: number;
  currency: string;
  status: string;
  total: string;
  line_count: number;
  minimum_payout?: string | null;
  reference: string | null;
  created_at: string;
  issued_at: string | null;
  paid_at: string | null;
}

interface LineAnswer {
  id: number;
  conversion_id: string;
  type: string;
  offer_id: number;
  order_id: string | null;
  conversion_time: string;
  conversion_status: string;
  amount: string;
  [value: string]: string | number | null;
}

type Detail = DocumentAnswer & { lines: LineAnswer[]; lines_next_cursor: string | null };

const path = (spec: KindSpec) => `/portal/${spec.plural}`;
const partyOf = (spec: KindSpec, d: DocumentAnswer) => (spec.party === 'publisher' ? d.publisher_id : d.advertiser_id);
const statusBadge = (status: string) => html`<span class="status status-${status}">${status}</span>`;

function actions(spec: KindSpec, d: DocumentAnswer, csrf: string): SafeHtml | null {
  const action = `${path(spec)}/${d.id}`;
  if (d.status === 'draft') {
    return html`<form class="inline" method="post" action="${action}/issue">${csrfField(csrf)}<button type="submit">Issue</button></form>`;
  }
  if (d.status === 'issued') {
    return html`<form class="inline row" method="post" action="${action}/paid">${csrfField(csrf)}<label>Payment reference<input name="reference" required maxlength="200"></label><button type="submit">Mark paid</button></form>`;
  }
  return null;
}

export async function documentListPage(
  c: Context<PortalEnv>,
  kind: DocumentKind,
  message?: PageMessage,
  httpStatus: 200 | 400 | 404 = 200,
): Promise<Response> {
  const spec = KINDS[kind];
  const viewer = c.get('viewer');
  const operator = viewer.role === 'operator';
  const answer = await callApi<{ data: DocumentAnswer[] }>(c, 'GET', `/${spec.plural}?limit=200`);
  const rows = (answer.body.data ?? []).map(
    (d) => html`<tr data-document-id="${d.id}"><td><a href="${path(spec)}/${d.id}">${spec.title} ${d.id}</a></td>
<td>${d.period}</td>${operator ? html`<td>${spec.party} ${partyOf(spec, d)}</td>` : null}<td>${statusBadge(d.status)}</td>
<td class="num">${d.line_count}</td><td class="num">${d.total} ${d.currency}</td>
${operator ? html`<td>${actions(spec, d, viewer.csrf)}</td>` : null}</tr>`,
  );
  const runForm = operator
    ? html`<section aria-labelledby="run-title"><h2 id="run-title">Close a month</h2>
<form class="row" method="post" action="${path(spec)}">${csrfField(viewer.csrf)}<label>Period (YYYY-MM, ${operatorTimeZone(c.env)})<input name="period" required pattern="\\d{4}-\\d{2}" placeholder="2026-11"></label><button type="submit">Build ${spec.plural}</button></form>
<p class="muted">Builds a draft per ${spec.party} and currency; running a month again rebuilds its drafts. Issued ${spec.plural} never change: later changes become adjustment lines on the next one.</p></section>`
    : null;
  const content = html`${message ? notice(message.text, message.kind) : null}${runForm}
<section aria-labelledby="documents-title"><h2 id="documents-title">${operator ? `All ${spec.plural}` : `Your ${spec.plural}`}</h2>
<div class="scroll"><table id="documents"><thead><tr><th scope="col">${spec.title}</th><th scope="col">Period</th>${operator ? html`<th scope="col">For</th>` : null}<th scope="col">Status</th><th scope="col" class="num">Lines</th><th scope="col" class="num">Total</th>${operator ? html`<th scope="col"></th>` : null}</tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="7" class="muted">No ${spec.plural} yet.</td></tr>`}</tbody></table></div>
<p class="muted">carried: below the minimum (or not positive), its lines wait for the next month.</p></section>`;
  return c.html(page(viewer, path(spec), `${spec.title}s`, content), httpStatus);
}

async function partyName(env: Env, spec: KindSpec, id: number | undefined): Promise<string> {
  if (id === undefined) return '';
  const row = spec.party === 'publisher' ? await getPublisher(env.DB, id) : await getAdvertiser(env.DB, id);
  return row?.name ?? `${spec.party} ${id}`;
}

export async function documentPage(
  c: Context<PortalEnv>,
  kind: DocumentKind,
  message?: PageMessage,
): Promise<Response> {
  const spec = KINDS[kind];
  const viewer = c.get('viewer');
  const answer = await callApi<Detail>(c, 'GET', `/${spec.plural}/${encodeURIComponent(c.req.param('id') ?? '')}`);
  if (answer.status !== 200) {
    return documentListPage(c, kind, { text: problemText(answer), kind: 'error' }, answer.status === 404 ? 404 : 400);
  }
  const d = answer.body;
  const valueField = `conversion_${spec.value}`;
  const lines = d.lines.map(
    (
      l,
    ) => html`<tr data-line-id="${l.id}"><td>${utcTime(l.conversion_time)}</td><td><code>${l.conversion_id}</code></td><td>${l.offer_id}</td>
<td class="order">${l.order_id ?? ''}</td><td>${l.conversion_status}</td><td>${l.type}</td><td class="num">${String(l[valueField] ?? '')}</td><td class="num">${l.amount}</td></tr>`,
  );
  const more = d.lines_next_cursor
    ? html`<p class="muted">The first ${d.lines.length} of ${d.line_count} lines are shown; every line is in GET /api/v1/${spec.plural}/${d.id} with Accept: text/csv.</p>`
    : null;
  const party = await partyName(c.env, spec, partyOf(spec, d));
  const dates = html`${d.issued_at ? html`<dt>Issued</dt><dd>${utcTime(d.issued_at)} UTC</dd>` : null}${d.paid_at ? html`<dt>Paid</dt><dd>${utcTime(d.paid_at)} UTC</dd>` : null}${d.reference ? html`<dt>Reference</dt><dd>${d.reference}</dd>` : null}`;
  const operatorActions = viewer.role === 'operator' ? actions(spec, d, viewer.csrf) : null;
  const content = html`${message ? notice(message.text, message.kind) : null}
<article class="document" id="document" data-status="${d.status}">
<div class="document-head"><div><h2 id="document-title">${spec.title} ${d.id}</h2>
<p>${party} · ${spec.party} ${partyOf(spec, d)}</p>
<p>Period ${d.period} (a month in ${operatorTimeZone(c.env)}) · amounts in ${d.currency}</p></div>
<dl class="facts"><dt>Status</dt><dd>${statusBadge(d.status)}</dd>${dates}${d.minimum_payout ? html`<dt>Minimum payout</dt><dd>${d.minimum_payout} ${d.currency}</dd>` : null}</dl></div>
<table id="lines"><thead><tr><th scope="col">Conversion time (UTC)</th><th scope="col">Conversion</th><th scope="col">Offer</th><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Line</th><th scope="col" class="num">${spec.kind === 'statement' ? 'Payout' : 'Revenue'}</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${lines}</tbody>
<tfoot><tr><th scope="row" colspan="7">Total (${d.line_count} lines)</th><td class="num" id="document-total"><strong>${d.total} ${d.currency}</strong></td></tr></tfoot></table>
${more}
<p class="muted">An adjustment line states a change to a conversion after it was on an earlier ${spec.kind}: the difference, negative for a reversal.${d.status === 'carried' ? ' This one is carried: its total is below the minimum, so its lines wait for the next month.' : ''}</p>
</article>
<p class="no-print">${operatorActions} <a href="${path(spec)}">All ${spec.plural}</a> · Print this page (or save it as PDF) for your records.</p>`;
  return c.html(page(viewer, path(spec), `${spec.title} ${d.id}`, content));
}

export async function runAction(c: Context<PortalEnv>, kind: DocumentKind): Promise<Response> {
  const spec = KINDS[kind];
  const form = await c.req.parseBody();
  const answer = await callApi<{ period?: string; draft?: number; carried?: number; lines?: number }>(
    c,
    'POST',
    `/${spec.plural}`,
    { period: field(form, 'period') },
  );
  if (answer.status !== 200) return documentListPage(c, kind, { text: problemText(answer), kind: 'error' }, 400);
  const b = answer.body;
  return documentListPage(c, kind, {
    text: `${b.period}: ${b.draft} draft ${spec.plural}, ${b.carried} carried forward, ${b.lines} lines.`,
    kind: 'ok',
  });
}

export async function changeAction(
  c: Context<PortalEnv>,
  kind: DocumentKind,
  verb: 'issue' | 'paid',
): Promise<Response> {
  const spec = KINDS[kind];
  const id = c.req.param('id') ?? '';
  const form = await c.req.parseBody();
  const body = verb === 'paid' ? { reference: field(form, 'reference') } : undefined;
  const answer = await callApi<DocumentAnswer>(c, 'POST', `/${spec.plural}/${encodeURIComponent(id)}/${verb}`, body);
  if (answer.status !== 200) {
    return documentListPage(c, kind, { text: problemText(answer), kind: 'error' }, answer.status === 404 ? 404 : 400);
  }
  const text = `${spec.title} ${id} ${verb === 'issue' ? 'issued: it is locked now' : `paid (${answer.body.reference})`}.`;
  return documentPage(c, kind, { text, kind: 'ok' });
}

function balanceCells(b: Record<keyof Balance, string>): SafeHtml {
  return html`<td class="num">${b.pending}</td><td class="num">${b.approved}</td><td class="num">${b.unstated}</td><td class="num">${b.draft}</td><td class="num">${b.issued}</td><td class="num">${b.paid}</td>`;
}

/** The operator overview's section: what is owed and what is paid, by currency. */
export async function balancesSection(db: D1Database): Promise<SafeHtml> {
  const rows = await readBalances(db);
  const format = (b: Balance, currency: string) =>
    Object.fromEntries(Object.entries(b).map(([k, v]) => [k, money(v, currency)])) as Record<keyof Balance, string>;
  const body = rows.flatMap((r) => [
    html`<tr data-currency="${r.currency}" data-side="payout"><th scope="row">${r.currency} payout (publishers)</th>${balanceCells(format(r.payout, r.currency))}</tr>`,
    html`<tr data-currency="${r.currency}" data-side="revenue"><th scope="row">${r.currency} revenue (advertisers)</th>${balanceCells(format(r.revenue, r.currency))}</tr>`,
  ]);
  return html`<section aria-labelledby="balances-title"><h2 id="balances-title">Owed and paid</h2>
<div class="scroll"><table id="balances"><thead><tr><th scope="col"></th><th scope="col" class="num">Pending</th><th scope="col" class="num">Approved</th><th scope="col" class="num">Not on a statement</th><th scope="col" class="num">Draft</th><th scope="col" class="num">Issued, unpaid</th><th scope="col" class="num">Paid</th></tr></thead>
<tbody>${body.length > 0 ? body : html`<tr><td colspan="7" class="muted">No conversions yet.</td></tr>`}</tbody></table></div>
<p class="muted"><a href="/portal/statements">Statements</a> · <a href="/portal/invoices">Invoices</a> · GET /api/v1/reports/balances</p></section>`;
}
