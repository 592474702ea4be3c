// Who is calling: the principal every authenticated request carries. A role fixes the scope
// (operator: everything; publisher or advertiser: one party's data), and the actor says which
// credential acted, for the audit log.

export const ROLES = ['operator', 'publisher', 'advertiser'] as const;
export type Role = (typeof ROLES)[number];

/** The credential that acted: the ADMIN_TOKEN, an API key or a signed-in person. */
export interface Actor {
  kind: 'token' | 'key' | 'user';
  /** Key or user id; null for the token. */
  id: string | null;
  /** What the audit log shows: "admin token", "key 3 (reporting)", "user 7 <a@b.example>". */
  label: string;
}

export type Principal =
  | { role: 'operator'; actor: Actor }
  | { role: 'publisher'; publisherId: number; actor: Actor }
  | { role: 'advertiser'; advertiserId: number; actor: Actor };

/** The scope columns of a key or user row, read back into a principal. */
export interface ScopedRow {
  role: Role;
  publisher_id: number | null;
  advertiser_id: number | null;
}

/** Null when the row's scope is inconsistent (the schema's CHECKs make that impossible). */
export function principalOf(row: ScopedRow, actor: Actor): Principal | null {
  if (row.role === 'operator') return { role: 'operator', actor };
  if (row.role === 'publisher' && row.publisher_id !== null) {
    return { role: 'publisher', publisherId: row.publisher_id, actor };
  }
  if (row.role === 'advertiser' && row.advertiser_id !== null) {
    return { role: 'advertiser', advertiserId: row.advertiser_id, actor };
  }
  return null;
}

export const TOKEN_ACTOR: Actor = { kind: 'token', id: null, label: 'admin token' };

/** The break-glass operator: whoever holds ADMIN_TOKEN. */
export const tokenOperator: Principal = { role: 'operator', actor: TOKEN_ACTOR };

/** "publisher 4", "advertiser 2" or "operator": how a page or a log names a principal's side. */
export function scopeLabel(principal: Principal): string {
  if (principal.role === 'publisher') return `publisher ${principal.publisherId}`;
  if (principal.role === 'advertiser') return `advertiser ${principal.advertiserId}`;
  return 'operator';
}
