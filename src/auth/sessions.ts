// Portal sessions: a random id in an HttpOnly, Secure, SameSite=Lax cookie; D1 keeps only its
// hash, the user and the CSRF secret every form of the session carries. Expiry is absolute:
// a session ends SESSION_TTL_MS after sign-in, and sign-out deletes it at once. The cookie's
// `__Host-` prefix makes browsers refuse it unless it is Secure, for Path=/ and without Domain,
// so a sibling subdomain (another Worker on the zone) can neither set nor overwrite it.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import {
  deleteSessionStatement,
  getLiveSession,
  insertSessionStatement,
  type SessionRow,
  type SessionWithUser,
} from '../db/sessions';
import { timingSafeEqualString } from '../lib/crypto';
import { iso } from '../lib/time';
import { type Actor, type Principal, principalOf } from './principal';
import { hashSecret, newSecret } from './secrets';

export const SESSION_COOKIE = '__Host-clickhop_session';
/** Session ids carry a prefix so that one pasted anywhere is recognised and redacted (lib/redact.ts). */
export const SESSION_ID_PREFIX = 'chs_';
export const SESSION_TTL_MS = 12 * 3600_000;

export interface NewSession {
  /** The cookie value; never stored. */
  id: string;
  row: SessionRow;
}

export async function newSession(userId: number, nowMs: number): Promise<NewSession> {
  const id = newSecret(SESSION_ID_PREFIX);
  return {
    id,
    row: {
      id_hash: await hashSecret(id),
      user_id: userId,
      csrf_secret: newSecret(),
      created_at: iso(nowMs),
      expires_at: iso(nowMs + SESSION_TTL_MS),
    },
  };
}

export const storeSessionStatement = (db: D1Database, session: NewSession) => insertSessionStatement(db, session.row);

/** Sets one of the portal's __Host- cookies (the session, the second-factor challenge): the prefix demands these attributes. */
export function setHostCookie(c: Context, name: string, value: string, ttlMs: number): void {
  setCookie(c, name, value, {
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    path: '/',
    maxAge: Math.floor(ttlMs / 1000),
  });
}

export function clearHostCookie(c: Context, name: string): void {
  deleteCookie(c, name, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' });
}

export function setSessionCookie(c: Context, session: NewSession): void {
  setHostCookie(c, SESSION_COOKIE, session.id, SESSION_TTL_MS);
}

export function clearSessionCookie(c: Context): void {
  clearHostCookie(c, SESSION_COOKIE);
}

/** The request's live session with its user, or null (no cookie, unknown, expired, user not active). */
export async function readSession<E extends { Bindings: Env }>(
  c: Context<E>,
  nowMs: number,
): Promise<SessionWithUser | null> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id || id.length > 100) return null;
  return getLiveSession(c.env.DB, await hashSecret(id), iso(nowMs));
}

export async function endSession<E extends { Bindings: Env }>(c: Context<E>): Promise<void> {
  const id = getCookie(c, SESSION_COOKIE);
  if (id && id.length <= 100) await deleteSessionStatement(c.env.DB, await hashSecret(id)).run();
  clearSessionCookie(c);
}

export const userActor = (user: { id: number; email: string }): Actor => ({
  kind: 'user',
  id: String(user.id),
  label: `user ${user.id} <${user.email}>`,
});

export const sessionPrincipal = (session: SessionWithUser): Principal | null =>
  principalOf(session.user, userActor(session.user));

/** Whether a form's CSRF token is the session's (constant-time). */
export const csrfMatches = (given: unknown, session: Pick<SessionRow, 'csrf_secret'>): Promise<boolean> =>
  typeof given === 'string' && given.length > 0
    ? timingSafeEqualString(given, session.csrf_secret)
    : Promise.resolve(false);
