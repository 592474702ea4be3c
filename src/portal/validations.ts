// The Validation page (advertisers and operators): upload a CSV file (or paste it), see the
// dry run's outcome of every row, confirm to apply it, then follow the job and download its
// outcomes as CSV. Everything goes through POST/GET /api/v1/conversions/validations as the
// signed-in person; the file travels back in the confirm form, so nothing is stored before
// the person confirms.
import type { Context } from 'hono';
import { html, type SafeHtml } from '../dashboard/html';
import { recentValidations } from '../db/validations';
import { MAX_FILE_BYTES } from '../month/upload';
import type { RowOutcome } from '../month/validations';
import { callApi, problemText } from './api';
import { csvDocument, csvResponse } from './csv';
import type { PortalEnv } from './env';
import { count as number, rawField, utcTime } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

interface Validation {
  id: string | null;
  status: string;
  rows_total: number;
  rows_done: number;
  changed: number;
  unchanged: number;
  failed: number;
  rows: RowOutcome[];
  created_at: string | null;
}

const CURRENT = '/portal/validations';
/** Rows a page shows; the CSV download has them all. */
const SHOWN = 500;

function outcomeTable(rows: RowOutcome[], id: string): SafeHtml {
  const shown = rows.slice(0, SHOWN);
  return html`<div class="scroll"><table id="${id}"><thead><tr><th scope="col">Row</th><th scope="col">Order ID</th><th scope="col">Conversion</th><th scope="col">Asked</th><th scope="col">Outcome</th><th scope="col">What</th></tr></thead>
<tbody>${shown.map(
    (
      r,
    ) => html`<tr data-row="${r.row}"><td>${r.row}${r.line ? html`<span class="id">line ${r.line}</span>` : null}</td><td>${r.order_id ?? '—'}</td><td><span class="id">${r.conversion_id ?? ''}</span></td>
<td>${r.status ?? ''}${r.amount ? html`<span class="id">amount ${r.amount}</span>` : null}</td><td><span class="status">${r.outcome}</span>${r.code ? html`<span class="id">${r.code}</span>` : null}</td><td>${r.message}</td></tr>`,
  )}</tbody></table></div>${rows.length > SHOWN ? html`<p class="muted">The first ${SHOWN} of ${number.format(rows.length)} rows are shown.</p>` : null}`;
}

const totals = (v: Validation) =>
  html`<p id="validation-counts"><strong>${number.format(v.changed)}</strong> changed · <strong>${number.format(v.unchanged)}</strong> unchanged · <strong>${number.format(v.failed)}</strong> failed · ${number.format(v.rows_done)} of ${number.format(v.rows_total)} rows done</p>`;

export async function validationsPage(c: Context<PortalEnv>, message?: PageMessage, status: 200 | 400 | 413 = 200) {
  const viewer = c.get('viewer');
  const principal = c.get('principal');
  const jobs = await recentValidations(c.env.DB, principal.role === 'advertiser' ? principal.advertiserId : null, 20);
  const content = html`${message ? notice(message.text, message.kind) : null}
<section aria-labelledby="upload-title"><h2 id="upload-title">Validate conversions from a file</h2>
<p>A CSV file with a header line: <code>order_id</code> (or <code>conversion_id</code>), <code>status</code> (approved, rejected or reversed), and optionally <code>amount</code> (the amended sale amount, with a <code>reason</code>) and <code>offer_id</code> (when an order ID is used on several offers). Commas, semicolons or tabs; at most 10,000 rows. You see what each row would do before anything changes.</p>
<form class="stack" method="post" action="/portal/validations/preview" enctype="multipart/form-data">${csrfField(viewer.csrf)}
<label>File<input type="file" name="file" accept=".csv,text/csv"></label>
<label>Or paste the rows<textarea name="csv" rows="6" placeholder="order_id,status,amount,reason"></textarea></label>
<button type="submit">Preview</button>
</form></section>
<section aria-labelledby="jobs-title"><h2 id="jobs-title">Recent validations</h2>
<div class="scroll"><table id="validations"><thead><tr><th scope="col">Sent (UTC)</th><th scope="col">Rows</th><th scope="col">Status</th></tr></thead>
<tbody>${jobs.length > 0 ? jobs.map((j) => html`<tr><td><a href="/portal/validations/${j.id}">${utcTime(j.created_at)}</a><span class="id">${j.id}</span></td><td class="num">${number.format(j.rows_total)}</td><td>${j.status}</td></tr>`) : html`<tr><td colspan="3" class="muted">No validations yet.</td></tr>`}</tbody></table></div></section>`;
  return c.html(page(viewer, CURRENT, 'Validation', content), status);
}

/** The uploaded file, or the pasted text. */
async function fileText(form: Record<string, unknown>): Promise<string> {
  const file = form.file;
  if (file instanceof File && file.size > 0) {
    return file.size > MAX_FILE_BYTES ? '' : await file.text();
  }
  return rawField(form, 'csv');
}

export async function previewValidation(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const file = form.file;
  if (file instanceof File && file.size > MAX_FILE_BYTES) {
    return validationsPage(
      c,
      { text: `The file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB: split it.`, kind: 'error' },
      413,
    );
  }
  const text = await fileText(form);
  if (text.trim() === '') return validationsPage(c, { text: 'Choose a file or paste its rows.', kind: 'error' }, 400);
  const answer = await callApi<Validation>(c, 'POST', '/conversions/validations?dry_run=true', text, 'text/csv');
  if (answer.status !== 200) {
    return validationsPage(c, { text: problemText(answer), kind: 'error' }, answer.status === 413 ? 413 : 400);
  }
  const viewer = c.get('viewer');
  const v = answer.body;
  const content = html`<p class="notice" role="status">Nothing has changed yet. This is what the file would do.</p>${totals(v)}
${
  v.changed > 0
    ? html`<form class="stack" method="post" action="/portal/validations">${csrfField(viewer.csrf)}<textarea name="csv" hidden>${text}</textarea><button type="submit" id="confirm">Apply ${number.format(v.changed)} changes</button></form>`
    : html`<p>No row would change anything.</p>`
}
${outcomeTable(v.rows, 'preview')}
<p><a href="/portal/validations">Start again</a></p>`;
  return c.html(page(viewer, CURRENT, 'Validation preview', content));
}

export async function applyValidation(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const text = rawField(form, 'csv');
  const answer = await callApi<Validation>(c, 'POST', '/conversions/validations', text, 'text/csv');
  if (answer.status !== 200 && answer.status !== 202) {
    return validationsPage(c, { text: problemText(answer), kind: 'error' }, 400);
  }
  return c.redirect(`/portal/validations/${answer.body.id}`, 303);
}

export async function validationPage(c: Context<PortalEnv>): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const answer = await callApi<Validation>(c, 'GET', `/conversions/validations/${encodeURIComponent(id)}`);
  const viewer = c.get('viewer');
  if (answer.status !== 200) {
    return c.html(page(viewer, CURRENT, 'Validation', html`${notice(problemText(answer), 'error')}`), 404);
  }
  const v = answer.body;
  const running = v.status !== 'done';
  const failed = v.rows.filter((r) => r.outcome === 'failed');
  const content = html`${running ? notice(`Applying: ${v.rows_done} of ${v.rows_total} rows done. Reload this page to follow.`) : notice('Done.')}
${totals(v)}
<p><a id="results-csv" href="/portal/validations/${id}/results.csv">Download every row's outcome (CSV)</a> · <a href="/portal/validations">Validate another file</a></p>
<section aria-labelledby="failed-title"><h2 id="failed-title">Failed rows</h2>
${failed.length > 0 ? outcomeTable(failed, 'failed-rows') : html`<p class="muted">None.</p>`}</section>`;
  return c.html(page(viewer, CURRENT, `Validation ${id}`, content));
}

/** Every row's outcome; a value a spreadsheet would run as a formula is written as text. */
export async function validationCsv(c: Context<PortalEnv>): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const answer = await callApi<Validation>(c, 'GET', `/conversions/validations/${encodeURIComponent(id)}`);
  if (answer.status !== 200) return c.text('Not found', 404);
  const header = [
    'row',
    'line',
    'order_id',
    'conversion_id',
    'offer_id',
    'status',
    'amount',
    'reason',
    'outcome',
    'code',
    'message',
    'locked',
  ];
  const lines = answer.body.rows.map((r) => [
    r.row,
    r.line,
    r.order_id,
    r.conversion_id,
    r.offer_id,
    r.status,
    r.amount,
    r.reason,
    r.outcome,
    r.code,
    r.message,
    r.locked ? 'true' : 'false',
  ]);
  return csvResponse(`validation-${id}.csv`, csvDocument(header, lines));
}
