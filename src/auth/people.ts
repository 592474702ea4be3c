// People: invitations, setting a password from an invitation, sign-in (throttled), password
// change. Pure decisions live in password.ts and throttle.ts; this module sequences them over D1.

import { insertChallengeForPasswordStatement, roleRequiresTotp } from '../db/second-factor';
import { deleteOtherSessionsStatement, insertSessionForPasswordStatement } from '../db/sessions';
import {
  getOpenInvitation,
  getUserByEmail,
  insertInvitationForEmailStatement,
  insertInvitationStatement,
  insertUserStatement,
  type NewUser,
  setInvitedPasswordStatement,
  setPasswordStatement,
  type UserRow,
  useInvitationStatement,
} from '../db/users';
import { DAY_MS, iso } from '../lib/time';
import { auditStatement } from './audit';
import { hashPassword, verifyNothing, verifyPassword } from './password';
import type { Principal } from './principal';
import { type NewChallenge, newChallenge, secondStepOf, storeChallengeStatement } from './second-factor';
import { hashSecret, newSecret } from './secrets';
import { type NewSession, newSession, storeSessionStatement } from './sessions';
import { clearFailuresStatements, openGate, takeBackAttemptStatements } from './throttle';

export const INVITATION_TTL_MS = 7 * DAY_MS;
/** Invitation tokens carry a prefix so that one pasted anywhere is recognised and redacted (lib/redact.ts). */
export const INVITATION_TOKEN_PREFIX = 'chi_';

/** What the API shows of a user: never the password hash. */
export function presentUser(user: UserRow) {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    publisher_id: user.publisher_id,
    advertiser_id: user.advertiser_id,
    status: user.status,
    totp_enabled: user.totp_enabled_at !== null,
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}

export interface Invitation {
  user: UserRow;
  /** The single-use token of the invitation link; shown once. */
  token: string;
  expires_at: string;
}

/**
 * Creates an invited user and its invitation, and audits it, in one batch. Throws D1's UNIQUE
 * error for an email that already has an account (the caller answers 409).
 */
export async function inviteUser(
  db: D1Database,
  who: Principal,
  input: Omit<NewUser, 'created_at'>,
  nowMs: number,
): Promise<Invitation> {
  const now = iso(nowMs);
  const token = newSecret(INVITATION_TOKEN_PREFIX);
  const expiresAt = iso(nowMs + INVITATION_TTL_MS);
  const tokenHash = await hashSecret(token);
  const [inserted] = await db.batch<UserRow>([
    insertUserStatement(db, { ...input, created_at: now }),
    insertInvitationForEmailStatement(db, input.email, {
      token_hash: tokenHash,
      created_at: now,
      expires_at: expiresAt,
    }),
  ]);
  const user = inserted?.results[0];
  if (!user) throw new Error('user insert returned no row');
  await auditStatement(
    db,
    who,
    { action: 'invite', resource: 'user', resourceId: user.id, after: presentUser(user) },
    now,
  ).run();
  return { user, token, expires_at: expiresAt };
}

/** A new invitation for an existing user (the old link keeps working until it expires). */
export async function reinviteUser(db: D1Database, user: UserRow, nowMs: number): Promise<Invitation> {
  const token = newSecret(INVITATION_TOKEN_PREFIX);
  const expiresAt = iso(nowMs + INVITATION_TTL_MS);
  await insertInvitationStatement(db, {
    token_hash: await hashSecret(token),
    user_id: user.id,
    created_at: iso(nowMs),
    expires_at: expiresAt,
  }).run();
  return { user, token, expires_at: expiresAt };
}

export const openInvitation = async (db: D1Database, token: string, nowMs: number) =>
  token.length > 100 ? null : getOpenInvitation(db, await hashSecret(token), iso(nowMs));

/**
 * Sets the password of an invitation's user and signs them in. Null when the link is unknown,
 * used or expired; the invitation is spent in the same batch, so one link sets one password.
 */
export async function acceptInvitation(
  db: D1Database,
  token: string,
  password: string,
  nowMs: number,
): Promise<{ user: UserRow; session: NewSession | null; challenge: NewChallenge | null } | null> {
  const invitation = await openInvitation(db, token, nowMs);
  if (!invitation) return null;
  const now = iso(nowMs);
  const passwordHash = await hashPassword(password);
  // A role that requires a second factor gets the enrolment step instead of a session.
  const invited = await getUserByEmail(db, invitation.email);
  const enrol = invited ? await roleRequiresTotp(db, invited.role) : false;
  const session = enrol ? null : await newSession(invitation.user_id, nowMs);
  const challenge = enrol ? await newChallenge(invitation.user_id, 'enrol', nowMs) : null;
  // The password and session are written only if this batch's first statement spent the link.
  const [use] = await db.batch([
    useInvitationStatement(db, invitation.token_hash, now),
    setInvitedPasswordStatement(db, invitation.user_id, passwordHash, now),
    challenge
      ? insertChallengeForPasswordStatement(db, challenge.row, passwordHash)
      : insertSessionForPasswordStatement(db, (session as NewSession).row, passwordHash),
  ]);
  if ((use?.meta.changes ?? 0) !== 1) return null;
  const user = await getUserByEmail(db, invitation.email);
  return user ? { user, session, challenge } : null;
}

export type SignInResult =
  | { outcome: 'signed_in'; user: UserRow; session: NewSession }
  | { outcome: 'second_step'; user: UserRow; challenge: NewChallenge }
  | { outcome: 'throttled'; retryAt: string }
  | { outcome: 'wrong' };

/**
 * Checks an email and password. The attempt is counted first (throttle.ts): a throttled subject
 * is refused before any check; an unknown email costs the same hashing time as a wrong password
 * and counts as a failure too.
 */
export async function signIn(
  db: D1Database,
  email: string,
  password: string,
  ip: string | null,
  nowMs: number,
): Promise<SignInResult> {
  const gate = await openGate(db, email, ip, nowMs);
  if (gate.retryAt) return { outcome: 'throttled', retryAt: gate.retryAt };
  const user = email.length <= 254 ? await getUserByEmail(db, email.trim()) : null;
  const ok =
    user?.status === 'active' && user.password_hash
      ? await verifyPassword(password, user.password_hash)
      : await verifyNothing(password);
  if (!ok || !user) return { outcome: 'wrong' };
  // A second factor (or its enrolment) comes first; failures are cleared only once it passes.
  const step = await secondStepOf(db, user);
  if (step) {
    const challenge = await newChallenge(user.id, step, nowMs);
    await db.batch([storeChallengeStatement(db, challenge), ...takeBackAttemptStatements(db, gate)]);
    return { outcome: 'second_step', user, challenge };
  }
  const session = await newSession(user.id, nowMs);
  await db.batch([storeSessionStatement(db, session), ...clearFailuresStatements(db, gate)]);
  return { outcome: 'signed_in', user, session };
}

export type PasswordChangeResult =
  | { outcome: 'changed' }
  | { outcome: 'wrong' }
  | { outcome: 'throttled'; retryAt: string };

/**
 * Changes a signed-in user's password after checking the current one, throttled as sign-in is
 * (a stolen session must not become a way to guess the password); other sessions of the user
 * end (a stolen session does not survive the owner's change).
 */
export async function changePassword(
  db: D1Database,
  who: Principal,
  user: UserRow,
  currentSessionHash: string,
  current: string,
  next: string,
  ip: string | null,
  nowMs: number,
): Promise<PasswordChangeResult> {
  const gate = await openGate(db, user.email, ip, nowMs);
  if (gate.retryAt) return { outcome: 'throttled', retryAt: gate.retryAt };
  if (!user.password_hash || !(await verifyPassword(current, user.password_hash))) return { outcome: 'wrong' };
  const now = iso(nowMs);
  await db.batch([
    setPasswordStatement(db, user.id, await hashPassword(next), now),
    deleteOtherSessionsStatement(db, user.id, currentSessionHash),
    auditStatement(db, who, { action: 'password', resource: 'user', resourceId: user.id }, now),
    ...clearFailuresStatements(db, gate),
  ]);
  return { outcome: 'changed' };
}
