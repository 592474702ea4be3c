// The TOTP second factor in the portal. Before a session: the code step after a right password,
// and the enrolment a role requires (a challenge cookie, no session, so no other page opens).
// Signed in: the account's two-step page (set up, see how many recovery codes are left, turn
// off). The secret is shown as base32 text and an otpauth:// URI, no QR code (no script, no image).
import { type Context, Hono } from 'hono';
import { csrfMatches, setSessionCookie } from '../auth';
import { principalOf } from '../auth/principal';
import {
  type CodeResult,
  clearChallengeCookie,
  confirmEnrolment,
  type EnrolResult,
  type NewChallenge,
  passTotpChallenge,
  pendingSecret,
  readChallenge,
  setChallengeCookie,
  turnOffTotp,
} from '../auth/second-factor';
import { userActor } from '../auth/sessions';
import { groupedBase32, otpauthUri } from '../auth/totp';
import { html, type SafeHtml } from '../dashboard/html';
import { getTotpColumns, roleRequiresTotp, unusedRecoveryCodes } from '../db/second-factor';
import type { UserRow } from '../db/users';
import type { PortalEnv } from './env';
import { readBoundForm } from './form-body';
import { rawField } from './format';
import { csrfField, notice, page, publicPage } from './layout';
import type { PageMessage } from './notifications';
import { signInPage } from './sign-in';

const ISSUER = 'Clickhop';
const ipOf = (c: Context) => c.req.header('cf-connecting-ip') ?? null;

/** After a right password: on to the code step or the enrolment, with the challenge's cookie. */
export function toSecondStep(c: Context, challenge: NewChallenge): Response {
  setChallengeCookie(c, challenge);
  return c.redirect(challenge.row.purpose === 'totp' ? '/portal/login/code' : '/portal/login/enrol', 303);
}

const expired = (c: Context) =>
  signInPage(c, { status: 401, message: 'Your sign-in took too long or was finished. Please sign in again.' });

const refusal = (c: Context, result: Exclude<CodeResult | EnrolResult, { outcome: 'passed' | 'enabled' }>) => {
  if (result.outcome === 'wrong') return { status: 401 as const, text: 'That code is not right. Try the next one.' };
  const seconds = Math.max(1, Math.ceil((Date.parse(result.retryAt) - Date.now()) / 1000));
  c.header('Retry-After', String(seconds));
  return { status: 429 as const, text: `Too many wrong codes. Try again in ${Math.ceil(seconds / 60)} minute(s).` };
};

function codeForm(action: string, csrf: string, label: string, button: string): SafeHtml {
  return html`<form class="stack" method="post" action="${action}">${csrfField(csrf)}
<label>${label}<input name="code" autocomplete="one-time-code" required maxlength="40" autofocus></label>
<button type="submit">${button}</button></form>`;
}

function secretBox(secret: Uint8Array, email: string): SafeHtml {
  return html`<p>Add this key to an authenticator app (type it in, or paste the link into an app that takes one):</p>
<code class="secret" id="totp-secret">${groupedBase32(secret)}</code>
<p class="muted">Time-based, SHA-1, 6 digits, 30 seconds. As a link:</p>
<code class="secret" id="totp-uri">${otpauthUri(secret, email, ISSUER)}</code>`;
}

function recoveryCodesBox(codes: string[]): SafeHtml {
  return html`<p>Keep these recovery codes somewhere safe, apart from your phone. Each works once, in place of a code, if you lose the app. They are shown only now.</p>
<pre class="secret" id="recovery-codes">${codes.join('\n')}</pre>`;
}

// Before a session: the code step and the required enrolment.
export const secondFactorRoutes = new Hono<{ Bindings: Env }>();

function codePage(c: Context, csrf: string, error?: string, status: 200 | 401 | 429 = 200): Response {
  const body = html`<section aria-labelledby="code-title"><h2 id="code-title">Enter your code</h2>
${notice(error, 'error')}
<p>Open your authenticator app and enter the 6-digit code for Clickhop, or one of your recovery codes.</p>
${codeForm('/portal/login/code', csrf, 'Code', 'Sign in')}</section>`;
  return c.html(publicPage('Enter your code', body), status);
}

secondFactorRoutes.get('/login/code', async (c) => {
  const found = await readChallenge(c, Date.now());
  if (found?.challenge.purpose !== 'totp') return expired(c);
  return codePage(c, found.challenge.csrf_secret);
});

secondFactorRoutes.post('/login/code', async (c) => {
  const form = await readBoundForm(c);
  if (form instanceof Response) return form;
  const nowMs = Date.now();
  const found = await readChallenge(c, nowMs);
  if (found?.challenge.purpose !== 'totp' || !(await csrfMatches(form._csrf, found.challenge))) return expired(c);
  const result = await passTotpChallenge(c.env.DB, c.env, found.challenge, found.user, form.code ?? '', ipOf(c), nowMs);
  if (result.outcome !== 'passed') {
    const { status, text } = refusal(c, result);
    return codePage(c, found.challenge.csrf_secret, text, status);
  }
  clearChallengeCookie(c);
  setSessionCookie(c, result.session);
  return c.redirect('/portal', 303);
});

async function enrolPage(
  c: Context,
  user: UserRow,
  csrf: string,
  action: string,
  error?: string,
  status: 200 | 400 | 401 | 429 = 200,
): Promise<Response> {
  const secret = await pendingSecret(c.env.DB, c.env, user, Date.now());
  const body = html`<section aria-labelledby="enrol-title"><h2 id="enrol-title">Set up two-step sign-in</h2>
${notice(error, 'error')}
<p>Your network requires a code from an authenticator app at every sign-in for your role.</p>
${secretBox(secret, user.email)}
${codeForm(action, csrf, 'The code the app shows now', 'Turn on and continue')}</section>`;
  return c.html(publicPage('Set up two-step sign-in', body), status);
}

secondFactorRoutes.get('/login/enrol', async (c) => {
  const found = await readChallenge(c, Date.now());
  if (found?.challenge.purpose !== 'enrol') return expired(c);
  return enrolPage(c, found.user, found.challenge.csrf_secret, '/portal/login/enrol');
});

secondFactorRoutes.post('/login/enrol', async (c) => {
  const form = await readBoundForm(c);
  if (form instanceof Response) return form;
  const nowMs = Date.now();
  const found = await readChallenge(c, nowMs);
  if (found?.challenge.purpose !== 'enrol' || !(await csrfMatches(form._csrf, found.challenge))) return expired(c);
  const who = principalOf(found.user, userActor(found.user));
  if (!who) return expired(c);
  const result = await confirmEnrolment(
    c.env.DB,
    c.env,
    who,
    found.user,
    form.code ?? '',
    ipOf(c),
    nowMs,
    found.challenge,
  );
  if (result.outcome !== 'enabled' || !result.session) {
    const { status, text } =
      result.outcome === 'enabled' ? { status: 401 as const, text: 'Please try again.' } : refusal(c, result);
    return enrolPage(c, found.user, found.challenge.csrf_secret, '/portal/login/enrol', text, status);
  }
  clearChallengeCookie(c);
  setSessionCookie(c, result.session);
  const body = html`<section aria-labelledby="done-title"><h2 id="done-title">Two-step sign-in is on</h2>
${recoveryCodesBox(result.recoveryCodes)}
<p><a href="/portal">Continue to the portal</a></p></section>`;
  return c.html(publicPage('Two-step sign-in is on', body));
});

// Signed in: the account's two-step page.

export async function totpPage(c: Context<PortalEnv>, message?: PageMessage, status?: 400 | 401 | 429) {
  const viewer = c.get('viewer');
  const user = c.get('session').user;
  const columns = await getTotpColumns(c.env.DB, user.id);
  let content: SafeHtml;
  if (columns?.totp_enabled_at) {
    const left = await unusedRecoveryCodes(c.env.DB, user.id);
    const required = await roleRequiresTotp(c.env.DB, user.role);
    content = html`<p id="totp-state">Two-step sign-in is <strong>on</strong> since ${columns.totp_enabled_at.slice(0, 10)}. Recovery codes left: <span id="recovery-left">${left}</span>.</p>
${
  required
    ? html`<p class="muted">Your network requires it for your role, so it cannot be turned off here.</p>`
    : html`<h3>Turn it off</h3>${codeForm('/portal/account/totp/off', viewer.csrf, 'A current code or a recovery code', 'Turn off')}`
}`;
  } else {
    const secret = await pendingSecret(c.env.DB, c.env, user, Date.now());
    content = html`<p id="totp-state">Two-step sign-in is <strong>off</strong>. With it, signing in also asks for a code from an app on your phone.</p>
${secretBox(secret, user.email)}
${codeForm('/portal/account/totp', viewer.csrf, 'The code the app shows now', 'Turn on')}`;
  }
  const body = html`${message ? notice(message.text, message.kind) : null}${message?.detail ?? null}
<section aria-labelledby="totp-title"><h2 id="totp-title">Two-step sign-in</h2>${content}</section>`;
  return c.html(page(viewer, '/portal/account', 'Two-step sign-in', body), status ?? 200);
}

export async function confirmTotpAction(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const session = c.get('session');
  const result = await confirmEnrolment(
    c.env.DB,
    c.env,
    c.get('principal'),
    session.user,
    rawField(form, 'code'),
    ipOf(c),
    Date.now(),
    null,
  );
  if (result.outcome !== 'enabled') {
    const { status, text } = refusal(c, result);
    return totpPage(c, { text, kind: 'error' }, status);
  }
  return totpPage(c, { text: 'Two-step sign-in is on.', kind: 'ok', detail: recoveryCodesBox(result.recoveryCodes) });
}

export async function turnOffTotpAction(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const session = c.get('session');
  const nowMs = Date.now();
  const result = await turnOffTotp(
    c.env.DB,
    c.env,
    c.get('principal'),
    session.user,
    rawField(form, 'code'),
    ipOf(c),
    nowMs,
  );
  if (result === 'off') return totpPage(c, { text: 'Two-step sign-in is off.', kind: 'ok' });
  if (result === 'required') {
    return totpPage(c, { text: 'Your network requires two-step sign-in for your role.', kind: 'error' }, 400);
  }
  if (result === 'throttled')
    return totpPage(c, { text: 'Too many wrong codes. Try again later.', kind: 'error' }, 429);
  return totpPage(c, { text: 'That code is not right.', kind: 'error' }, 401);
}
