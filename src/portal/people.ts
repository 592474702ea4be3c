// Operator pages for people: the list with the invitation form and the second-factor rule per
// role; one person's page with the API keys they minted and the actions that change or end
// their access (disable, enable, change role, reset link, delete). Every change goes through
// /api/v1/users and /api/v1/settings/totp as the signed-in operator, so access checks, party
// rules and the audit log are the API's.
import type { Context } from 'hono';
import { html, type SafeHtml } from '../dashboard/html';
import { listRequiredRoles } from '../db/second-factor';
import { listUsers } from '../db/users';
import { callApi, problemText } from './api';
import type { PortalEnv } from './env';
import { field, utcTime } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

const ROLE_NAMES = ['operator', 'publisher', 'advertiser'] as const;

const partyOf = (u: { publisher_id: number | null; advertiser_id: number | null }) =>
  u.publisher_id ? ` (publisher ${u.publisher_id})` : u.advertiser_id ? ` (advertiser ${u.advertiser_id})` : '';

/** The role and party id fields of a form, as the API's body takes them. */
function roleBody(form: Record<string, unknown>): Record<string, unknown> {
  const role = field(form, 'role');
  const party = field(form, 'party_id');
  const id = /^\d{1,12}$/.test(party) ? Number(party) : party || undefined;
  return {
    role,
    ...(role === 'publisher' ? { publisher_id: id } : role === 'advertiser' ? { advertiser_id: id } : {}),
  };
}

const roleFields = (current?: string): SafeHtml => html`<label>Role<select name="role">${ROLE_NAMES.map(
  (r) => html`<option${r === current ? html` selected` : ''}>${r}</option>`,
)}</select></label>
<label>Publisher or advertiser id (for those roles)<input name="party_id" inputmode="numeric" maxlength="12"></label>`;

export async function peoplePage(c: Context<PortalEnv>, message?: PageMessage): Promise<Response> {
  const viewer = c.get('viewer');
  const [users, required] = await Promise.all([listUsers(c.env.DB, {}, 0, 500), listRequiredRoles(c.env.DB)]);
  const requiredRoles = new Set(required.map((r) => r.role));
  const rows = users.map(
    (
      u,
    ) => html`<tr data-user-id="${u.id}"><td><a href="/portal/people/${u.id}">${u.email}</a><span class="id">user ${u.id}</span></td>
<td>${u.role}${partyOf(u)}</td><td><span class="status">${u.status}</span></td><td>${u.totp_enabled_at ? 'on' : 'off'}</td><td>${utcTime(u.created_at)}</td></tr>`,
  );
  const content = html`${message ? notice(message.text, message.kind) : null}${message?.detail ?? null}
<section aria-labelledby="people-title"><h2 id="people-title">People</h2>
<div class="scroll"><table id="people"><thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Two-step</th><th scope="col">Invited (UTC)</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="5" class="muted">Nobody yet.</td></tr>`}</tbody></table></div>
<p class="muted">Open a person to disable, enable, change the role, send a password reset link or delete them.</p></section>
<section aria-labelledby="invite-title"><h2 id="invite-title">Invite someone</h2>
<form class="stack" method="post" action="/portal/people">${csrfField(viewer.csrf)}
<label>Email<input name="email" type="email" required maxlength="254"></label>
${roleFields()}
<button type="submit">Invite</button></form>
<p class="muted">You get a single-use link, valid for 7 days, to send to the person; they choose a password there.</p></section>
<section aria-labelledby="totp-rule-title"><h2 id="totp-rule-title">Two-step sign-in</h2>
<form class="stack" method="post" action="/portal/people/second-factor">${csrfField(viewer.csrf)}
${ROLE_NAMES.map(
  (r) =>
    html`<label><span><input type="checkbox" name="required_${r}" value="yes"${requiredRoles.has(r) ? html` checked` : ''}> Required for ${r}s</span></label>`,
)}
<button type="submit">Save</button></form>
<p class="muted">People of a required role who have not set it up are signed out and set it up at their next sign-in.</p></section>`;
  return c.html(page(viewer, '/portal/people', 'People', content), message?.kind === 'error' ? 400 : 200);
}

export async function invitePerson(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const answer = await callApi<{ id?: number; invite_url?: string }>(c, 'POST', '/users', {
    email: field(form, 'email'),
    ...roleBody(form),
  });
  if (answer.status !== 201) return peoplePage(c, { text: problemText(answer), kind: 'error' });
  return peoplePage(c, {
    text: 'Invitation created. Send this link to the person; it works once and expires in 7 days.',
    kind: 'ok',
    detail: html`<code class="secret" id="invite-url">${answer.body.invite_url ?? ''}</code>`,
  });
}

export async function saveSecondFactorRule(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const roles = ROLE_NAMES.filter((r) => field(form, `required_${r}`) === 'yes');
  const answer = await callApi(c, 'PUT', '/settings/totp', { required_roles: roles });
  return peoplePage(
    c,
    answer.status === 200
      ? { text: 'Two-step sign-in rule saved.', kind: 'ok' }
      : { text: problemText(answer), kind: 'error' },
  );
}

interface UserAnswer {
  id: number;
  email: string;
  role: string;
  publisher_id: number | null;
  advertiser_id: number | null;
  status: string;
  totp_enabled: boolean;
  created_at: string;
  api_keys: { id: number; prefix: string; name: string | null; role: string; created_at: string }[];
}

export async function personPage(c: Context<PortalEnv>, message?: PageMessage): Promise<Response> {
  const viewer = c.get('viewer');
  const id = c.req.param('id') ?? '';
  const answer = await callApi<UserAnswer>(c, 'GET', `/users/${encodeURIComponent(id)}`);
  if (answer.status !== 200) {
    return peoplePage(c, message ?? { text: problemText(answer), kind: 'error' });
  }
  const u = answer.body;
  const action = (path: string) => `/portal/people/${u.id}/${path}`;
  const keys = u.api_keys.map(
    (
      k,
    ) => html`<tr data-key-id="${k.id}"><td><code>${k.prefix}…</code><span class="id">key ${k.id}${k.name ? ` · ${k.name}` : ''}</span></td>
<td>${k.role}</td><td>${utcTime(k.created_at)}</td>
<td><form class="inline" method="post" action="${action(`keys/${k.id}/revoke`)}">${csrfField(viewer.csrf)}<button class="plain" type="submit">Revoke</button></form></td></tr>`,
  );
  const disabled = u.status === 'disabled';
  const content = html`${message ? notice(message.text, message.kind) : null}${message?.detail ?? null}
<section aria-labelledby="person-title"><h2 id="person-title">${u.email}</h2>
<p>user ${u.id} · ${u.role}${partyOf(u)} · <span class="status" id="person-status">${u.status}</span> · two-step ${u.totp_enabled ? 'on' : 'off'} · invited ${utcTime(u.created_at)}</p>
<form class="inline" method="post" action="${action('status')}">${csrfField(viewer.csrf)}
<input type="hidden" name="status" value="${disabled ? 'active' : 'disabled'}">
<button type="submit">${disabled ? 'Enable' : 'Disable (signs them out at once)'}</button></form></section>
<section aria-labelledby="person-keys-title"><h2 id="person-keys-title">API keys they made</h2>
<div class="scroll"><table id="person-keys"><thead><tr><th scope="col">Key</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col"></th></tr></thead>
<tbody>${keys.length > 0 ? keys : html`<tr><td colspan="4" class="muted">No live keys.</td></tr>`}</tbody></table></div>
<p class="muted">Keys keep working after a person is disabled or deleted, until revoked.</p></section>
<section aria-labelledby="role-title"><h2 id="role-title">Change the role</h2>
<form class="stack" method="post" action="${action('role')}">${csrfField(viewer.csrf)}${roleFields(u.role)}
<button type="submit">Change role (signs them out)</button></form></section>
<section aria-labelledby="reset-title"><h2 id="reset-title">Password reset link</h2>
<form class="stack" method="post" action="${action('reset')}">${csrfField(viewer.csrf)}
<label><span><input type="checkbox" name="remove_totp" value="1"> Also remove their two-step sign-in (lost phone)</span></label>
<button type="submit">Make a reset link</button></form>
<p class="muted">Single use, valid 24 hours; older links stop working. Using it signs them out everywhere.</p></section>
<section aria-labelledby="delete-title"><h2 id="delete-title">Delete</h2>
<form class="stack" method="post" action="${action('delete')}">${csrfField(viewer.csrf)}
<label><span><input type="checkbox" name="confirm" value="yes" required> Delete ${u.email}; the audit log keeps what they did</span></label>
<button type="submit">Delete this person</button></form></section>`;
  return c.html(page(viewer, '/portal/people', u.email, content), message?.kind === 'error' ? 400 : 200);
}

/** The actions of a person's page, each one API call; the page shows the result. */
export async function personAction(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const id = encodeURIComponent(c.req.param('id') ?? '');
  const what = c.req.param('action');
  if (what === 'status' || what === 'role') {
    const body = what === 'status' ? { status: field(form, 'status') } : roleBody(form);
    const answer = await callApi<{ status?: string }>(c, 'PATCH', `/users/${id}`, body);
    const text =
      answer.status !== 200
        ? problemText(answer)
        : what === 'status'
          ? `Now ${answer.body.status}.${answer.body.status === 'disabled' ? ' Their sessions have ended.' : ''}`
          : 'Role changed. Their sessions have ended.';
    return personPage(c, { text, kind: answer.status === 200 ? 'ok' : 'error' });
  }
  if (what === 'reset') {
    const answer = await callApi<{ reset_url?: string }>(c, 'POST', `/users/${id}/reset`, {
      remove_totp: field(form, 'remove_totp') === '1',
    });
    if (answer.status !== 201) return personPage(c, { text: problemText(answer), kind: 'error' });
    return personPage(c, {
      text: 'Reset link created. Send it to the person; it works once and expires in 24 hours.',
      kind: 'ok',
      detail: html`<code class="secret" id="reset-url">${answer.body.reset_url ?? ''}</code>`,
    });
  }
  if (what === 'delete') {
    if (field(form, 'confirm') !== 'yes') return personPage(c, { text: 'Tick the box to confirm.', kind: 'error' });
    const answer = await callApi<{ email?: string }>(c, 'DELETE', `/users/${id}`);
    if (answer.status !== 200) return personPage(c, { text: problemText(answer), kind: 'error' });
    return peoplePage(c, { text: `${answer.body.email ?? 'The person'} was deleted.`, kind: 'ok' });
  }
  return personPage(c, { text: 'Unknown action.', kind: 'error' });
}

export async function revokePersonKey(c: Context<PortalEnv>): Promise<Response> {
  const keyId = encodeURIComponent(c.req.param('keyId') ?? '');
  const answer = await callApi(c, 'DELETE', `/api-keys/${keyId}`);
  return personPage(
    c,
    answer.status === 200
      ? { text: `Key ${keyId} revoked.`, kind: 'ok' }
      : { text: problemText(answer), kind: 'error' },
  );
}
