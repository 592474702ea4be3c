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
  /** Attempts counted within the day (a success takes its own back); the column keeps its first name. */
  failures: number;
  /** When the last attempt was counted. */
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

export interface AttemptSubject {
  subject: string;
  /** Index n: the end of the window opened by the n-th attempt (null: none); the last entry holds beyond it. */
  windows: (string | null)[];
}

/**
 * Counts one attempt against every subject, in one statement, unless one of them is inside a
 * window at `now`: then nothing is written and no row is returned. D1 runs a statement alone,
 * so concurrent attempts are counted one after another and each sees the windows the earlier
 * ones opened. A count whose last attempt is older than `forgetBefore` starts again at 1.
 */
export const countSignInAttemptStatement = (
  db: D1Database,
  subjects: AttemptSubject[],
  now: string,
  forgetBefore: string,
): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sign_in_attempts (subject, failures, last_failure_at, blocked_until)
       SELECT subject, n, ?2, json_extract(windows, '$[' || min(n, json_array_length(windows) - 1) || ']')
       FROM (
         SELECT json_extract(s.value, '$.subject') AS subject, json_extract(s.value, '$.windows') AS windows,
                CASE WHEN a.last_failure_at >= ?3 THEN a.failures + 1 ELSE 1 END AS n
         FROM json_each(?1) s LEFT JOIN sign_in_attempts a ON a.subject = json_extract(s.value, '$.subject')
       )
       WHERE NOT EXISTS (
         SELECT 1 FROM sign_in_attempts b
         WHERE b.subject IN (SELECT json_extract(value, '$.subject') FROM json_each(?1)) AND b.blocked_until > ?2
       )
       ON CONFLICT (subject) DO UPDATE SET
         failures = excluded.failures, last_failure_at = excluded.last_failure_at, blocked_until = excluded.blocked_until
       RETURNING subject, failures, last_failure_at, blocked_until`,
    )
    .bind(JSON.stringify(subjects), now, forgetBefore);

export async function countSignInAttempt(
  db: D1Database,
  subjects: AttemptSubject[],
  now: string,
  forgetBefore: string,
): Promise<SignInAttemptRow[]> {
  return (await countSignInAttemptStatement(db, subjects, now, forgetBefore).all<SignInAttemptRow>()).results;
}

export const clearSignInAttemptsStatement = (db: D1Database, subject: string): D1PreparedStatement =>
  db.prepare('DELETE FROM sign_in_attempts WHERE subject = ?').bind(subject);

/**
 * Takes one counted attempt back from `subject` (it succeeded). The window it opened, if still
 * the subject's (`opened`), closes with it: the attempt was let through, so no window was open
 * before it.
 */
export const uncountSignInAttemptStatement = (
  db: D1Database,
  subject: string,
  opened: string | null,
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE sign_in_attempts SET failures = max(failures - 1, 0),
         blocked_until = CASE WHEN blocked_until = ?2 THEN NULL ELSE blocked_until END
       WHERE subject = ?1`,
    )
    .bind(subject, opened);

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
