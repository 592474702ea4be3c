// TOTP state: users' totp_* columns, totp_recovery_codes, sign_in_challenges and
// totp_required_roles (see migrations/0021).
import type { Role } from '../auth/principal';
import type { SessionRow } from './sessions';
import type { UserRow } from './users';

export type ChallengePurpose = 'totp' | 'enrol';

export interface ChallengeRow {
  id_hash: string;
  user_id: number;
  purpose: ChallengePurpose;
  csrf_secret: string;
  created_at: string;
  expires_at: string;
}

export const insertChallengeStatement = (db: D1Database, row: ChallengeRow): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sign_in_challenges (id_hash, user_id, purpose, csrf_secret, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .bind(row.id_hash, row.user_id, row.purpose, row.csrf_secret, row.created_at, row.expires_at);

/** A challenge for a person whose password is `passwordHash`: written only once that password is set. */
export const insertChallengeForPasswordStatement = (
  db: D1Database,
  row: ChallengeRow,
  passwordHash: string,
): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sign_in_challenges (id_hash, user_id, purpose, csrf_secret, created_at, expires_at)
       SELECT ?, id, ?, ?, ?, ? FROM users WHERE id = ? AND password_hash = ?`,
    )
    .bind(row.id_hash, row.purpose, row.csrf_secret, row.created_at, row.expires_at, row.user_id, passwordHash);

/** A live challenge with its active user. */
export async function getLiveChallenge(
  db: D1Database,
  idHash: string,
  now: string,
): Promise<{ challenge: ChallengeRow; user: UserRow } | null> {
  const row = await db
    .prepare(
      `SELECT c.id_hash, c.purpose, c.csrf_secret, c.created_at AS challenge_created_at, c.expires_at AS challenge_expires_at,
              u.*
       FROM sign_in_challenges c JOIN users u ON u.id = c.user_id
       WHERE c.id_hash = ? AND c.expires_at > ? AND u.status = 'active'`,
    )
    .bind(idHash, now)
    .first<
      UserRow & {
        id_hash: string;
        purpose: ChallengePurpose;
        csrf_secret: string;
        challenge_created_at: string;
        challenge_expires_at: string;
      }
    >();
  if (!row) return null;
  const { id_hash, purpose, csrf_secret, challenge_created_at, challenge_expires_at, ...user } = row;
  return {
    challenge: {
      id_hash,
      user_id: user.id,
      purpose,
      csrf_secret,
      created_at: challenge_created_at,
      expires_at: challenge_expires_at,
    },
    user,
  };
}

/**
 * Spends a challenge: in the batch that opens the session, right before the session's insert
 * (which lands only if this changed a row, so one challenge opens one session). `afterChange`:
 * only if the statement before it in the batch changed a row (the code was spent).
 */
export const deleteChallengeStatement = (db: D1Database, idHash: string, afterChange = false): D1PreparedStatement =>
  db.prepare(`DELETE FROM sign_in_challenges WHERE id_hash = ?${afterChange ? ' AND changes() > 0' : ''}`).bind(idHash);

/** A session, only if the statement before it in the batch changed exactly one row. */
export const insertSessionAfterChangeStatement = (db: D1Database, session: SessionRow): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sessions (id_hash, user_id, csrf_secret, created_at, expires_at)
       SELECT ?, ?, ?, ?, ? WHERE changes() = 1`,
    )
    .bind(session.id_hash, session.user_id, session.csrf_secret, session.created_at, session.expires_at);

export interface TotpColumns {
  /** Sealed (src/auth/secret-box.ts); never shown, never logged. */
  totp_secret: string | null;
  totp_enabled_at: string | null;
  totp_last_step: number | null;
}

export const getTotpColumns = (db: D1Database, userId: number): Promise<TotpColumns | null> =>
  db
    .prepare('SELECT totp_secret, totp_enabled_at, totp_last_step FROM users WHERE id = ?')
    .bind(userId)
    .first<TotpColumns>();

export const deleteUserChallengesStatement = (db: D1Database, userId: number): D1PreparedStatement =>
  db.prepare('DELETE FROM sign_in_challenges WHERE user_id = ?').bind(userId);

/** Starts (or restarts) an enrolment: a new secret, not enabled until a code confirms it. */
export const setPendingTotpStatement = (db: D1Database, userId: number, sealed: string, now: string) =>
  db
    .prepare('UPDATE users SET totp_secret = ?, updated_at = ? WHERE id = ? AND totp_enabled_at IS NULL')
    .bind(sealed, now, userId);

/**
 * Enables the pending secret once a code for `step` confirmed it; only if it is still the secret
 * the code was checked against (a second tab's restart makes this change nothing).
 */
export const enableTotpStatement = (db: D1Database, userId: number, sealed: string, step: number, now: string) =>
  db
    .prepare(
      `UPDATE users SET totp_enabled_at = ?1, totp_last_step = ?2, updated_at = ?1
       WHERE id = ?3 AND totp_secret = ?4 AND totp_enabled_at IS NULL`,
    )
    .bind(now, step, userId, sealed);

/**
 * Spends a time step: a code is accepted only if its step is after the last one used, so the same
 * code sent twice (or two concurrent sign-ins with it) passes once. May re-seal the secret.
 */
export const useTotpStepStatement = (db: D1Database, userId: number, step: number, resealed: string | null) =>
  db
    .prepare(
      `UPDATE users SET totp_last_step = ?2, totp_secret = COALESCE(?3, totp_secret)
       WHERE id = ?1 AND totp_enabled_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < ?2)`,
    )
    .bind(userId, step, resealed);

/** Turns the second factor off; `afterChange`: only if the batch's previous statement changed a row. */
export const removeTotpStatement = (db: D1Database, userId: number, now: string, afterChange = false) =>
  db
    .prepare(
      `UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = ?
       WHERE id = ?${afterChange ? ' AND changes() > 0' : ''}`,
    )
    .bind(now, userId);

/** Forgets the recovery codes of a person whose second factor is off (never while it is on). */
export const deleteRecoveryCodesStatement = (db: D1Database, userId: number): D1PreparedStatement =>
  db
    .prepare(
      `DELETE FROM totp_recovery_codes WHERE user_id = ?1
         AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND totp_enabled_at IS NULL)`,
    )
    .bind(userId);

/** Stores a set of recovery code hashes, only in a batch whose previous statement changed a row. */
export const insertRecoveryCodesStatement = (db: D1Database, userId: number, hashes: string[]): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO totp_recovery_codes (user_id, code_hash)
       SELECT ?1, value FROM json_each(?2) WHERE changes() > 0`,
    )
    .bind(userId, JSON.stringify(hashes));

/** Spends one recovery code; changes one row at most once per code. */
export const useRecoveryCodeStatement = (db: D1Database, userId: number, codeHash: string, now: string) =>
  db
    .prepare(
      `UPDATE totp_recovery_codes SET used_at = ?3
       WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL
         AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND totp_enabled_at IS NOT NULL)`,
    )
    .bind(userId, codeHash, now);

export async function unusedRecoveryCodes(db: D1Database, userId: number): Promise<number> {
  const row = await db
    .prepare('SELECT COUNT(*) AS n FROM totp_recovery_codes WHERE user_id = ? AND used_at IS NULL')
    .bind(userId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export interface RequiredRoleRow {
  role: Role;
  required_since: string;
}

export async function listRequiredRoles(db: D1Database): Promise<RequiredRoleRow[]> {
  return (await db.prepare('SELECT * FROM totp_required_roles ORDER BY role').all<RequiredRoleRow>()).results;
}

export const roleRequiresTotp = async (db: D1Database, role: Role): Promise<boolean> =>
  (await db.prepare('SELECT 1 AS yes FROM totp_required_roles WHERE role = ?').bind(role).first()) !== null;

/** Replaces the set of roles that require a second factor, keeping the date of those kept. */
export function setRequiredRolesStatements(db: D1Database, roles: Role[], now: string): D1PreparedStatement[] {
  const list = JSON.stringify(roles);
  return [
    db.prepare('DELETE FROM totp_required_roles WHERE role NOT IN (SELECT value FROM json_each(?))').bind(list),
    db
      .prepare(
        `INSERT INTO totp_required_roles (role, required_since) SELECT value, ? FROM json_each(?)
         WHERE true ON CONFLICT (role) DO NOTHING`,
      )
      .bind(now, list),
  ];
}

/**
 * Ends the sessions of people of the required roles who have no second factor yet: they enrol
 * at their next sign-in, and no page opens for them before.
 */
export const endUnenrolledSessionsStatement = (db: D1Database, roles: Role[]): D1PreparedStatement =>
  db
    .prepare(
      `DELETE FROM sessions WHERE user_id IN (
         SELECT id FROM users WHERE totp_enabled_at IS NULL AND role IN (SELECT value FROM json_each(?)))`,
    )
    .bind(JSON.stringify(roles));
