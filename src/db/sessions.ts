// sessions and sign_in_attempts tables: portal sessions and sign-in throttling state.
import type { UserRow } from './users';

export interface SessionRow {
  id_hash: string;
  user_id: number;
  csrf_secret: string;
  created_at: string;
  expires_at: string;
}

export const insertSessionStatement = (db: D1Database, session: SessionRow): D1PreparedStatement =>
  db
    .prepare('INSERT INTO sessions (id_hash, user_id, csrf_secret, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
    .bind(session.id_hash, session.user_id, session.csrf_secret, session.created_at, session.expires_at);

export type SessionWithUser = SessionRow & {
  user: UserRow;
  /** The user's publisher's or advertiser's name; null for an operator. */
  party_name: string | null;
};

/** A live session with its active user and party name, in one read (the only read a signed-in page adds). */
export const liveSessionStatement = (db: D1Database, idHash: string, now: string): D1PreparedStatement =>
  db
    .prepare(
      `SELECT s.id_hash, s.user_id, s.csrf_secret, s.created_at AS session_created_at, s.expires_at,
              u.id, u.email, u.role, u.publisher_id, u.advertiser_id, u.password_hash, u.status, u.totp_enabled_at,
              u.created_at, u.updated_at,
              COALESCE(p.name, a.name) AS party_name
       FROM sessions s JOIN users u ON u.id = s.user_id
       LEFT JOIN publishers p ON p.id = u.publisher_id LEFT JOIN advertisers a ON a.id = u.advertiser_id
       WHERE s.id_hash = ? AND s.expires_at > ? AND u.status = 'active'`,
    )
    .bind(idHash, now);

type LiveSessionRow = Omit<SessionRow, 'created_at'> & {
  session_created_at: string;
  party_name: string | null;
} & UserRow;

export async function getLiveSession(db: D1Database, idHash: string, now: string): Promise<SessionWithUser | null> {
  const row = await liveSessionStatement(db, idHash, now).first<LiveSessionRow>();
  if (!row) return null;
  const { id_hash, user_id, csrf_secret, session_created_at, expires_at, party_name, ...user } = row;
  return { id_hash, user_id, csrf_secret, created_at: session_created_at, expires_at, party_name, user };
}

export const deleteSessionStatement = (db: D1Database, idHash: string): D1PreparedStatement =>
  db.prepare('DELETE FROM sessions WHERE id_hash = ?').bind(idHash);

/** Ends every session of a user except `keepIdHash` (after a password change: other devices out). */
export const deleteOtherSessionsStatement = (db: D1Database, userId: number, keepIdHash: string): D1PreparedStatement =>
  db.prepare('DELETE FROM sessions WHERE user_id = ? AND id_hash != ?').bind(userId, keepIdHash);

export const deleteExpiredSessionsStatement = (db: D1Database, now: string): D1PreparedStatement =>
  db.prepare('DELETE FROM sessions WHERE expires_at <= ?').bind(now);

export interface SignInAttemptRow {
  subject: string;
  failures: number;
  last_failure_at: string;
  blocked_until: string | null;
}

export const signInAttemptsStatement = (db: D1Database, subjects: string[]): D1PreparedStatement =>
  db
    .prepare('SELECT * FROM sign_in_attempts WHERE subject IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify(subjects));

export async function getSignInAttempts(db: D1Database, subjects: string[]): Promise<SignInAttemptRow[]> {
  return (await signInAttemptsStatement(db, subjects).all<SignInAttemptRow>()).results;
}

export const putSignInAttemptStatement = (db: D1Database, row: SignInAttemptRow): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sign_in_attempts (subject, failures, last_failure_at, blocked_until) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (subject) DO UPDATE SET failures = ?2, last_failure_at = ?3, blocked_until = ?4`,
    )
    .bind(row.subject, row.failures, row.last_failure_at, row.blocked_until);

export const clearSignInAttemptsStatement = (db: D1Database, subject: string): D1PreparedStatement =>
  db.prepare('DELETE FROM sign_in_attempts WHERE subject = ?').bind(subject);

/** A session for a user whose password is `passwordHash`: written only once that password is set. */
export const insertSessionForPasswordStatement = (
  db: D1Database,
  session: SessionRow,
  passwordHash: string,
): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sessions (id_hash, user_id, csrf_secret, created_at, expires_at)
       SELECT ?, id, ?, ?, ? FROM users WHERE id = ? AND password_hash = ?`,
    )
    .bind(session.id_hash, session.csrf_secret, session.created_at, session.expires_at, session.user_id, passwordHash);
