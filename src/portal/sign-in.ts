// The sign-in page and the pages for people without a session: sign-in (throttled), sign-out,
// and setting a password from an invitation. Forms carry a double-submit CSRF token (no
// session yet) or the session's token (sign-out).
import type { Context } from 'hono';
import { Hono } from 'hono';
import {
  acceptInvitation,
  endSession,
  formToken,
  formTokenMatches,
  openInvitation,
  passwordProblem,
  setSessionCookie,
  signIn,
} from '../auth';
import { html } from '../dashboard/html';
import { boundFormBody } from './form-body';
import { notice, publicPage } from './layout';
import { toSecondStep } from './totp';

export interface SignInOptions {
  message?: string;
  error?: string;
  email?: string;
  status?: 200 | 400 | 401 | 403 | 429;
}

/** The sign-in page; also what an expired session or a stale form gets. */
export function signInPage(c: Context, options: SignInOptions = {}): Response {
  const token = formToken(c);
  const body = html`<section aria-labelledby="sign-in-title">
<h2 id="sign-in-title">Sign in</h2>
${notice(options.message)}${notice(options.error, 'error')}
<form class="stack" method="post" action="/portal/login">
<input type="hidden" name="_csrf" value="${token}">
<label>Email<input type="email" name="email" autocomplete="username" required maxlength="254" value="${options.email ?? ''}"></label>
<label>Password<input type="password" name="password" autocomplete="current-password" required maxlength="200"></label>
<button type="submit">Sign in</button>
</form>
<p class="muted">No account? Your network operator sends you an invitation link.</p>
</section>`;
  c.header('Cache-Control', 'no-store');
  return c.html(publicPage('Sign in', body), options.status ?? 200);
}

const formText = (form: Record<string, unknown>, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value : '';
};

const minutesUntil = (at: string, nowMs: number) => Math.max(1, Math.ceil((Date.parse(at) - nowMs) / 60_000));

export const signInRoutes = new Hono<{ Bindings: Env }>();

signInRoutes.get('/login', (c) => signInPage(c));

signInRoutes.post('/login', async (c) => {
  const tooLarge = await boundFormBody(c);
  if (tooLarge) return tooLarge;
  const form = await c.req.parseBody();
  const email = formText(form, 'email').trim();
  if (!(await formTokenMatches(c, form._csrf))) {
    return signInPage(c, { status: 403, email, error: 'The sign-in form was out of date. Please sign in again.' });
  }
  const password = formText(form, 'password');
  if (!email || !password) {
    return signInPage(c, { status: 400, email, error: `Enter your ${email ? 'password' : 'email'}.` });
  }
  const nowMs = Date.now();
  const result = await signIn(c.env.DB, email, password, c.req.header('cf-connecting-ip') ?? null, nowMs);
  if (result.outcome === 'throttled') {
    const minutes = minutesUntil(result.retryAt, nowMs);
    c.header('Retry-After', String(Math.ceil((Date.parse(result.retryAt) - nowMs) / 1000)));
    return signInPage(c, {
      status: 429,
      email,
      error: `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    });
  }
  if (result.outcome === 'wrong') {
    return signInPage(c, { status: 401, email, error: 'Wrong email or password.' });
  }
  if (result.outcome === 'second_step') return toSecondStep(c, result.challenge);
  setSessionCookie(c, result.session);
  return c.redirect('/portal', 303);
});

signInRoutes.post('/logout', async (c) => {
  // Signing out needs no CSRF check to be safe: the worst a forged sign-out does is sign out.
  await endSession(c);
  return signInPage(c, { message: 'You are signed out.' });
});

function invitationPage(c: Context, token: string, email: string, error?: string, status: 200 | 400 = 200): Response {
  const csrf = formToken(c);
  const body = html`<section aria-labelledby="invite-title">
<h2 id="invite-title">Set your password</h2>
<p>Welcome, <strong id="invite-email">${email}</strong>. Choose a password of at least 10 characters; you sign in with it at <a href="/portal/login">/portal/login</a>.</p>
${notice(error, 'error')}
<form class="stack" method="post" action="/portal/invite">
<input type="hidden" name="_csrf" value="${csrf}">
<input type="hidden" name="token" value="${token}">
<input type="hidden" name="email" value="${email}" autocomplete="username">
<label>New password<input type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="200"></label>
<label>Repeat it<input type="password" name="confirm" autocomplete="new-password" required minlength="10" maxlength="200"></label>
<button type="submit">Set password and sign in</button>
</form>
</section>`;
  c.header('Cache-Control', 'no-store');
  return c.html(publicPage('Set your password', body), status);
}

const invalidInvitation = (c: Context) =>
  signInPage(c, {
    status: 400,
    error: 'This invitation link is unknown, already used or expired. Ask your operator for a new one.',
  });

signInRoutes.get('/invite', async (c) => {
  const token = c.req.query('token') ?? '';
  const invitation = token ? await openInvitation(c.env.DB, token, Date.now()) : null;
  if (!invitation) return invalidInvitation(c);
  return invitationPage(c, token, invitation.email);
});

signInRoutes.post('/invite', async (c) => {
  const tooLarge = await boundFormBody(c);
  if (tooLarge) return tooLarge;
  const form = await c.req.parseBody();
  const token = formText(form, 'token');
  const nowMs = Date.now();
  const invitation = token ? await openInvitation(c.env.DB, token, nowMs) : null;
  if (!invitation) return invalidInvitation(c);
  if (!(await formTokenMatches(c, form._csrf))) {
    return invitationPage(c, token, invitation.email, 'The form was out of date. Please enter your password again.');
  }
  const password = formText(form, 'password');
  const problem = passwordProblem(password, invitation.email);
  if (problem) return invitationPage(c, token, invitation.email, `Password ${problem}.`, 400);
  if (password !== formText(form, 'confirm')) {
    return invitationPage(c, token, invitation.email, 'The two passwords differ.', 400);
  }
  const accepted = await acceptInvitation(c.env.DB, token, password, nowMs);
  if (!accepted) return invalidInvitation(c);
  if (accepted.challenge) return toSecondStep(c, accepted.challenge);
  if (accepted.session) setSessionCookie(c, accepted.session);
  return c.redirect('/portal', 303);
});
