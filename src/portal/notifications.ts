// A publisher's notification endpoints (create in any format: endpoint-form.ts; test, rotate the
// secret) and the delivery log (resend), through the /api/v1 operations as the signed-in person;
// the operator sees every publisher's deliveries. The log is also a CSV export.
import type { Context } from 'hono';
import { partyFilter } from '../auth/scope';
import { html, type SafeHtml } from '../dashboard/html';
import { failingDeliveries } from '../db/deliveries';
import type { EndpointRow } from '../db/endpoints';
import { listEndpoints } from '../db/endpoints';
import { type PortalDeliveryRow, scopedDeliveriesStatement } from '../db/portal';
import { callApi, problemText } from './api';
import { csvDocument, csvResponse } from './csv';
import {
  EMPTY_ENDPOINT_FORM,
  type EndpointFormValues,
  endpointForm,
  endpointFormValues,
  endpointRequest,
  errorsByInput,
} from './endpoint-form';
import type { PortalEnv } from './env';
import { utcTime } from './format';
import { csrfField, notice, page } from './layout';
import { DELIVERY_HEAD, deliveryRows } from './rows';

const DELIVERY_LIMIT = 100;
const CSV_LIMIT = 5000;

export interface PageMessage {
  text: string;
  kind: 'ok' | 'error';
  /** Shown once in a box: a new signing secret, a test's request and answer. */
  detail?: SafeHtml;
}

function endpointRow(e: EndpointRow, csrf: string): SafeHtml {
  const events = (JSON.parse(e.events) as string[]).join(', ');
  const action = (path: string, label: string) =>
    html`<form class="inline" method="post" action="/portal/endpoints/${e.id}/${path}">${csrfField(csrf)}<button class="plain" type="submit">${label}</button></form> `;
  const payload = e.preset ? ` · preset ${e.preset}` : e.body_template ? ' · body template' : '';
  const field = e.form_field && !e.preset ? ` · field ${e.form_field}` : '';
  return html`<tr data-endpoint-id="${e.id}"><td><code>${e.url}</code><span class="id">endpoint ${e.id} · ${e.method} ${e.format}${payload}${field}</span></td>
<td>${events}</td><td><span class="status">${e.status}</span>${e.disabled_reason ? html`<span class="id">${e.disabled_reason}</span>` : null}</td>
<td>${action('test', 'Send a test')}${action('rotate-secret', 'Rotate secret')}</td></tr>`;
}

/** A refused form: what was typed, and each field's problem next to its input. */
export interface EndpointFormState {
  values: EndpointFormValues;
  errors: Record<string, string>;
}

export async function endpointsPage(
  c: Context<PortalEnv>,
  message?: PageMessage,
  status: 200 | 400 | 409 = 200,
  form: EndpointFormState = { values: EMPTY_ENDPOINT_FORM, errors: {} },
): Promise<Response> {
  const viewer = c.get('viewer');
  const scope = partyFilter(c.get('principal'));
  const endpoints = await listEndpoints(c.env.DB, { publisher_id: scope.publisher_id }, 0, 100);
  const content = html`${message ? notice(message.text, message.kind) : null}${message?.detail ?? null}
<section aria-labelledby="endpoints-title"><h2 id="endpoints-title">Your endpoints</h2>
<div class="scroll"><table id="endpoints"><thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
<tbody>${endpoints.length > 0 ? endpoints.map((e) => endpointRow(e, viewer.csrf)) : html`<tr><td colspan="4" class="muted">No endpoint yet: add one below.</td></tr>`}</tbody></table></div></section>
<section aria-labelledby="new-endpoint-title"><h2 id="new-endpoint-title">Add an endpoint</h2>
${endpointForm(viewer.csrf, form.values, form.errors)}</section>
<p><a href="/portal/deliveries">Delivery log</a></p>`;
  return c.html(page(viewer, '/portal/endpoints', 'Notifications', content), status);
}

export async function createEndpoint(c: Context<PortalEnv>): Promise<Response> {
  const values = endpointFormValues(await c.req.parseBody({ all: true }));
  const answer = await callApi<{ id?: number; signing_secret?: string }>(
    c,
    'POST',
    '/endpoints',
    endpointRequest(values),
  );
  if (answer.status !== 201) {
    const errors = errorsByInput(answer.body.error?.fields);
    return endpointsPage(c, { text: problemText(answer), kind: 'error' }, answer.status === 409 ? 409 : 400, {
      values,
      errors,
    });
  }
  return endpointsPage(c, {
    text: `Endpoint ${answer.body.id} added. Keep its signing secret: it is shown once.`,
    kind: 'ok',
    detail: html`<code class="secret" id="signing-secret">${answer.body.signing_secret ?? ''}</code>`,
  });
}

export async function endpointAction(c: Context<PortalEnv>, action: 'test' | 'rotate-secret'): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const answer = await callApi<Record<string, unknown>>(c, 'POST', `/endpoints/${encodeURIComponent(id)}/${action}`);
  if (answer.status >= 300) return endpointsPage(c, { text: problemText(answer), kind: 'error' }, 400);
  if (action === 'rotate-secret') {
    return endpointsPage(c, {
      text: `New signing secret for endpoint ${id}; the previous one keeps signing for a while.`,
      kind: 'ok',
      detail: html`<code class="secret" id="signing-secret">${String(answer.body.signing_secret ?? '')}</code>`,
    });
  }
  return endpointsPage(c, {
    text: `Test sent to endpoint ${id}.`,
    kind: 'ok',
    detail: html`<details open id="test-result"><summary>Request and answer</summary><pre class="secret">${JSON.stringify(answer.body, null, 2)}</pre></details>`,
  });
}

async function readDeliveries(c: Context<PortalEnv>, limit: number, failing: boolean) {
  const principal = c.get('principal');
  // Everybody's failing deliveries: the overview's bounded read (newest of each failing status).
  if (failing && principal.role === 'operator') return failingDeliveries(c.env.DB, limit);
  const scope = partyFilter(principal);
  return (await scopedDeliveriesStatement(c.env.DB, scope, limit, failing).all<PortalDeliveryRow>()).results;
}

export async function deliveriesPage(c: Context<PortalEnv>, message?: PageMessage): Promise<Response> {
  const viewer = c.get('viewer');
  const failing = c.req.query('failing') === '1';
  const rows = await readDeliveries(c, DELIVERY_LIMIT, failing);
  const resend = (d: PortalDeliveryRow) =>
    html`<form class="inline" method="post" action="/portal/deliveries/${d.id}/resend">${csrfField(viewer.csrf)}<button class="plain" type="submit">Resend</button></form>`;
  const content = html`${message ? notice(message.text, message.kind) : null}
<p><a href="/portal/deliveries">All</a> · <a href="/portal/deliveries?failing=1">Failing only</a> · <a id="deliveries-csv" href="/portal/deliveries.csv${failing ? '?failing=1' : ''}">Download CSV</a></p>
<section aria-labelledby="deliveries-title"><h2 id="deliveries-title">${failing ? 'Failing deliveries' : 'Latest deliveries'}</h2>
<div class="scroll"><table id="deliveries"><thead><tr>${DELIVERY_HEAD}<th scope="col">Resend</th></tr></thead>
<tbody>${rows.length > 0 ? deliveryRows(rows, resend) : html`<tr><td colspan="8" class="muted">No deliveries yet.</td></tr>`}</tbody></table></div></section>`;
  return c.html(page(viewer, '/portal/deliveries', 'Delivery log', content));
}

export async function resendDelivery(c: Context<PortalEnv>): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const answer = await callApi(c, 'POST', `/deliveries/${encodeURIComponent(id)}/resend`);
  return deliveriesPage(
    c,
    answer.status < 300
      ? { text: `Delivery ${id} queued again.`, kind: 'ok' }
      : { text: problemText(answer), kind: 'error' },
  );
}

export async function deliveriesCsv(c: Context<PortalEnv>): Promise<Response> {
  const rows = await readDeliveries(c, CSV_LIMIT, c.req.query('failing') === '1');
  const header = [
    'updated_at',
    'delivery_id',
    'endpoint_id',
    'endpoint_url',
    'publisher_id',
    'event',
    'conversion_id',
    'status',
    'attempts',
    'last_status_code',
    'last_error',
  ];
  const lines = rows.map((d) => [
    d.updated_at,
    d.id,
    d.endpoint_id,
    d.endpoint_url,
    d.publisher_id,
    d.event_type,
    d.conversion_id,
    d.status,
    d.attempts,
    d.last_status_code,
    d.last_error,
  ]);
  return csvResponse(`deliveries-${utcTime(new Date().toISOString()).slice(0, 10)}.csv`, csvDocument(header, lines));
}
