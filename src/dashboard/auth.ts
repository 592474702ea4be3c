// Operator sign-in for the dashboard. A browser cannot send a Bearer header from the address
// bar, so the page uses HTTP Basic authentication: any user name, the admin token as the
// password, compared in constant time. The browser keeps the credential for the session and
// sends it in a header, so the token never appears in a URL, a log line or the history. Programs
// may send the admin API's `Authorization: Bearer <token>` instead.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { timingSafeEqualString } from '../lib/crypto';
import { errorBody } from '../lib/errors';
import { html } from './html';

export const BASIC_CHALLENGE = 'Basic realm="Clickhop", charset="UTF-8"';

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The secret the request presents: the password of a Basic credential (RFC 7617; user name
 * ignored, UTF-8) or a Bearer token. Null when the header is missing or malformed.
 */
export function presentedSecret(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = BEARER.exec(header);
  if (bearer) return bearer[1] as string;
  const basic = BASIC.exec(header);
  if (!basic) return null;
  let decoded: string;
  try {
    const binary = atob(basic[1] as string);
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

function refuse(c: Context, status: 401 | 503, code: string, title: string, message: string) {
  if (status === 401) c.header('WWW-Authenticate', BASIC_CHALLENGE);
  if ((c.req.header('accept') ?? '').includes('text/html')) {
    const page = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow"><title>${title}</title></head><body><h1>${title}</h1><p>${message}</p></body></html>`;
    return c.html(page.toString(), status);
  }
  return c.json(errorBody(code, message), status);
}

export const requireOperator = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) {
    return refuse(c, 503, 'not_configured', 'Not configured', 'ADMIN_TOKEN is not set on this deployment.');
  }
  const given = presentedSecret(c.req.header('authorization'));
  if (given === null || !(await timingSafeEqualString(given, expected))) {
    return refuse(
      c,
      401,
      'unauthorized',
      'Sign in required',
      'Sign in with any user name and the admin token (ADMIN_TOKEN) as the password.',
    );
  }
  await next();
});
