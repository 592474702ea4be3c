// Puts an admin change's audit entry into the same D1 transaction as the change itself, so a
// change never lands without its entry. The handler gets a database that, on its first write
// (one statement or a batch), adds the entry to that write's batch, guarded by `changes() > 0`
// on the write before it: a guarded UPDATE that changed nothing records nothing. The entry is
// written with the resource before the change; the answer (after) is filled in right after the
// handler, when it exists. Handlers stay unaware: they just use c.env.DB.
import { type AuditValues, insertAuditAfterChangeStatement } from '../db/audit';

const WRITE = /^\s*(?:WITH\b[\s\S]*?)?\b(?:INSERT|UPDATE|DELETE|REPLACE)\b/i;

/** The entry with only the change's own write able to make it land. */
const guardedEntry = insertAuditAfterChangeStatement;

export interface AuditingDatabase {
  db: D1Database;
  /** The entry's id once it was written with the change; null until then (or never). */
  entryId(): number | null;
}

/** A view of `db` that writes `entry` with the first write that changes something. */
export function auditingDatabase(db: D1Database, entry: () => AuditValues): AuditingDatabase {
  let written: number | null = null;
  const sqlOf = new WeakMap<object, string>();
  const targetOf = new WeakMap<object, D1PreparedStatement>();

  /** Runs `statements` with the entry after the first write; answers their own results. */
  async function batchWithEntry(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    const real = statements.map((s) => targetOf.get(s) ?? s);
    if (written !== null) return db.batch(real);
    const firstWrite = statements.findIndex((s) => WRITE.test(sqlOf.get(s) ?? ''));
    if (firstWrite < 0) return db.batch(real);
    const at = firstWrite + 1;
    const results = await db.batch([...real.slice(0, at), guardedEntry(db, entry()), ...real.slice(at)]);
    const recorded = results[at];
    if (recorded?.meta.changes === 1) written = recorded.meta.last_row_id;
    return [...results.slice(0, at), ...results.slice(at + 1)];
  }

  function wrap(statement: D1PreparedStatement, sql: string): D1PreparedStatement {
    const wrapped = new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...values: unknown[]) => wrap(target.bind(...values), sql);
        const writes = WRITE.test(sql) && written === null;
        if (writes && (prop === 'run' || prop === 'all')) {
          return async () => (await batchWithEntry([wrapped]))[0];
        }
        if (writes && prop === 'first') {
          return async (column?: string) => {
            const row = ((await batchWithEntry([wrapped]))[0]?.results[0] ?? null) as Record<string, unknown> | null;
            return column === undefined ? row : (row?.[column] ?? null);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    sqlOf.set(wrapped, sql);
    targetOf.set(wrapped, statement);
    return wrapped;
  }

  const auditing = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === 'batch') return (statements: D1PreparedStatement[]) => batchWithEntry(statements);
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: auditing, entryId: () => written };
}
