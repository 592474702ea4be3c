// Conversions of the viewer's party over a date range (a range of the party's conversions index),
// as a page and as CSV. Advertisers and operators decide on them here: approve, reject or
// reverse go through POST /api/v1/conversions/:id/status as the signed-in person.
import type { Context } from 'hono';
import { moneyShown } from '../auth/money-view';
import { partyFilter } from '../auth/scope';
import { CONVERSION_STATUSES, type ConversionStatus } from '../conversions/status';
import { html, type SafeHtml } from '../dashboard/html';
import { type PortalConversionRow, scopedConversionsStatement } from '../db/portal';
import { ApiError } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { callApi, problemText } from './api';
import { csvDocument, csvResponse } from './csv';
import type { PortalEnv } from './env';
import { dayRange, field, instants } from './format';
import { csrfField, notice, page } from './layout';
import { rangeForm } from './reports';
import { conversionHead, conversionRows } from './rows';

export const PAGE_LIMIT = 200;
export const CSV_LIMIT = 5000;

function statusFilter(text: string | undefined): ConversionStatus | undefined {
  if (!text) return undefined;
  if (!(CONVERSION_STATUSES as readonly string[]).includes(text)) {
    throw new ApiError(400, 'invalid_request', `status must be one of ${CONVERSION_STATUSES.join(', ')}`, {
      status: `must be one of ${CONVERSION_STATUSES.join(', ')}`,
    });
  }
  return text as ConversionStatus;
}

async function readConversions(c: Context<PortalEnv>, limit: number) {
  const range = dayRange(c.req.query(), Date.now());
  const status = statusFilter(c.req.query('status'));
  const rows = (
    await scopedConversionsStatement(
      c.env.DB,
      partyFilter(c.get('principal')),
      instants(range),
      limit,
      status,
    ).all<PortalConversionRow>()
  ).results;
  return { range, status, rows };
}

const NEXT: Partial<Record<ConversionStatus, ConversionStatus[]>> = {
  pending: ['approved', 'rejected'],
  approved: ['reversed'],
};
const VERB: Record<ConversionStatus, string> = {
  approved: 'Approve',
  rejected: 'Reject',
  reversed: 'Reverse',
  pending: 'Pending',
};

function decisionForms(csrf: string, back: string): (cv: PortalConversionRow) => SafeHtml | null {
  return (cv) => {
    const next = NEXT[cv.status] ?? [];
    if (next.length === 0) return null;
    return html`${next.map(
      (to) =>
        html`<form class="inline" method="post" action="/portal/conversions/${cv.id}/status">${csrfField(csrf)}<input type="hidden" name="status" value="${to}"><input type="hidden" name="back" value="${back}"><button class="plain" type="submit">${VERB[to]}</button></form> `,
    )}`;
  };
}

export async function conversionsPage(
  c: Context<PortalEnv>,
  message?: { text: string; kind: 'ok' | 'error' },
): Promise<Response> {
  const { range, status, rows } = await readConversions(c, PAGE_LIMIT);
  const viewer = c.get('viewer');
  const decides = viewer.role !== 'publisher';
  const query = `from=${range.from}&to=${range.to}${status ? `&status=${status}` : ''}`;
  const statuses = ['', ...CONVERSION_STATUSES].map(
    (s) => html`<option value="${s}"${s === (status ?? '') ? html` selected` : ''}>${s || 'any status'}</option>`,
  );
  const content = html`${message ? notice(message.text, message.kind) : null}
${rangeForm('/portal/conversions', range, html`<label>Status<select name="status">${statuses}</select></label>`)}
<section aria-labelledby="conversions-title"><h2 id="conversions-title">${rows.length}${rows.length === PAGE_LIMIT ? '+' : ''} conversions, newest first</h2>
<div class="scroll"><table id="conversions"><thead><tr>${conversionHead(viewer.role)}${decides ? html`<th scope="col">Decide</th>` : null}</tr></thead>
<tbody>${rows.length > 0 ? conversionRows(rows, viewer.role, decides ? decisionForms(viewer.csrf, `/portal/conversions?${query}`) : undefined) : html`<tr><td colspan="9" class="muted">No conversions in this range.</td></tr>`}</tbody></table></div>
<p><a id="conversions-csv" href="/portal/conversions.csv?${query}">Download CSV</a></p></section>`;
  return c.html(page(viewer, '/portal/conversions', 'Conversions', content));
}

export async function conversionsCsv(c: Context<PortalEnv>): Promise<Response> {
  const { range, rows } = await readConversions(c, CSV_LIMIT);
  const shown = moneyShown(c.get('principal').role);
  const header = [
    ...[
      'created_at',
      'conversion_id',
      'order_id',
      'click_id',
      'offer_id',
      'offer',
      'publisher_id',
      'publisher',
      'goal',
      'status',
      'sub1',
      'source',
      'attribution',
    ],
    ...['currency', 'amount', 'payout_currency'],
    ...(shown.payout ? ['payout'] : []),
    ...(shown.revenue ? ['revenue'] : []),
  ];
  const lines = rows.map((cv) => [
    cv.created_at,
    cv.id,
    cv.order_id,
    cv.click_id,
    cv.offer_id,
    cv.offer_name,
    cv.publisher_id,
    cv.publisher_name,
    cv.goal_key,
    cv.status,
    cv.sub1,
    cv.source,
    cv.attribution,
    cv.currency,
    formatAmount(cv.amount, cv.currency),
    cv.payout_currency,
    ...(shown.payout ? [formatAmount(cv.payout, cv.payout_currency)] : []),
    ...(shown.revenue ? [formatAmount(cv.revenue, cv.payout_currency)] : []),
  ]);
  return csvResponse(`conversions-${range.from}-${range.to}.csv`, csvDocument(header, lines));
}

/** A decision from the list: the API checks scope and lifecycle; the page says what happened. */
export async function decideConversion(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const id = c.req.param('id') ?? '';
  const to = field(form, 'status');
  const answer = await callApi<{ status?: string; changed?: boolean }>(
    c,
    'POST',
    `/conversions/${encodeURIComponent(id)}/status`,
    {
      status: to,
      reason: 'Decided in the portal',
    },
  );
  const message =
    answer.status === 200
      ? { text: `Conversion ${id} is ${answer.body.status}.`, kind: 'ok' as const }
      : { text: problemText(answer), kind: 'error' as const };
  return conversionsPage(c, message);
}
