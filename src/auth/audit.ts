// Audit entries: who (principal and credential), what (action on a resource), when, and the
// resource before and after. Entries are statements, so a change and its entry go in one batch
// and neither lands without the other. Secret columns never reach the log.
import { type AuditValues, insertAuditStatement } from '../db/audit';
import type { Principal } from './principal';

/** Columns that hold secrets or their hashes: left out of before/after. */
const SECRET_COLUMNS = new Set([
  'password_hash',
  'key_hash',
  'signing_secret',
  'previous_signing_secret',
  'postback_key_hash',
  'postback_key',
  'csrf_secret',
  'key',
  'token_hash',
]);

function snapshot(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return JSON.stringify(value, (key, v: unknown) => (SECRET_COLUMNS.has(key) ? '[secret]' : v));
}

export interface AuditChange {
  /** 'create', 'update', 'delete', 'revoke', 'status', 'rotate_secret', 'password'... */
  action: string;
  /** The resource kind as the API names it: 'offer', 'endpoint', 'api_key', 'user'... */
  resource: string;
  resourceId: string | number | null;
  before?: unknown;
  after?: unknown;
}

export function auditValues(principal: Principal, change: AuditChange, at: string): AuditValues {
  return {
    at,
    actor_kind: principal.actor.kind,
    actor_id: principal.actor.id,
    actor_label: principal.actor.label,
    actor_role: principal.role,
    action: change.action,
    resource: change.resource,
    resource_id: change.resourceId === null ? null : String(change.resourceId),
    before: snapshot(change.before),
    after: snapshot(change.after),
  };
}

export const auditStatement = (db: D1Database, principal: Principal, change: AuditChange, at: string) =>
  insertAuditStatement(db, auditValues(principal, change, at));
