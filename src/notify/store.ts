// endpoints, deliveries and delivery_attempts tables: row types and SQL used by the admin API,
// the consumer and the reconciliation cron.

export interface EndpointRow {
  id: number;
  publisher_id: number;
  url: string;
  method: 'GET' | 'POST';
  format: 'query' | 'json' | 'form';
  form_field: string | null;
  /** JSON array of event types. */
  events: string;
  /** JSON array of offer ids; null = every offer. */
  offer_ids: string | null;
  include_products: 0 | 1;
  include_click_data: 0 | 1;
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_secret_expires_at: string | null;
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'dead';

export interface DeliveryRow {
  id: string;
  event_id: string;
  conversion_id: string;
  endpoint_id: number;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: string | null;
  enqueued_at: string | null;
  message_id: string | null;
  created_at: string;
  updated_at: string;
}

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

// ---- endpoints

export type EndpointValues = Omit<EndpointRow, 'id'>;

const ENDPOINT_COLUMNS = [
  'publisher_id',
  'url',
  'method',
  'format',
  'form_field',
  'events',
  'offer_ids',
  'include_products',
  'include_click_data',
  'signing_secret',
  'previous_signing_secret',
  'previous_secret_expires_at',
  'status',
  'disabled_reason',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof EndpointValues)[];

export async function insertEndpoint(db: D1Database, row: EndpointValues): Promise<EndpointRow> {
  const inserted = await db
    .prepare(
      `INSERT INTO endpoints (${ENDPOINT_COLUMNS.join(', ')})
       VALUES (${ENDPOINT_COLUMNS.map(() => '?').join(', ')}) RETURNING *`,
    )
    .bind(...ENDPOINT_COLUMNS.map((column) => row[column]))
    .first<EndpointRow>();
  if (!inserted) throw new Error('endpoint insert returned no row');
  return inserted;
}

export const getEndpoint = (db: D1Database, id: number) =>
  db.prepare('SELECT * FROM endpoints WHERE id = ?').bind(id).first<EndpointRow>();

export async function listEndpoints(db: D1Database, filters: { publisher_id?: number }, after: number, limit: number) {
  const { results } = await db
    .prepare('SELECT * FROM endpoints WHERE id > ?1 AND (?2 IS NULL OR publisher_id = ?2) ORDER BY id LIMIT ?3')
    .bind(after, filters.publisher_id ?? null, limit)
    .all<EndpointRow>();
  return results;
}

export async function updateEndpoint(
  db: D1Database,
  id: number,
  changes: Partial<EndpointValues>,
  updatedAt: string,
): Promise<EndpointRow | null> {
  const entries = Object.entries(changes).filter(([key, v]) => v !== undefined && key !== 'updated_at');
  const sets = [...entries.map(([k]) => `${k} = ?`), 'updated_at = ?'].join(', ');
  return db
    .prepare(`UPDATE endpoints SET ${sets} WHERE id = ? RETURNING *`)
    .bind(...entries.map(([, v]) => v), updatedAt, id)
    .first<EndpointRow>();
}

/** Signing secrets in force at `now`: the current one, plus the previous one during its grace. */
export function activeSecrets(
  endpoint: Pick<EndpointRow, 'signing_secret' | 'previous_signing_secret' | 'previous_secret_expires_at'>,
  now: string,
): string[] {
  const secrets = [endpoint.signing_secret];
  if (
    endpoint.previous_signing_secret &&
    endpoint.previous_secret_expires_at &&
    endpoint.previous_secret_expires_at > now
  ) {
    secrets.push(endpoint.previous_signing_secret);
  }
  return secrets;
}

// ---- deliveries (consumer)

/** A claimed delivery with what rendering it needs. */
export interface DeliveryWork {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  message_id: string | null;
  endpoint_id: number;
  endpoint_status: 'active' | 'disabled';
  url: string;
  method: 'GET' | 'POST';
  format: 'query' | 'json' | 'form';
  form_field: string | null;
  include_products: 0 | 1;
  include_click_data: 0 | 1;
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_secret_expires_at: string | null;
  snapshot: string;
}

/**
 * Claims the delivery for a queue message (unless another message owns it, or it is finished)
 * and loads it, in one transaction. The caller owns the delivery when the returned row's
 * message_id is its message id and its status is pending or retrying.
 */
export async function claimDelivery(
  db: D1Database,
  deliveryId: string,
  messageId: string,
): Promise<DeliveryWork | null> {
  const [, loaded] = await db.batch([
    db
      .prepare(
        `UPDATE deliveries SET message_id = ?2
         WHERE id = ?1 AND status IN ('pending', 'retrying') AND (message_id IS NULL OR message_id = ?2)`,
      )
      .bind(deliveryId, messageId),
    db
      .prepare(
        `SELECT d.id, d.status, d.attempts, d.message_id, d.endpoint_id, e.status AS endpoint_status,
           e.url, e.method, e.format, e.form_field, e.include_products, e.include_click_data,
           e.signing_secret, e.previous_signing_secret, e.previous_secret_expires_at, ev.snapshot
         FROM deliveries d
         JOIN endpoints e ON e.id = d.endpoint_id
         JOIN conversion_events ev ON ev.id = d.event_id
         WHERE d.id = ?1`,
      )
      .bind(deliveryId),
  ]);
  return ((loaded?.results ?? [])[0] as DeliveryWork | undefined) ?? null;
}

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

export interface DeliveryResult {
  status: DeliveryStatus;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  /** Set when the endpoint answered 410 Gone. */
  disableEndpoint?: { id: number; reason: string };
}

/**
 * Statements recording one attempt and its effect. The delivery update only applies if no one
 * recorded this attempt number first (attempts = attempt - 1); the attempt row is keyed by
 * (delivery_id, attempt), so replaying the same record changes nothing.
 */
export function recordAttemptStatements(
  db: D1Database,
  record: AttemptRecord,
  result: DeliveryResult,
  now: string,
): D1PreparedStatement[] {
  const statements = [
    db
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
      ),
    db
      .prepare(
        `UPDATE deliveries SET attempts = ?1, status = ?2, next_attempt_at = ?3, last_attempt_at = ?4,
           last_status_code = ?5, last_error = ?6, delivered_at = COALESCE(?7, delivered_at), updated_at = ?8
         WHERE id = ?9 AND attempts = ?1 - 1`,
      )
      .bind(
        record.attempt,
        result.status,
        result.nextAttemptAt,
        record.startedAt,
        record.statusCode,
        record.error,
        result.deliveredAt,
        now,
        record.deliveryId,
      ),
  ];
  if (result.disableEndpoint) {
    statements.push(
      db
        .prepare(
          `UPDATE endpoints SET status = 'disabled', disabled_reason = ?, updated_at = ? WHERE id = ? AND status = 'active'`,
        )
        .bind(result.disableEndpoint.reason, now, result.disableEndpoint.id),
    );
  }
  return statements;
}

/** Ends a delivery without an attempt (its endpoint was disabled meanwhile). */
export const markDeadStatement = (db: D1Database, deliveryId: string, error: string, now: string) =>
  db
    .prepare(
      `UPDATE deliveries SET status = 'dead', next_attempt_at = NULL, last_error = ?, updated_at = ?
       WHERE id = ? AND status IN ('pending', 'retrying')`,
    )
    .bind(error, now, deliveryId);

// ---- deliveries (admin)

export interface DeliveryFilters {
  conversion_id?: string;
  endpoint_id?: number;
  status?: DeliveryStatus;
}

/** Newest first; `before` is the (created_at, id) of the last row of the previous page. */
export async function listDeliveries(
  db: D1Database,
  filters: DeliveryFilters,
  before: { created_at: string; id: string } | undefined,
  limit: number,
): Promise<DeliveryRow[]> {
  const where: string[] = [];
  const binds: unknown[] = [];
  if (filters.conversion_id) {
    where.push('conversion_id = ?');
    binds.push(filters.conversion_id);
  }
  if (filters.endpoint_id !== undefined) {
    where.push('endpoint_id = ?');
    binds.push(filters.endpoint_id);
  }
  if (filters.status) {
    where.push('status = ?');
    binds.push(filters.status);
  }
  if (before) {
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    binds.push(before.created_at, before.created_at, before.id);
  }
  const { results } = await db
    .prepare(
      `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    )
    .bind(...binds, limit)
    .all<DeliveryRow>();
  return results;
}

export const getDelivery = (db: D1Database, id: string) =>
  db.prepare('SELECT * FROM deliveries WHERE id = ?').bind(id).first<DeliveryRow>();

export async function listAttempts(db: D1Database, deliveryId: string): Promise<AttemptRow[]> {
  const { results } = await db
    .prepare('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt')
    .bind(deliveryId)
    .all<AttemptRow>();
  return results;
}

/**
 * Makes a finished (delivered or dead) delivery pending again for a new queue message: clears
 * its message owner so the new message can claim it. Null when it is not finished.
 */
export const reopenDelivery = (db: D1Database, id: string, now: string) =>
  db
    .prepare(
      `UPDATE deliveries SET status = 'pending', message_id = NULL, next_attempt_at = NULL, enqueued_at = NULL,
         updated_at = ? WHERE id = ? AND status IN ('delivered', 'dead') RETURNING *`,
    )
    .bind(now, id)
    .first<DeliveryRow>();
