// audit_log table: who changed what, when, with the resource before and after.

export type ActorKind = 'token' | 'key' | 'user' | 'system';

export interface AuditRow {
  id: number;
  at: string;
  actor_kind: ActorKind;
  actor_id: string | null;
  actor_label: string;
  actor_role: string;
  action: string;
  resource: string;
  resource_id: string | null;
  /** JSON of the resource before the change; null for a creation. */
  before: string | null;
  /** JSON of the resource after the change; null for a deletion. */
  after: string | null;
}

export type AuditValues = Omit<AuditRow, 'id'>;

export const AUDIT_COLUMNS = [
  'at',
  'actor_kind',
  'actor_id',
  'actor_label',
  'actor_role',
  'action',
  'resource',
  'resource_id',
  'before',
  'after',
] as const satisfies readonly (keyof AuditValues)[];

/** A statement to put in the same batch as the change it records, so neither lands alone. */
export const insertAuditStatement = (db: D1Database, row: AuditValues): D1PreparedStatement =>
  db
    .prepare(`INSERT INTO audit_log (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`)
    .bind(...AUDIT_COLUMNS.map((column) => row[column]));

/**
 * An entry that lands only when the statement before it in the batch changed something
 * (`changes() > 0`): the change's own write decides, so a no-op records nothing.
 */
export const insertAuditAfterChangeStatement = (db: D1Database, row: AuditValues): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO audit_log (${AUDIT_COLUMNS.join(', ')}) SELECT ${AUDIT_COLUMNS.map(() => '?').join(', ')}
       WHERE changes() > 0`,
    )
    .bind(...AUDIT_COLUMNS.map((column) => row[column]));

/** Fills in the answer of an entry written with its change (and the id a creation got). */
export const completeAuditStatement = (
  db: D1Database,
  id: number,
  after: string | null,
  resourceId: string | null,
): D1PreparedStatement =>
  db
    .prepare('UPDATE audit_log SET after = ?2, resource_id = COALESCE(resource_id, ?3) WHERE id = ?1')
    .bind(id, after, resourceId);

export async function insertAudit(db: D1Database, row: AuditValues): Promise<void> {
  await insertAuditStatement(db, row).run();
}

export interface AuditFilters {
  resource?: string;
  resource_id?: string;
}

/**
 * Newest first below a cursor id: a range of the primary key, or of audit_log_resource when a
 * resource and its id are given.
 */
export const listAuditStatement = (
  db: D1Database,
  filters: AuditFilters,
  before: number,
  limit: number,
): D1PreparedStatement =>
  filters.resource === undefined
    ? db.prepare('SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?').bind(before, limit)
    : filters.resource_id === undefined
      ? db
          .prepare('SELECT * FROM audit_log WHERE resource = ? AND id < ? ORDER BY id DESC LIMIT ?')
          .bind(filters.resource, before, limit)
      : db
          .prepare('SELECT * FROM audit_log WHERE resource = ? AND resource_id = ? AND id < ? ORDER BY id DESC LIMIT ?')
          .bind(filters.resource, filters.resource_id, before, limit);

export async function listAudit(
  db: D1Database,
  filters: AuditFilters,
  before: number,
  limit: number,
): Promise<AuditRow[]> {
  return (await listAuditStatement(db, filters, before, limit).all<AuditRow>()).results;
}
