// validations and validation_chunks tables (bulk validation jobs), and the reads a validation
// makes of conversions (by id or order ID, in the caller's scope) and of the audit log (which
// rows of a job already applied). SQL and row types.
import type { ConversionStatus } from '../conversions/status';

export type ValidationStatus = 'queued' | 'running' | 'done';

export interface ValidationRow {
  id: string;
  advertiser_id: number | null;
  principal: string;
  format: 'csv' | 'json';
  rows_total: number;
  chunks_total: number;
  status: ValidationStatus;
  created_at: string;
  finished_at: string | null;
}

export interface ChunkRow {
  validation_id: string;
  seq: number;
  status: 'pending' | 'done';
  rows: string;
  results: string | null;
  rows_done: number;
  changed: number;
  unchanged: number;
  failed: number;
  attempts: number;
  updated_at: string;
}

/** What a validation plan reads of a conversion (src/month/validation-plan.ts). */
export interface ConversionStateRow {
  id: string;
  offer_id: number;
  advertiser_id: number;
  order_id: string | null;
  goal_key: string;
  status: ConversionStatus;
  currency: string;
  amount: number;
  has_products: number;
}

const STATE = `SELECT c.id, c.offer_id, c.advertiser_id, c.order_id, g.key AS goal_key, c.status, c.currency, c.amount,
  c.products IS NOT NULL AS has_products FROM conversions c JOIN goals g ON g.id = c.goal_id`;

/** By id (the primary key), only the advertiser's own when `advertiserId` is given. */
export const conversionStatesByIdStatement = (db: D1Database, ids: string[], advertiserId: number | null) =>
  db
    .prepare(`${STATE} WHERE c.id IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR c.advertiser_id = ?2)`)
    .bind(JSON.stringify(ids), advertiserId);

/** By order ID (conversions_order), across offers and goals, in the same scope. */
export const conversionStatesByOrderStatement = (db: D1Database, orderIds: string[], advertiserId: number | null) =>
  db
    .prepare(`${STATE} WHERE c.order_id IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR c.advertiser_id = ?2)`)
    .bind(JSON.stringify(orderIds), advertiserId);

export const insertValidationStatement = (db: D1Database, row: ValidationRow) =>
  db
    .prepare(
      `INSERT INTO validations (id, advertiser_id, principal, format, rows_total, chunks_total, status, created_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      row.id,
      row.advertiser_id,
      row.principal,
      row.format,
      row.rows_total,
      row.chunks_total,
      row.status,
      row.created_at,
      row.finished_at,
    );

export const insertChunkStatement = (db: D1Database, row: ChunkRow) =>
  db
    .prepare(
      `INSERT INTO validation_chunks (validation_id, seq, status, rows, results, rows_done, changed, unchanged, failed, attempts, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
    )
    .bind(
      row.validation_id,
      row.seq,
      row.status,
      row.rows,
      row.results,
      row.rows_done,
      row.changed,
      row.unchanged,
      row.failed,
      row.updated_at,
    );

/** Removes a job whose chunks could not all be stored (nothing of it was applied). */
export const deleteValidationStatements = (db: D1Database, id: string) => [
  db.prepare('DELETE FROM validation_chunks WHERE validation_id = ?').bind(id),
  db.prepare('DELETE FROM validations WHERE id = ?').bind(id),
];

export const getValidation = (db: D1Database, id: string) =>
  db.prepare('SELECT * FROM validations WHERE id = ?').bind(id).first<ValidationRow>();

export async function chunksOf(db: D1Database, id: string): Promise<ChunkRow[]> {
  const { results } = await db
    .prepare('SELECT * FROM validation_chunks WHERE validation_id = ? ORDER BY seq')
    .bind(id)
    .all<ChunkRow>();
  return results;
}

/**
 * Opens an attempt at a pending chunk (and the job, if it was waiting): the job and the chunk,
 * or no chunk once it is done.
 */
export async function startChunk(
  db: D1Database,
  id: string,
  seq: number,
  now: string,
): Promise<{ job: ValidationRow | null; chunk: ChunkRow | null }> {
  const [, chunk, job] = await db.batch([
    db.prepare("UPDATE validations SET status = 'running' WHERE id = ? AND status = 'queued'").bind(id),
    db
      .prepare(
        `UPDATE validation_chunks SET attempts = attempts + 1, updated_at = ?3
         WHERE validation_id = ?1 AND seq = ?2 AND status = 'pending' RETURNING *`,
      )
      .bind(id, seq, now),
    db.prepare('SELECT * FROM validations WHERE id = ?').bind(id),
  ]);
  return {
    job: (job?.results[0] as ValidationRow | undefined) ?? null,
    chunk: (chunk?.results[0] as ChunkRow | undefined) ?? null,
  };
}

/** The conversions a chunk applies to, whole, as the conversion domain takes them. */
export const fullConversionsStatement = (db: D1Database, ids: string[]) =>
  db
    .prepare(
      'SELECT c.*, g.key AS goal_key FROM conversions c JOIN goals g ON g.id = c.goal_id WHERE c.id IN (SELECT value FROM json_each(?))',
    )
    .bind(JSON.stringify(ids));

/** An issued or paid document a conversion is stated on (src/month/locked.ts). */
export interface LockedDocumentRow {
  conversion_id: string;
  kind: 'statement' | 'invoice';
  document_id: number;
  period: string;
  status: 'issued' | 'paid';
}

/**
 * The issued and paid documents the given conversions are counted on, by document_lines_stated
 * (kind, counted, conversion_id) and the documents' primary key. CROSS JOIN keeps the lines
 * first: starting from the issued documents would walk every one of them.
 */
export const lockedDocumentsStatement = (db: D1Database, ids: string[]) =>
  db
    .prepare(
      `SELECT l.conversion_id, d.kind, d.id AS document_id, d.period, d.status
       FROM document_lines l CROSS JOIN documents d ON d.id = l.document_id
       WHERE l.kind IN ('statement', 'invoice') AND l.counted = 1
         AND l.conversion_id IN (SELECT value FROM json_each(?1)) AND d.status IN ('issued', 'paid')
       ORDER BY l.conversion_id, d.kind, d.id`,
    )
    .bind(JSON.stringify(ids));

export interface ChunkResult {
  results: string;
  changed: number;
  unchanged: number;
  failed: number;
}

/** Stores a chunk's outcomes and closes the job when it was the last one pending. */
export const finishChunk = (
  db: D1Database,
  id: string,
  seq: number,
  result: ChunkResult,
  rowsDone: number,
  now: string,
) =>
  db.batch([
    db
      .prepare(
        `UPDATE validation_chunks SET status = 'done', results = ?3, rows_done = ?4, changed = ?5, unchanged = ?6,
           failed = ?7, updated_at = ?8 WHERE validation_id = ?1 AND seq = ?2 AND status = 'pending'`,
      )
      .bind(id, seq, result.results, rowsDone, result.changed, result.unchanged, result.failed, now),
    closeIfDoneStatement(db, id, now),
  ]);

export const closeIfDoneStatement = (db: D1Database, id: string, now: string) =>
  db
    .prepare(
      `UPDATE validations SET status = 'done', finished_at = ?2 WHERE id = ?1 AND status <> 'done'
       AND NOT EXISTS (SELECT 1 FROM validation_chunks WHERE validation_id = ?1 AND status = 'pending')`,
    )
    .bind(id, now);

/**
 * Conversions a job already changed (its audit entries carry the job's id): a chunk retried
 * after a failure names them changed, not unchanged. Served by audit_log_resource.
 */
export async function conversionsChangedBy(db: D1Database, id: string, conversionIds: string[]): Promise<Set<string>> {
  if (conversionIds.length === 0) return new Set();
  const { results } = await db
    .prepare(
      `SELECT DISTINCT resource_id FROM audit_log WHERE resource = 'conversion'
       AND resource_id IN (SELECT value FROM json_each(?1)) AND json_extract(after, '$.validation_id') = ?2`,
    )
    .bind(JSON.stringify(conversionIds), id)
    .all<{ resource_id: string }>();
  return new Set(results.map((r) => r.resource_id));
}

/** Jobs newest first, the advertiser's own when `advertiserId` is given (the portal's list). */
export async function recentValidations(db: D1Database, advertiserId: number | null, limit: number) {
  const statement =
    advertiserId === null
      ? db.prepare('SELECT * FROM validations ORDER BY created_at DESC LIMIT ?').bind(limit)
      : db
          .prepare('SELECT * FROM validations WHERE advertiser_id = ? ORDER BY created_at DESC LIMIT ?')
          .bind(advertiserId, limit);
  return (await statement.all<ValidationRow>()).results;
}

/** Totals of a job's chunks. */
export const validationTotalsStatement = (db: D1Database, id: string) =>
  db
    .prepare(
      `SELECT COALESCE(SUM(rows_done), 0) AS rows_done, COALESCE(SUM(changed), 0) AS changed,
         COALESCE(SUM(unchanged), 0) AS unchanged, COALESCE(SUM(failed), 0) AS failed
       FROM validation_chunks WHERE validation_id = ?`,
    )
    .bind(id);
