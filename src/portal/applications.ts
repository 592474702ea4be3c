// The operator's Applications page: publishers' applications to private offers, pending ones
// first as a queue, approved and rejected ones on their own tabs, each with the decision it can
// still take (approve; reject, which revokes an approved one) through POST
// /api/v1/applications/:id/approve|reject as the signed-in person.
import type { Context } from 'hono';
import { html, type SafeHtml } from '../dashboard/html';
import { type ApplicationStatus, type NamedApplicationRow, namedApplications } from '../db/applications';
import { ApiError } from '../lib/errors';
import { callApi, problemText } from './api';
import type { PortalEnv } from './env';
import { field, utcTime } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

const LIMIT = 200;
const STATUSES: ApplicationStatus[] = ['pending', 'approved', 'rejected'];
const TITLES: Record<ApplicationStatus, string> = {
  pending: 'Awaiting your decision',
  approved: 'Approved (newest first)',
  rejected: 'Rejected or revoked (newest first)',
};

function statusOf(text: string | undefined): ApplicationStatus {
  if (text === undefined || text === '') return 'pending';
  if ((STATUSES as string[]).includes(text)) return text as ApplicationStatus;
  throw new ApiError(400, 'invalid_request', 'status must be pending, approved or rejected', {
    status: 'must be pending, approved or rejected',
  });
}

function decisionButtons(a: NamedApplicationRow, csrf: string, view: ApplicationStatus): SafeHtml {
  const button = (verb: 'approve' | 'reject', label: string) =>
    html`<form class="inline" method="post" action="/portal/applications/${a.id}/${verb}">${csrfField(csrf)}<input type="hidden" name="view" value="${view}"><button class="plain" type="submit">${label}</button></form> `;
  return html`${a.status !== 'approved' ? button('approve', 'Approve') : null}${
    a.status === 'pending' ? button('reject', 'Reject') : a.status === 'approved' ? button('reject', 'Revoke') : null
  }`;
}

function applicationRow(a: NamedApplicationRow, csrf: string, view: ApplicationStatus): SafeHtml {
  const offerNote =
    a.offer_visibility === 'public' ? ' · public' : a.offer_status !== 'active' ? ` · ${a.offer_status}` : '';
  return html`<tr data-application-id="${a.id}"><td><time datetime="${a.created_at}">${utcTime(a.created_at)}</time><span class="id">application ${a.id}</span></td>
<td>${a.publisher_name}<span class="id">publisher ${a.publisher_id}</span></td>
<td>${a.offer_name}<span class="id">offer ${a.offer_id}${offerNote}</span></td>
<td>${a.message ?? html`<span class="muted">—</span>`}</td>
<td><span class="status">${a.status}</span>${a.decided_at ? html`<span class="id">${utcTime(a.decided_at)}</span>` : null}</td>
<td>${decisionButtons(a, csrf, view)}</td></tr>`;
}

export async function applicationsPage(
  c: Context<PortalEnv>,
  message?: PageMessage,
  view: ApplicationStatus = statusOf(c.req.query('status')),
  httpStatus: 200 | 400 | 404 = 200,
): Promise<Response> {
  const viewer = c.get('viewer');
  const rows = await namedApplications(c.env.DB, view, LIMIT);
  const tabs = STATUSES.map(
    (s) =>
      html`<a href="/portal/applications?status=${s}"${s === view ? html` aria-current="true"` : null}>${s[0]?.toUpperCase()}${s.slice(1)}</a>`,
  );
  const content = html`${message ? notice(message.text, message.kind) : null}
<p id="application-tabs">${tabs.map((t, i) => (i === 0 ? t : html` · ${t}`))}</p>
<section aria-labelledby="applications-title"><h2 id="applications-title">${TITLES[view]}</h2>
<div class="scroll"><table id="applications" data-status="${view}"><thead><tr><th scope="col">Applied (UTC)</th><th scope="col">Publisher</th><th scope="col">Offer</th><th scope="col">Note</th><th scope="col">Status</th><th scope="col">Decision</th></tr></thead>
<tbody>${rows.length > 0 ? rows.map((a) => applicationRow(a, viewer.csrf, view)) : html`<tr><td colspan="6" class="muted">No ${view} applications.</td></tr>`}</tbody></table></div>
${rows.length === LIMIT ? html`<p class="muted">The ${LIMIT} ${view === 'pending' ? 'oldest' : 'newest'} are shown; GET /api/v1/applications pages through all.</p>` : null}
<p class="muted">An approval lets the publisher's clicks on the private offer through within 60 seconds; revoking sends them to the offer's fallback again.</p></section>`;
  return c.html(page(viewer, '/portal/applications', 'Applications', content), httpStatus);
}

export async function decideApplicationAction(c: Context<PortalEnv>, verb: 'approve' | 'reject'): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const form = await c.req.parseBody();
  const view = STATUSES.find((s) => s === field(form, 'view')) ?? 'pending';
  const answer = await callApi<{ id?: number; status?: string; offer_id?: number; publisher_id?: number }>(
    c,
    'POST',
    `/applications/${encodeURIComponent(id)}/${verb}`,
  );
  if (answer.status !== 200) {
    const status = answer.status === 404 ? 404 : 400;
    return applicationsPage(c, { text: problemText(answer), kind: 'error' }, view, status);
  }
  const { offer_id: offer, publisher_id: publisher } = answer.body;
  const text =
    answer.body.status === 'approved'
      ? `Application ${id} approved: publisher ${publisher} may promote offer ${offer}.`
      : `Application ${id} rejected: publisher ${publisher} may not promote offer ${offer}.`;
  return applicationsPage(c, { text, kind: 'ok' }, view);
}
