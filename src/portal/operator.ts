// Operator pages: people (invite through POST /api/v1/users, which answers the invitation link)
// and the audit log (newest first, a range of its primary key).
import type { Context } from 'hono';
import { html } from '../dashboard/html';
import { listAudit } from '../db/audit';
import { listUsers } from '../db/users';
import { callApi, problemText } from './api';
import type { PortalEnv } from './env';
import { field, utcTime } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

export async function peoplePage(c: Context<PortalEnv>, message?: PageMessage): Promise<Response> {
  const viewer = c.get('viewer');
  const users = await listUsers(c.env.DB, {}, 0, 500);
  const rows = users.map(
    (u) => html`<tr data-user-id="${u.id}"><td>${u.email}<span class="id">user ${u.id}</span></td>
<td>${u.role}${u.publisher_id ? ` (publisher ${u.publisher_id})` : ''}${u.advertiser_id ? ` (advertiser ${u.advertiser_id})` : ''}</td>
<td><span class="status">${u.status}</span></td><td>${utcTime(u.created_at)}</td></tr>`,
  );
  const content = html`${message ? notice(message.text, message.kind) : null}${message?.detail ?? null}
<section aria-labelledby="people-title"><h2 id="people-title">People</h2>
<div class="scroll"><table id="people"><thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Invited (UTC)</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="4" class="muted">Nobody yet.</td></tr>`}</tbody></table></div></section>
<section aria-labelledby="invite-title"><h2 id="invite-title">Invite someone</h2>
<form class="stack" method="post" action="/portal/people">${csrfField(viewer.csrf)}
<label>Email<input name="email" type="email" required maxlength="254"></label>
<label>Role<select name="role"><option>publisher</option><option>advertiser</option><option>operator</option></select></label>
<label>Publisher or advertiser id (for those roles)<input name="party_id" inputmode="numeric" maxlength="12"></label>
<button type="submit">Invite</button></form>
<p class="muted">You get a single-use link, valid for 7 days, to send to the person; they choose a password there.</p></section>`;
  return c.html(page(viewer, '/portal/people', 'People', content), message?.kind === 'error' ? 400 : 200);
}

export async function invitePerson(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const role = field(form, 'role');
  const party = field(form, 'party_id');
  const id = /^\d{1,12}$/.test(party) ? Number(party) : party || undefined;
  const answer = await callApi<{ id?: number; invite_url?: string }>(c, 'POST', '/users', {
    email: field(form, 'email'),
    role,
    ...(role === 'publisher' ? { publisher_id: id } : role === 'advertiser' ? { advertiser_id: id } : {}),
  });
  if (answer.status !== 201) return peoplePage(c, { text: problemText(answer), kind: 'error' });
  return peoplePage(c, {
    text: 'Invitation created. Send this link to the person; it works once and expires in 7 days.',
    kind: 'ok',
    detail: html`<code class="secret" id="invite-url">${answer.body.invite_url ?? ''}</code>`,
  });
}

export async function auditPage(c: Context<PortalEnv>): Promise<Response> {
  const before = Number(c.req.query('before'));
  const rows = await listAudit(
    c.env.DB,
    {},
    Number.isSafeInteger(before) && before > 0 ? before : Number.MAX_SAFE_INTEGER,
    100,
  );
  const body = rows.map(
    (
      r,
    ) => html`<tr data-audit-id="${r.id}"><td><time datetime="${r.at}">${utcTime(r.at)}</time></td><td>${r.actor_label}<span class="id">${r.actor_role}</span></td>
<td>${r.action}</td><td>${r.resource} ${r.resource_id ?? ''}</td>
<td><details><summary>before / after</summary><pre class="secret">${r.before ?? '—'}</pre><pre class="secret">${r.after ?? '—'}</pre></details></td></tr>`,
  );
  const last = rows.at(-1);
  const content = html`<section aria-labelledby="audit-title"><h2 id="audit-title">Changes, newest first</h2>
<div class="scroll"><table id="audit"><thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Values</th></tr></thead>
<tbody>${body.length > 0 ? body : html`<tr><td colspan="5" class="muted">No changes recorded yet.</td></tr>`}</tbody></table></div>
${rows.length === 100 && last ? html`<p><a href="/portal/audit?before=${last.id}">Older</a></p>` : null}</section>`;
  return c.html(page(c.get('viewer'), '/portal/audit', 'Audit log', content));
}
