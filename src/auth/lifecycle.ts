// How a person's access changes and ends: the operator disables or re-enables them, changes their
// role, deletes them, or hands them a password reset link. Every change is one D1 batch with its
// audit entry, and whatever the change takes away (sessions, pending sign-ins, open links) goes
// in that same batch, so the very next request of a disabled person is refused.
import { insertAuditAfterChangeStatement } from '../db/audit';
import { deleteRecoveryCodesStatement } from '../db/second-factor';
import {
  deleteUserStatements,
  endAccessStatements,
  getOpenInvitation,
  getUser,
  insertInvitationStatement,
  setResetPasswordStatement,
  spendLinksAfterChangeStatement,
  spendOpenLinksStatement,
  type UserChange,
  type UserRow,
  updateUserStatement,
  useInvitationStatement,
} from '../db/users';
import { DAY_MS, iso } from '../lib/time';
import { auditValues } from './audit';
import { hashPassword } from './password';
import { INVITATION_TOKEN_PREFIX, presentUser } from './people';
import type { Principal } from './principal';
import { hashSecret, newSecret } from './secrets';

/** A reset link is a full account recovery: it lives one day, not an invitation's seven. */
export const RESET_TTL_MS = DAY_MS;

/** Whether the principal is this very person (who may not disable, demote or delete themselves). */
export const isSelf = (who: Principal, user: Pick<UserRow, 'id'>): boolean =>
  who.actor.kind === 'user' && who.actor.id === String(user.id);

/**
 * Changes a person's status, role or party. A change of status to disabled, or of role or
 * party, ends their sessions and pending sign-ins in the same batch; disabling also spends
 * their open links. Null when the person changed meanwhile (read again and retry).
 */
export async function changeUser(
  db: D1Database,
  who: Principal,
  before: UserRow,
  change: UserChange,
  nowMs: number,
): Promise<UserRow | null> {
  const now = iso(nowMs);
  const scopeChanged =
    change.role !== before.role ||
    change.publisher_id !== before.publisher_id ||
    change.advertiser_id !== before.advertiser_id;
  const disabling = change.status === 'disabled' && before.status !== 'disabled';
  // As the UPDATE decides: a person who never set a password stays invited when enabled.
  const status = change.status === 'active' && before.password_hash === null ? 'invited' : change.status;
  const after = { ...before, ...change, status, updated_at: now };
  const audit = auditValues(
    who,
    {
      action: 'updateUser',
      resource: 'user',
      resourceId: before.id,
      before: presentUser(before),
      after: presentUser(after),
    },
    now,
  );
  const statements = [updateUserStatement(db, before, change, now), insertAuditAfterChangeStatement(db, audit)];
  if (disabling || scopeChanged) statements.push(...endAccessStatements(db, before.id, now));
  if (disabling) statements.push(spendLinksAfterChangeStatement(db, before.id, now));
  const [updated] = await db.batch<UserRow>(statements);
  return updated?.results[0] ?? null;
}

/** Removes a person, their sessions, links and recovery codes; the audit log keeps their label. */
export async function deleteUser(db: D1Database, who: Principal, user: UserRow, nowMs: number): Promise<boolean> {
  const now = iso(nowMs);
  const audit = auditValues(
    who,
    { action: 'deleteUser', resource: 'user', resourceId: user.id, before: presentUser(user) },
    now,
  );
  const statements = deleteUserStatements(db, user.id);
  const results = await db.batch([...statements, insertAuditAfterChangeStatement(db, audit)]);
  return (results[statements.length - 1]?.meta.changes ?? 0) === 1;
}

export interface ResetLink {
  token: string;
  expires_at: string;
}

/**
 * A new single-use reset link for a person; their older open links (invitation or reset) stop
 * working. `removeTotp`: using the link also removes their second factor (a lost phone).
 */
export async function createResetLink(
  db: D1Database,
  who: Principal,
  user: UserRow,
  removeTotp: boolean,
  nowMs: number,
): Promise<ResetLink> {
  const now = iso(nowMs);
  // Reset links are invitation rows: the same prefix, so a pasted one is redacted (lib/redact.ts).
  const token = newSecret(INVITATION_TOKEN_PREFIX);
  const expiresAt = iso(nowMs + RESET_TTL_MS);
  const audit = auditValues(
    who,
    { action: 'resetUserPassword', resource: 'user', resourceId: user.id, after: { remove_totp: removeTotp } },
    now,
  );
  await db.batch([
    spendOpenLinksStatement(db, user.id, now),
    insertInvitationStatement(db, {
      token_hash: await hashSecret(token),
      user_id: user.id,
      purpose: 'reset',
      remove_totp: removeTotp ? 1 : 0,
      created_at: now,
      expires_at: expiresAt,
    }),
    insertAuditAfterChangeStatement(db, audit),
  ]);
  return { token, expires_at: expiresAt };
}

export const openResetLink = async (db: D1Database, token: string, nowMs: number) =>
  token.length > 100 ? null : getOpenInvitation(db, await hashSecret(token), iso(nowMs), 'reset');

/**
 * Sets a new password from a reset link and ends every session and pending sign-in of the
 * person, all in one batch that lands only if it spent the link. The person then signs in (with
 * their second factor, if they keep one). Null for an unknown, used or expired link.
 */
export async function useResetLink(
  db: D1Database,
  token: string,
  password: string,
  nowMs: number,
): Promise<UserRow | null> {
  const link = await openResetLink(db, token, nowMs);
  if (!link) return null;
  const now = iso(nowMs);
  const [use] = await db.batch([
    useInvitationStatement(db, link.token_hash, now),
    setResetPasswordStatement(db, link.user_id, await hashPassword(password), link.remove_totp === 1, now),
    ...endAccessStatements(db, link.user_id, now),
    deleteRecoveryCodesStatement(db, link.user_id),
  ]);
  if ((use?.meta.changes ?? 0) !== 1) return null;
  return getUser(db, link.user_id);
}
