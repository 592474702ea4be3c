// The signed-in person's account: change the password (the current one is checked, throttled as
// sign-in is; other sessions end).
import type { Context } from 'hono';
import { changePassword, passwordProblem } from '../auth';
import { html } from '../dashboard/html';
import type { PortalEnv } from './env';
import { rawField } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

export function accountPage(c: Context<PortalEnv>, message?: PageMessage, status?: 429): Response {
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
  return c.html(page(viewer, '/portal/account', 'Account', content), status ?? (message?.kind === 'error' ? 400 : 200));
}

export async function changePasswordAction(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const session = c.get('session');
  const next = rawField(form, 'password');
  const problem = passwordProblem(next, session.user.email);
  if (problem) return accountPage(c, { text: `New password ${problem}.`, kind: 'error' });
  if (next !== rawField(form, 'confirm'))
    return accountPage(c, { text: 'The two new passwords differ.', kind: 'error' });
  const nowMs = Date.now();
  const result = await changePassword(
    c.env.DB,
    c.get('principal'),
    session.user,
    session.id_hash,
    rawField(form, 'current'),
    next,
    c.req.header('cf-connecting-ip') ?? null,
    nowMs,
  );
  if (result.outcome === 'throttled') {
    const seconds = Math.max(1, Math.ceil((Date.parse(result.retryAt) - nowMs) / 1000));
    const minutes = Math.ceil(seconds / 60);
    c.header('Retry-After', String(seconds));
    const text = `Too many wrong passwords. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
    return accountPage(c, { text, kind: 'error' }, 429);
  }
  return result.outcome === 'changed'
    ? accountPage(c, { text: 'Password changed.', kind: 'ok' })
    : accountPage(c, { text: 'The current password is wrong.', kind: 'error' });
}
