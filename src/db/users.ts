// users and invitations tables: the people who sign in to /portal (see migrations/0010).
import type { Role } from '../auth/principal';

export type UserStatus = 'invited' | 'active' | 'disabled';

export interface UserRow {
  id: number;
  email: string;
  role: Role;
  publisher_id: number | null;
  advertiser_id: number | null;
  password_hash: string | null;
  status: UserStatus;
  created_at: string;
  updated_at: string;
}

export type NewUser = Pick<UserRow, 'email' | 'role' | 'publisher_id' | 'advertiser_id' | 'created_at'>;

export const insertUserStatement = (db: D1Database, user: NewUser): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO users (email, role, publisher_id, advertiser_id, status, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, 'invited', ?5, ?5) RETURNING *`,
    )
    .bind(user.email, user.role, user.publisher_id, user.advertiser_id, user.created_at);

export async function insertUser(db: D1Database, user: NewUser): Promise<UserRow> {
  const inserted = await insertUserStatement(db, user).first<UserRow>();
  if (!inserted) throw new Error('user insert returned no row');
  return inserted;
}

export const getUser = (db: D1Database, id: number): Promise<UserRow | null> =>
  db.prepare('SELECT * FROM users WHERE id = ?').bind(id).first<UserRow>();

export const userByEmailStatement = (db: D1Database, email: string): D1PreparedStatement =>
  db.prepare('SELECT * FROM users WHERE email = ?').bind(email);

export const getUserByEmail = (db: D1Database, email: string): Promise<UserRow | null> =>
  userByEmailStatement(db, email).first<UserRow>();

export interface UserFilters {
  publisher_id?: number;
  advertiser_id?: number;
}

export async function listUsers(
  db: D1Database,
  filters: UserFilters,
  after: number,
  limit: number,
): Promise<UserRow[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM users WHERE id > ?1 AND (?2 IS NULL OR publisher_id = ?2) AND (?3 IS NULL OR advertiser_id = ?3)
       ORDER BY id LIMIT ?4`,
    )
    .bind(after, filters.publisher_id ?? null, filters.advertiser_id ?? null, limit)
    .all<UserRow>();
  return results;
}

export const setPasswordStatement = (db: D1Database, userId: number, passwordHash: string, now: string) =>
  db
    .prepare(
      `UPDATE users SET password_hash = ?, status = 'active', updated_at = ? WHERE id = ? AND status != 'disabled'`,
    )
    .bind(passwordHash, now, userId);

export interface InvitationRow {
  token_hash: string;
  user_id: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export const insertInvitationStatement = (db: D1Database, invitation: Omit<InvitationRow, 'used_at'>) =>
  db
    .prepare('INSERT INTO invitations (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
    .bind(invitation.token_hash, invitation.user_id, invitation.created_at, invitation.expires_at);

/** An invitation that can still be used: unused and not expired at `now`. */
export const openInvitationStatement = (db: D1Database, tokenHash: string, now: string): D1PreparedStatement =>
  db
    .prepare(
      `SELECT i.*, u.email FROM invitations i JOIN users u ON u.id = i.user_id
       WHERE i.token_hash = ? AND i.used_at IS NULL AND i.expires_at > ? AND u.status != 'disabled'`,
    )
    .bind(tokenHash, now);

export const getOpenInvitation = (db: D1Database, tokenHash: string, now: string) =>
  openInvitationStatement(db, tokenHash, now).first<InvitationRow & { email: string }>();

/**
 * Marks an invitation used, only if it is still open: run first in the batch that sets the
 * password, so two submissions of one link cannot both succeed (the second changes no row).
 */
export const useInvitationStatement = (db: D1Database, tokenHash: string, now: string): D1PreparedStatement =>
  db
    .prepare('UPDATE invitations SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2')
    .bind(tokenHash, now);

/** An invitation for the user with `email`, in the batch that inserts that user. */
export const insertInvitationForEmailStatement = (
  db: D1Database,
  email: string,
  invitation: { token_hash: string; created_at: string; expires_at: string },
): D1PreparedStatement =>
  db
    .prepare(
      'INSERT INTO invitations (token_hash, user_id, created_at, expires_at) SELECT ?, id, ?, ? FROM users WHERE email = ?',
    )
    .bind(invitation.token_hash, invitation.created_at, invitation.expires_at, email);

/**
 * Sets an invited user's password and activates them, only when the batch's previous statement
 * spent the invitation (changes() = 1): one link sets one password.
 */
export const setInvitedPasswordStatement = (
  db: D1Database,
  userId: number,
  passwordHash: string,
  now: string,
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE users SET password_hash = ?, status = 'active', updated_at = ?
       WHERE id = ? AND status != 'disabled' AND changes() = 1`,
    )
    .bind(passwordHash, now, userId);
