// The TOTP second factor over D1: enrolment (a secret confirmed by a first code, ten recovery
// codes shown once), the sign-in step between a right password and a session (a short-lived
// challenge in its own cookie; no session exists until it is passed), and turning it off.
// Wrong codes count against the same throttle as wrong passwords (throttle.ts), and the account's
// count is cleared only once the second factor passed, so a known password cannot buy fresh
// guesses at the code.
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { insertAuditAfterChangeStatement } from '../db/audit';
import {
  type ChallengePurpose,
  type ChallengeRow,
  deleteChallengeStatement,
  deleteRecoveryCodesStatement,
  enableTotpStatement,
  getLiveChallenge,
  getTotpColumns,
  insertChallengeStatement,
  insertRecoveryCodesStatement,
  insertSessionAfterChangeStatement,
  removeTotpStatement,
  roleRequiresTotp,
  setPendingTotpStatement,
  useRecoveryCodeStatement,
  useTotpStepStatement,
} from '../db/second-factor';
import type { UserRow } from '../db/users';
import { iso } from '../lib/time';
import { auditValues } from './audit';
import type { Principal } from './principal';
import { openTotpSecret, sealTotpSecret } from './secret-box';
import { hashSecret, newSecret } from './secrets';
import { clearHostCookie, type NewSession, newSession, SESSION_ID_PREFIX, setHostCookie } from './sessions';
import { clearFailuresStatements, openGate } from './throttle';
import {
  matchTotp,
  newRecoveryCode,
  newTotpSecret,
  normalRecoveryCode,
  normalTotpCode,
  RECOVERY_CODE_COUNT,
} from './totp';

export const CHALLENGE_COOKIE = '__Host-clickhop_challenge';
/** Long enough to open an app and type a code, or to enrol; short enough to be no session. */
export const CHALLENGE_TTL_MS = 10 * 60_000;

type SecretEnv = Pick<Env, 'CLICK_ID_SECRET'> & { CLICK_ID_KEY_ID?: string; CLICK_ID_PREVIOUS_SECRETS?: string };

export interface NewChallenge {
  /** The cookie value; never stored. */
  id: string;
  row: ChallengeRow;
}

export async function newChallenge(userId: number, purpose: ChallengePurpose, nowMs: number): Promise<NewChallenge> {
  // A challenge cookie opens a session once its code is right: prefixed like a session id, so
  // one pasted anywhere is redacted (lib/redact.ts).
  const id = newSecret(SESSION_ID_PREFIX);
  return {
    id,
    row: {
      id_hash: await hashSecret(id),
      user_id: userId,
      purpose,
      csrf_secret: newSecret(),
      created_at: iso(nowMs),
      expires_at: iso(nowMs + CHALLENGE_TTL_MS),
    },
  };
}

export const storeChallengeStatement = (db: D1Database, challenge: NewChallenge) =>
  insertChallengeStatement(db, challenge.row);

/** What a right password leads to: the code step, the enrolment a role requires, or nothing more. */
export async function secondStepOf(db: D1Database, user: UserRow): Promise<ChallengePurpose | null> {
  if (user.totp_enabled_at) return 'totp';
  return (await roleRequiresTotp(db, user.role)) ? 'enrol' : null;
}

export function setChallengeCookie(c: Context, challenge: NewChallenge): void {
  setHostCookie(c, CHALLENGE_COOKIE, challenge.id, CHALLENGE_TTL_MS);
}

export function clearChallengeCookie(c: Context): void {
  clearHostCookie(c, CHALLENGE_COOKIE);
}

export async function readChallenge<E extends { Bindings: Env }>(c: Context<E>, nowMs: number) {
  const id = getCookie(c, CHALLENGE_COOKIE);
  if (!id || id.length > 100) return null;
  return getLiveChallenge(c.env.DB, await hashSecret(id), iso(nowMs));
}

const recoveryHash = (userId: number, code: string) => hashSecret(`recovery:${userId}:${code}`);

/**
 * The statement that spends what the person typed (a TOTP code's time step, or a recovery code),
 * or null when it is not right. Nothing is spent here: the caller puts the statement first in
 * the batch the second factor unlocks, which lands only if it changed a row.
 */
async function spendingStatement(
  db: D1Database,
  env: SecretEnv,
  user: UserRow,
  typed: string,
  nowMs: number,
): Promise<D1PreparedStatement | null> {
  const columns = await getTotpColumns(db, user.id);
  if (!columns?.totp_secret || !columns.totp_enabled_at) return null;
  const code = normalTotpCode(typed);
  if (code) {
    const opened = await openTotpSecret(env, user.id, columns.totp_secret);
    if (!opened) return null;
    const step = matchTotp(opened.secret, code, nowMs, columns.totp_last_step);
    if (step === null) return null;
    const resealed = opened.stale ? await sealTotpSecret(env, user.id, opened.secret) : null;
    return useTotpStepStatement(db, user.id, step, resealed);
  }
  const recovery = normalRecoveryCode(typed);
  // A recovery code is looked up by its hash: the lookup compares hashes, never the code itself.
  return recovery ? useRecoveryCodeStatement(db, user.id, await recoveryHash(user.id, recovery), iso(nowMs)) : null;
}

export type CodeResult =
  | { outcome: 'passed'; session: NewSession }
  | { outcome: 'throttled'; retryAt: string }
  | { outcome: 'wrong' };

/** The code step of sign-in: a right, unused code spends the challenge and opens a session. */
export async function passTotpChallenge(
  db: D1Database,
  env: SecretEnv,
  challenge: ChallengeRow,
  user: UserRow,
  typed: string,
  ip: string | null,
  nowMs: number,
): Promise<CodeResult> {
  const gate = await openGate(db, user.email, ip, nowMs);
  if (gate.retryAt) return { outcome: 'throttled', retryAt: gate.retryAt };
  const spend = await spendingStatement(db, env, user, typed, nowMs);
  const session = await newSession(user.id, nowMs);
  const results = spend
    ? await db.batch([
        spend,
        // Each runs only if the one before changed a row: code spent, then challenge spent.
        deleteChallengeStatement(db, challenge.id_hash, true),
        insertSessionAfterChangeStatement(db, session.row),
      ])
    : [];
  if ((results[2]?.meta.changes ?? 0) !== 1) {
    // openGate counted this attempt already.
    return { outcome: 'wrong' };
  }
  await db.batch(clearFailuresStatements(db, gate));
  return { outcome: 'passed', session };
}

/** The secret of an enrolment in progress, started now when there is none (shown to the person). */
export async function pendingSecret(db: D1Database, env: SecretEnv, user: UserRow, nowMs: number): Promise<Uint8Array> {
  const columns = await getTotpColumns(db, user.id);
  if (columns?.totp_enabled_at) throw new Error('the second factor is already on');
  const opened = columns?.totp_secret ? await openTotpSecret(env, user.id, columns.totp_secret) : null;
  if (opened) return opened.secret;
  const secret = newTotpSecret();
  await setPendingTotpStatement(db, user.id, await sealTotpSecret(env, user.id, secret), iso(nowMs)).run();
  return secret;
}

export type EnrolResult =
  | { outcome: 'enabled'; recoveryCodes: string[]; session: NewSession | null }
  | { outcome: 'throttled'; retryAt: string }
  | { outcome: 'wrong' };

/**
 * Confirms an enrolment with a first code: the second factor is on and ten recovery codes are
 * stored (hashed) and answered, once. From a sign-in challenge, the challenge is spent and a
 * session opens in the same batch.
 */
export async function confirmEnrolment(
  db: D1Database,
  env: SecretEnv,
  who: Principal,
  user: UserRow,
  typed: string,
  ip: string | null,
  nowMs: number,
  challenge: ChallengeRow | null,
): Promise<EnrolResult> {
  const gate = await openGate(db, user.email, ip, nowMs);
  if (gate.retryAt) return { outcome: 'throttled', retryAt: gate.retryAt };
  const columns = await getTotpColumns(db, user.id);
  const opened =
    columns?.totp_secret && !columns.totp_enabled_at ? await openTotpSecret(env, user.id, columns.totp_secret) : null;
  const code = normalTotpCode(typed);
  const step = opened && code ? matchTotp(opened.secret, code, nowMs, null) : null;
  if (step === null || !columns?.totp_secret) {
    // openGate counted this attempt already.
    return { outcome: 'wrong' };
  }
  const now = iso(nowMs);
  const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const hashes = await Promise.all(recoveryCodes.map((c) => recoveryHash(user.id, c)));
  const session = challenge ? await newSession(user.id, nowMs) : null;
  const audit = auditValues(who, { action: 'totp_enable', resource: 'user', resourceId: user.id }, now);
  const statements = [
    deleteRecoveryCodesStatement(db, user.id),
    enableTotpStatement(db, user.id, columns.totp_secret, step, now),
    // Each runs only if the one before changed a row.
    insertRecoveryCodesStatement(db, user.id, hashes),
    insertAuditAfterChangeStatement(db, audit),
  ];
  if (challenge && session) {
    statements.push(
      deleteChallengeStatement(db, challenge.id_hash, true),
      insertSessionAfterChangeStatement(db, session.row),
    );
  }
  const results = await db.batch(statements);
  // Another tab restarted the enrolment (the secret changed) or spent the challenge: try again.
  if ((results[1]?.meta.changes ?? 0) !== 1) return { outcome: 'wrong' };
  if (session && (results[5]?.meta.changes ?? 0) !== 1) return { outcome: 'wrong' };
  await db.batch(clearFailuresStatements(db, gate));
  return { outcome: 'enabled', recoveryCodes, session };
}

export type TurnOffResult = 'off' | 'required' | 'wrong' | 'throttled';

/** Turns the second factor off with a current code (or a recovery code); not where the role requires it. */
export async function turnOffTotp(
  db: D1Database,
  env: SecretEnv,
  who: Principal,
  user: UserRow,
  typed: string,
  ip: string | null,
  nowMs: number,
): Promise<TurnOffResult> {
  if (await roleRequiresTotp(db, user.role)) return 'required';
  const gate = await openGate(db, user.email, ip, nowMs);
  if (gate.retryAt) return 'throttled';
  const spend = await spendingStatement(db, env, user, typed, nowMs);
  const now = iso(nowMs);
  const audit = auditValues(who, { action: 'totp_disable', resource: 'user', resourceId: user.id }, now);
  const results = spend
    ? await db.batch([
        spend,
        insertAuditAfterChangeStatement(db, audit),
        removeTotpStatement(db, user.id, now, true),
        deleteRecoveryCodesStatement(db, user.id),
      ])
    : [];
  if ((results[1]?.meta.changes ?? 0) !== 1) {
    // openGate counted this attempt already.
    return 'wrong';
  }
  await db.batch(clearFailuresStatements(db, gate));
  return 'off';
}
