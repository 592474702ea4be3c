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
  /** When the person's TOTP second factor was confirmed; null without one. */
  totp_enabled_at: string | null;
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

/** 'invite' sets a first password; 'reset' (made by the operator) sets a new one. */
export type LinkPurpose = 'invite' | 'reset';

export interface InvitationRow {
  token_hash: string;
  user_id: number;
  purpose: LinkPurpose;
  /** A reset link that also removes the person's second factor (1) or keeps it (0). */
  remove_totp: 0 | 1;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export type NewInvitation = Omit<InvitationRow, 'used_at' | 'purpose' | 'remove_totp'> &
  Partial<Pick<InvitationRow, 'purpose' | 'remove_totp'>>;

export const insertInvitationStatement = (db: D1Database, invitation: NewInvitation) =>
  db
    .prepare(
      'INSERT INTO invitations (token_hash, user_id, purpose, remove_totp, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    )
    .bind(
      invitation.token_hash,
      invitation.user_id,
      invitation.purpose ?? 'invite',
      invitation.remove_totp ?? 0,
      invitation.created_at,
      invitation.expires_at,
    );

/** A link of `purpose` that can still be used: unused, not expired at `now`, its person not disabled. */
export const openInvitationStatement = (
  db: D1Database,
  tokenHash: string,
  now: string,
  purpose: LinkPurpose = 'invite',
): D1PreparedStatement =>
  db
    .prepare(
      `SELECT i.*, u.email FROM invitations i JOIN users u ON u.id = i.user_id
       WHERE i.token_hash = ? AND i.used_at IS NULL AND i.expires_at > ? AND u.status != 'disabled' AND i.purpose = ?`,
    )
    .bind(tokenHash, now, purpose);

export const getOpenInvitation = (db: D1Database, tokenHash: string, now: string, purpose: LinkPurpose = 'invite') =>
  openInvitationStatement(db, tokenHash, now, purpose).first<InvitationRow & { email: string }>();

/** Spends every open link of a person (a new reset link, a disabled person): older links stop working. */
export const spendOpenLinksStatement = (db: D1Database, userId: number, now: string): D1PreparedStatement =>
  db.prepare('UPDATE invitations SET used_at = ? WHERE user_id = ? AND used_at IS NULL').bind(now, userId);

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

export interface UserChange {
  role: UserRow['role'];
  publisher_id: number | null;
  advertiser_id: number | null;
  status: UserStatus;
}

/**
 * Changes a person's role, party or status, only from the state `before` was read in (so a
 * concurrent change is not overwritten unseen): the batch's later statements run only when this
 * one changed the row. An invited person stays invited when "active" is asked: only their
 * invitation activates them.
 */
export const updateUserStatement = (
  db: D1Database,
  before: UserRow,
  change: UserChange,
  now: string,
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE users SET role = ?1, publisher_id = ?2, advertiser_id = ?3,
         status = CASE WHEN ?4 = 'active' AND password_hash IS NULL THEN 'invited' ELSE ?4 END, updated_at = ?5
       WHERE id = ?6 AND updated_at = ?7 RETURNING *`,
    )
    .bind(change.role, change.publisher_id, change.advertiser_id, change.status, now, before.id, before.updated_at);

/**
 * The statements that remove a person and what hangs off them, the person last (foreign keys).
 * Their keys forget the id (a later person may be given the same one) and keep the label.
 */
export const deleteUserStatements = (db: D1Database, userId: number): D1PreparedStatement[] => [
  db.prepare('UPDATE api_keys SET created_by_user_id = NULL WHERE created_by_user_id = ?').bind(userId),
  db.prepare('DELETE FROM sessions WHERE user_id = ?').bind(userId),
  db.prepare('DELETE FROM invitations WHERE user_id = ?').bind(userId),
  db.prepare('DELETE FROM sign_in_challenges WHERE user_id = ?').bind(userId),
  db.prepare('DELETE FROM totp_recovery_codes WHERE user_id = ?').bind(userId),
  db.prepare('DELETE FROM users WHERE id = ?').bind(userId),
];

/**
 * Sets the password from a reset link, only when the batch's previous statement spent the link
 * (changes() = 1); an invited person who never used their invitation becomes active too.
 * remove_totp also clears the second factor.
 */
export const setResetPasswordStatement = (
  db: D1Database,
  userId: number,
  passwordHash: string,
  removeTotp: boolean,
  now: string,
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE users SET password_hash = ?1, status = 'active', updated_at = ?2,
         totp_secret = CASE WHEN ?4 THEN NULL ELSE totp_secret END,
         totp_enabled_at = CASE WHEN ?4 THEN NULL ELSE totp_enabled_at END,
         totp_last_step = CASE WHEN ?4 THEN NULL ELSE totp_last_step END
       WHERE id = ?3 AND status != 'disabled' AND changes() = 1`,
    )
    .bind(passwordHash, now, userId, removeTotp ? 1 : 0);

/**
 * Ends every session and pending sign-in of a person, in a batch whose change stamped the
 * person's updated_at with `stamp`: when that change did not land, nothing ends.
 */
export const endAccessStatements = (db: D1Database, userId: number, stamp: string): D1PreparedStatement[] =>
  ['sessions', 'sign_in_challenges'].map((table) =>
    db
      .prepare(
        `DELETE FROM ${table} WHERE user_id = ?1 AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND updated_at = ?2)`,
      )
      .bind(userId, stamp),
  );

/** Spends a person's open links, in a batch whose change stamped updated_at with `stamp`. */
export const spendLinksAfterChangeStatement = (db: D1Database, userId: number, stamp: string): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE invitations SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL
         AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND updated_at = ?2)`,
    )
    .bind(userId, stamp);
