// CSRF protection for the forms shown before a session exists (sign-in, invitation): a random
// token in a short-lived HttpOnly, SameSite=Lax cookie, repeated in the form; a submission must
// bring both and they must match (double submit). A cross-site page can make a browser send
// the cookie but cannot read it to put it into the form.
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { timingSafeEqualString } from '../lib/crypto';
import { newSecret } from './secrets';

export const FORM_COOKIE = 'clickhop_form';

/** The token for a pre-session form: the cookie's if the browser has one, else a new one. */
export function formToken(c: Context): string {
  const existing = getCookie(c, FORM_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = newSecret();
  setCookie(c, FORM_COOKIE, token, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/portal', maxAge: 3600 });
  return token;
}

export async function formTokenMatches(c: Context, given: unknown): Promise<boolean> {
  const cookie = getCookie(c, FORM_COOKIE);
  if (!cookie || typeof given !== 'string' || given.length === 0) return false;
  return timingSafeEqualString(given, cookie);
}
