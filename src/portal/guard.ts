// Signed-in pages: a live session is required (else the sign-in page, never an error), and every
// form submission must carry the session's CSRF token (else the sign-in page again, with a
// message saying why, and nothing is changed). The form is read (at most 64 KiB, form-body.ts)
// only once the session is known.
import { createMiddleware } from 'hono/factory';
import { csrfMatches, readSession, sessionPrincipal } from '../auth';
import type { PortalEnv } from './env';
import { boundFormBody, isForm } from './form-body';
import { signInPage } from './sign-in';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const requireSignedIn = createMiddleware<PortalEnv>(async (c, next) => {
  const session = await readSession(c, Date.now());
  const principal = session ? sessionPrincipal(session) : null;
  if (!session || !principal) {
    return signInPage(c, { status: 401, message: 'Please sign in. A session ends 12 hours after sign-in.' });
  }
  if (UNSAFE.has(c.req.method)) {
    const tooLarge = await boundFormBody(c);
    if (tooLarge) return tooLarge;
    const form = isForm(c) ? await c.req.parseBody() : {};
    if (!(await csrfMatches(form._csrf, session))) {
      return signInPage(c, {
        status: 403,
        email: session.user.email,
        error:
          'That form was out of date or did not come from this site, so nothing was changed. Please sign in again.',
      });
    }
  }
  c.set('session', session);
  c.set('principal', principal);
  c.set('viewer', {
    role: principal.role,
    email: session.user.email,
    party: session.party_name ?? 'Operator',
    csrf: session.csrf_secret,
  });
  await next();
});
