// Operator pages: the audit log (newest first, a range of its primary key). People are in people.ts.
import type { Context } from 'hono';
import { html } from '../dashboard/html';
import { listAudit } from '../db/audit';
import type { PortalEnv } from './env';
import { utcTime } from './format';
import { page } from './layout';

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
