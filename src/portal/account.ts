// The signed-in person's account: change the password (the current one is checked; other
// sessions end).
import type { Context } from 'hono';
import { changePassword, passwordProblem } from '../auth';
import { html } from '../dashboard/html';
import type { PortalEnv } from './env';
import { rawField } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

export function accountPage(c: Context<PortalEnv>, message?: PageMessage): Response {
  const viewer = c.get('viewer');
  const content = html`${message ? notice(message.text, message.kind) : null}
<section aria-labelledby="password-title"><h2 id="password-title">Change your password</h2>
<form class="stack" method="post" action="/portal/account/password">${csrfField(viewer.csrf)}
<input type="hidden" name="email" value="${viewer.email}" autocomplete="username">
<label>Current password<input type="password" name="current" autocomplete="current-password" required maxlength="200"></label>
<label>New password (at least 10 characters)<input type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="200"></label>
<label>Repeat it<input type="password" name="confirm" autocomplete="new-password" required minlength="10" maxlength="200"></label>
<button type="submit">Change password</button></form>
<p class="muted">Changing it signs out your other sessions.</p></section>
<section aria-labelledby="two-step-title"><h2 id="two-step-title">Two-step sign-in</h2>
<p><a href="/portal/account/totp">Set up or manage a code from an authenticator app</a> (${c.get('session').user.totp_enabled_at ? 'on' : 'off'}).</p></section>`;
  return c.html(page(viewer, '/portal/account', 'Account', content), message?.kind === 'error' ? 400 : 200);
}

export async function changePasswordAction(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const session = c.get('session');
  const next = rawField(form, 'password');
  const problem = passwordProblem(next, session.user.email);
  if (problem) return accountPage(c, { text: `New password ${problem}.`, kind: 'error' });
  if (next !== rawField(form, 'confirm'))
    return accountPage(c, { text: 'The two new passwords differ.', kind: 'error' });
  const changed = await changePassword(
    c.env.DB,
    c.get('principal'),
    session.user,
    session.id_hash,
    rawField(form, 'current'),
    next,
    Date.now(),
  );
  return changed
    ? accountPage(c, { text: 'Password changed.', kind: 'ok' })
    : accountPage(c, { text: 'The current password is wrong.', kind: 'error' });
}
