// parked_messages table: queue messages that reached a dead end (a dead-letter queue, or a body
// no consumer can decode), kept until the operator re-sends them (src/parked).

export const PARKED_REASONS = ['retries_exhausted', 'undecodable'] as const;
export type ParkedReason = (typeof PARKED_REASONS)[number];
export const PARKED_STATUSES = ['parked', 'retried'] as const;
export type ParkedStatus = (typeof PARKED_STATUSES)[number];
export type BodyEncoding = 'json' | 'text' | 'bytes';

export interface ParkedRow {
  id: string;
  queue: string;
  body: string;
  body_encoding: BodyEncoding;
  body_hash: string;
  reason: ParkedReason;
  error: string | null;
  attempts: number;
  message_id: string;
  status: ParkedStatus;
  retries: number;
  first_failed_at: string;
  parked_at: string;
  retried_at: string | null;
}

export type NewParked = Omit<ParkedRow, 'status' | 'retries' | 'retried_at' | 'first_failed_at'>;

/**
 * Parks a message, or brings its row back to 'parked' when the same body comes back (a retry
 * that failed again). A redelivery of the message already parked (same message_id: its ack was
 * lost) changes nothing, so attempts are counted once per message.
 */
export const parkStatement = (db: D1Database, row: NewParked): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO parked_messages (id, queue, body, body_encoding, body_hash, reason, error, attempts, message_id,
         status, retries, first_failed_at, parked_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'parked', 0, ?10, ?10)
       ON CONFLICT (queue, body_hash) DO UPDATE SET
         status = 'parked', reason = excluded.reason, error = excluded.error,
         attempts = parked_messages.attempts + excluded.attempts,
         message_id = excluded.message_id, parked_at = excluded.parked_at
       WHERE parked_messages.message_id != excluded.message_id`,
    )
    .bind(
      row.id,
      row.queue,
      row.body,
      row.body_encoding,
      row.body_hash,
      row.reason,
      row.error,
      row.attempts,
      row.message_id,
      row.parked_at,
    );

export const getParked = (db: D1Database, id: string): Promise<ParkedRow | null> =>
  db.prepare('SELECT * FROM parked_messages WHERE id = ?').bind(id).first<ParkedRow>();

/** Marks a parked message re-sent; null when it was not waiting (retried by someone else just now). */
export const markRetried = (db: D1Database, id: string, now: string): Promise<ParkedRow | null> =>
  db
    .prepare(
      `UPDATE parked_messages SET status = 'retried', retries = retries + 1, retried_at = ?
       WHERE id = ? AND status = 'parked' RETURNING *`,
    )
    .bind(now, id)
    .first<ParkedRow>();

/** Gives a claimed retry back when the re-send failed, so the message waits again. */
export const unmarkRetried = (db: D1Database, id: string): Promise<D1Result> =>
  db
    .prepare(`UPDATE parked_messages SET status = 'parked', retries = retries - 1 WHERE id = ? AND status = 'retried'`)
    .bind(id)
    .run();

export interface ParkedFilters {
  queue?: string;
  status?: ParkedStatus;
}

/** Oldest failure first (what waits longest comes first); the cursor is the last row's first_failed_at|id. */
export function listParkedStatement(
  db: D1Database,
  filters: ParkedFilters,
  after: { first_failed_at: string; id: string } | undefined,
  limit: number,
): D1PreparedStatement {
  const where: string[] = [];
  const values: (string | number)[] = [];
  if (filters.queue) {
    where.push('queue = ?');
    values.push(filters.queue);
  }
  if (filters.status) {
    where.push('status = ?');
    values.push(filters.status);
  }
  if (after) {
    where.push('(first_failed_at > ? OR (first_failed_at = ? AND id > ?))');
    values.push(after.first_failed_at, after.first_failed_at, after.id);
  }
  return db
    .prepare(
      `SELECT * FROM parked_messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY first_failed_at, id LIMIT ?`,
    )
    .bind(...values, limit);
}

export const listParked = async (
  db: D1Database,
  filters: ParkedFilters,
  after: { first_failed_at: string; id: string } | undefined,
  limit: number,
): Promise<ParkedRow[]> => (await listParkedStatement(db, filters, after, limit).all<ParkedRow>()).results;

export interface ParkedSummaryRow {
  queue: string;
  waiting: number;
  oldest_failed_at: string;
}

/** What waits, per queue: the count and the oldest first failure (the dashboard's alert line). */
export const PARKED_SUMMARY_SQL = `SELECT queue, COUNT(*) AS waiting, MIN(first_failed_at) AS oldest_failed_at
  FROM parked_messages WHERE status = 'parked' GROUP BY queue ORDER BY queue`;

export const parkedSummaryStatement = (db: D1Database): D1PreparedStatement => db.prepare(PARKED_SUMMARY_SQL);

/** The messages waiting, oldest first, without their bodies (the dashboard's table). */
export type WaitingParkedRow = Omit<ParkedRow, 'body' | 'body_hash'>;

export const waitingParkedStatement = (db: D1Database, limit: number): D1PreparedStatement =>
  db
    .prepare(
      `SELECT id, queue, body_encoding, reason, error, attempts, message_id, status, retries, first_failed_at,
              parked_at, retried_at
       FROM parked_messages WHERE status = 'parked' ORDER BY first_failed_at, id LIMIT ?`,
    )
    .bind(limit);
