// API keys of the viewer's party (an operator sees and makes every kind): list, create (the key
// is shown once), revoke. Changes go through /api/v1/api-keys as the signed-in person.
import type { Context } from 'hono';
import { partyFilter } from '../auth/scope';
import { html } from '../dashboard/html';
import { listApiKeys } from '../db/api-keys';
import { callApi, problemText } from './api';
import type { PortalEnv } from './env';
import { field, utcTime } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

export async function keysPage(c: Context<PortalEnv>, message?: PageMessage): Promise<Response> {
  const viewer = c.get('viewer');
  const keys = await listApiKeys(c.env.DB, partyFilter(c.get('principal')), Number.MAX_SAFE_INTEGER, 100);
  const rows = keys.map(
    (
      k,
    ) => html`<tr data-key-id="${k.id}"><td><code>${k.prefix}…</code><span class="id">key ${k.id}${k.name ? ` · ${k.name}` : ''}</span></td>
<td>${k.role}${k.publisher_id ? ` (publisher ${k.publisher_id})` : ''}${k.advertiser_id ? ` (advertiser ${k.advertiser_id})` : ''}</td>
<td>${utcTime(k.created_at)}<span class="id">by ${k.created_by}</span></td><td>${k.last_used_at ? utcTime(k.last_used_at) : 'never'}</td>
<td>${k.revoked_at ? html`<span class="status status-rejected">revoked</span>` : html`<form class="inline" method="post" action="/portal/keys/${k.id}/revoke">${csrfField(viewer.csrf)}<button class="plain" type="submit">Revoke</button></form>`}</td></tr>`,
  );
  const roleField =
    viewer.role === 'operator'
      ? html`<label>Role<select name="role"><option>operator</option><option>publisher</option><option>advertiser</option></select></label>
<label>Publisher or advertiser id (for those roles)<input name="party_id" inputmode="numeric" maxlength="12"></label>`
      : null;
  const content = html`${message ? notice(message.text, message.kind) : null}${message?.detail ?? null}
<section aria-labelledby="keys-title"><h2 id="keys-title">Keys</h2>
<div class="scroll"><table id="keys"><thead><tr><th scope="col">Key</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"></th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="5" class="muted">No keys yet.</td></tr>`}</tbody></table></div>
<p class="muted">Send a key as <code>Authorization: Bearer chk_…</code> to the same <a href="/api/docs">/api/v1 API</a>; it sees only your data.</p></section>
<section aria-labelledby="new-key-title"><h2 id="new-key-title">Create a key</h2>
<form class="stack" method="post" action="/portal/keys">${csrfField(viewer.csrf)}${roleField}
<label>Name (what uses it)<input name="name" maxlength="100" placeholder="reporting script"></label>
<button type="submit">Create key</button></form></section>`;
  return c.html(page(viewer, '/portal/keys', 'API keys', content), message?.kind === 'error' ? 400 : 200);
}

export async function createKey(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const principal = c.get('principal');
  const name = field(form, 'name') || undefined;
  let body: Record<string, unknown>;
  if (principal.role === 'publisher') body = { role: 'publisher', publisher_id: principal.publisherId, name };
  else if (principal.role === 'advertiser') body = { role: 'advertiser', advertiser_id: principal.advertiserId, name };
  else {
    const role = field(form, 'role');
    const party = field(form, 'party_id');
    const id = /^\d{1,12}$/.test(party) ? Number(party) : party || undefined;
    body = {
      role,
      name,
      ...(role === 'publisher' ? { publisher_id: id } : role === 'advertiser' ? { advertiser_id: id } : {}),
    };
  }
  const answer = await callApi<{ id?: number; key?: string }>(c, 'POST', '/api-keys', body);
  if (answer.status !== 201) return keysPage(c, { text: problemText(answer), kind: 'error' });
  return keysPage(c, {
    text: `Key ${answer.body.id} created. Copy it now: it is shown once.`,
    kind: 'ok',
    detail: html`<code class="secret" id="new-key">${answer.body.key ?? ''}</code>`,
  });
}

export async function revokeKey(c: Context<PortalEnv>): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const answer = await callApi(c, 'DELETE', `/api-keys/${encodeURIComponent(id)}`);
  return keysPage(
    c,
    answer.status < 300 ? { text: `Key ${id} revoked.`, kind: 'ok' } : { text: problemText(answer), kind: 'error' },
  );
}
