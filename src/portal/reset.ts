// The password reset page, for a person without a session: a single-use link from the operator
// (POST /api/v1/users/{id}/reset) where they choose a new password. Using it ends all their
// sessions; they then sign in (with their code, if they have a second factor).
import { type Context, Hono } from 'hono';
import { formToken, formTokenMatches, passwordProblem } from '../auth';
import { openResetLink, useResetLink } from '../auth/lifecycle';
import { html } from '../dashboard/html';
import { readBoundForm } from './form-body';
import { notice, publicPage } from './layout';
import { signInPage } from './sign-in';

export const resetRoutes = new Hono<{ Bindings: Env }>();

function resetPage(c: Context, token: string, email: string, error?: string, status: 200 | 400 = 200): Response {
  const body = html`<section aria-labelledby="reset-title">
<h2 id="reset-title">Choose a new password</h2>
<p>For <strong id="reset-email">${email}</strong>. Setting it signs you out everywhere; then sign in with it.</p>
${notice(error, 'error')}
<form class="stack" method="post" action="/portal/reset">
<input type="hidden" name="_csrf" value="${formToken(c)}">
<input type="hidden" name="token" value="${token}">
<input type="hidden" name="email" value="${email}" autocomplete="username">
<label>New password<input type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="200"></label>
<label>Repeat it<input type="password" name="confirm" autocomplete="new-password" required minlength="10" maxlength="200"></label>
<button type="submit">Set password</button>
</form>
</section>`;
  return c.html(publicPage('Choose a new password', body), status);
}

const invalidLink = (c: Context) =>
  signInPage(c, {
    status: 400,
    error: 'This reset link is unknown, already used or expired. Ask your operator for a new one.',
  });

resetRoutes.get('/reset', async (c) => {
  const token = c.req.query('token') ?? '';
  const link = token ? await openResetLink(c.env.DB, token, Date.now()) : null;
  if (!link) return invalidLink(c);
  return resetPage(c, token, link.email);
});

resetRoutes.post('/reset', async (c) => {
  const form = await readBoundForm(c);
  if (form instanceof Response) return form;
  const token = form.token ?? '';
  const nowMs = Date.now();
  const link = token ? await openResetLink(c.env.DB, token, nowMs) : null;
  if (!link) return invalidLink(c);
  if (!(await formTokenMatches(c, form._csrf))) {
    return resetPage(c, token, link.email, 'The form was out of date. Please enter your password again.');
  }
  const password = form.password ?? '';
  const problem = passwordProblem(password, link.email);
  if (problem) return resetPage(c, token, link.email, `Password ${problem}.`, 400);
  if (password !== form.confirm) return resetPage(c, token, link.email, 'The two passwords differ.', 400);
  const user = await useResetLink(c.env.DB, token, password, nowMs);
  if (!user) return invalidLink(c);
  return signInPage(c, { email: user.email, message: 'Your new password is set. Sign in with it.' });
});
