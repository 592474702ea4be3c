// Who sent a request to /api/v1: the ADMIN_TOKEN (break-glass operator, compared in constant
// time, no storage read), an API key (`Authorization: Bearer chk_...`, one indexed read), or,
// for reads only, a portal session cookie (so a signed-in person can open an export link; a
// change through the API needs a Bearer credential, which a cross-site form cannot send).
import type { Context } from 'hono';
import { getActiveApiKeyByHash, touchApiKeyStatement } from '../db/api-keys';
import { timingSafeEqualString } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { iso } from '../lib/time';
import { API_KEY_PATTERN, keyActor } from './api-keys';
import { internalPrincipal } from './internal';
import { type Principal, principalOf, tokenOperator } from './principal';
import { hashSecret } from './secrets';
import { readSession, SESSION_COOKIE, sessionPrincipal } from './sessions';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
/** last_used_at is written at most this often per key. */
const TOUCH_EVERY_MS = 60_000;

function unauthorized(c: Context, message: string): ApiError {
  c.header('WWW-Authenticate', 'Bearer');
  return new ApiError(401, 'unauthorized', message);
}

/** The principal of a Bearer credential, or null when it is neither the token nor a live key. */
export async function bearerPrincipal(
  env: Env,
  credential: string,
  nowMs: number,
  waitUntil?: (work: Promise<unknown>) => void,
): Promise<Principal | null> {
  if (API_KEY_PATTERN.test(credential)) {
    const row = await getActiveApiKeyByHash(env.DB, await hashSecret(credential));
    if (!row) return null;
    const touch = touchApiKeyStatement(env.DB, row.id, iso(nowMs), iso(nowMs - TOUCH_EVERY_MS)).run();
    if (waitUntil) waitUntil(touch);
    else await touch;
    return principalOf(row, keyActor(row));
  }
  const token = env.ADMIN_TOKEN;
  if (!token) throw new ApiError(503, 'not_configured', 'ADMIN_TOKEN is not set on this deployment');
  return (await timingSafeEqualString(credential, token)) ? tokenOperator : null;
}

function waitUntilOf(c: Context): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    // No execution context (app.request in a test): the caller awaits the work instead.
    return undefined;
  }
}

/** The request's principal, or a 401 naming what is missing. */
export async function resolvePrincipal<E extends { Bindings: Env }>(
  c: Context<E>,
  nowMs = Date.now(),
): Promise<Principal> {
  const internal = internalPrincipal(c.req.raw);
  if (internal) return internal;
  // A deployment without its break-glass token is misconfigured: say so whatever is sent.
  if (!c.env.ADMIN_TOKEN) throw new ApiError(503, 'not_configured', 'ADMIN_TOKEN is not set on this deployment');
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match) throw unauthorized(c, 'Send Authorization: Bearer <API key or admin token>');
    const principal = await bearerPrincipal(c.env, match[1] as string, nowMs, waitUntilOf(c));
    if (!principal) throw unauthorized(c, 'Unknown, revoked or wrong API key or admin token');
    return principal;
  }
  const safe = c.req.method === 'GET' || c.req.method === 'HEAD';
  if (safe && c.req.header('cookie')?.includes(`${SESSION_COOKIE}=`)) {
    const session = await readSession(c, nowMs);
    const principal = session ? sessionPrincipal(session) : null;
    if (principal) return principal;
  }
  throw unauthorized(c, 'Missing or wrong admin token or API key');
}
