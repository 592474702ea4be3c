// delivery_attempts table: one row per request made for a delivery, keyed by (delivery_id,
// attempt) so replaying the record of an attempt changes nothing.

export interface AttemptRow {
  id: number;
  delivery_id: string;
  attempt: number;
  started_at: string;
  request_method: string;
  request_url: string;
  status_code: number | null;
  latency_ms: number | null;
  response_snippet: string | null;
  error: string | null;
}

/** One attempt as the consumer records it. */
export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  startedAt: string;
  method: string;
  url: string;
  statusCode: number | null;
  latencyMs: number | null;
  snippet: string | null;
  error: string | null;
}

export function insertAttemptStatement(db: D1Database, record: AttemptRecord): D1PreparedStatement {
  return db
    .prepare(
      `INSERT OR IGNORE INTO delivery_attempts (delivery_id, attempt, started_at, request_method, request_url,
         status_code, latency_ms, response_snippet, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      record.deliveryId,
      record.attempt,
      record.startedAt,
      record.method,
      record.url,
      record.statusCode,
      record.latencyMs,
      record.snippet,
      record.error,
    );
}

export const listAttemptsStatement = (db: D1Database, deliveryId: string): D1PreparedStatement =>
  db.prepare('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt').bind(deliveryId);

export async function listAttempts(db: D1Database, deliveryId: string): Promise<AttemptRow[]> {
  return (await listAttemptsStatement(db, deliveryId).all<AttemptRow>()).results;
}
