// endpoints table: a publisher's notification endpoints, read and written by the admin API and
// disabled by the notifications consumer when a receiver answers 410 Gone. How many a publisher
// may have (ENDPOINT_LIMITS) is enforced by the statements that add or activate one, in the
// same write, so concurrent requests cannot pass a count together.

export type EndpointLimits = { readonly active: number; readonly total: number };

/** Per publisher: endpoints that receive notifications, and endpoints in all (disabled included). */
export const ENDPOINT_LIMITS: EndpointLimits = { active: 10, total: 50 };

export interface EndpointRow {
  id: number;
  publisher_id: number;
  url: string;
  method: 'GET' | 'POST';
  format: 'query' | 'json' | 'form' | 'xml';
  form_field: string | null;
  /** A network's exact payload ('awin'), or null for Clickhop's own. */
  preset: 'awin' | null;
  /** POST formats: the receiver's own body with macros, or null. */
  body_template: string | null;
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
  /** Who last saved the delivery settings; null (unknown) renders like a publisher's (src/auth/money-view.ts). */
  saved_by: 'operator' | 'publisher' | null;
  created_at: string;
  updated_at: string;
}

/** A row to insert; preset, body_template and saved_by default to null. */
export type EndpointValues = Omit<EndpointRow, 'id' | 'preset' | 'body_template' | 'saved_by'> &
  Partial<Pick<EndpointRow, 'preset' | 'body_template' | 'saved_by'>>;

const ENDPOINT_COLUMNS = [
  'publisher_id',
  'url',
  'method',
  'format',
  'form_field',
  'preset',
  'body_template',
  'events',
  'offer_ids',
  'include_products',
  'include_click_data',
  'signing_secret',
  'previous_signing_secret',
  'previous_secret_expires_at',
  'status',
  'disabled_reason',
  'saved_by',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof EndpointValues)[];

/**
 * Inserts the endpoint unless its publisher already has `limits`' worth (counted in the same
 * statement); no row then. `null` inserts without counting: test fixtures seeding data from
 * before the limits.
 */
export function insertEndpointStatement(
  db: D1Database,
  row: EndpointValues,
  limits: EndpointLimits | null = ENDPOINT_LIMITS,
): D1PreparedStatement {
  const values = ENDPOINT_COLUMNS.map((column) => row[column] ?? null);
  const placeholders = ENDPOINT_COLUMNS.map(() => '?').join(', ');
  if (!limits) {
    return db
      .prepare(`INSERT INTO endpoints (${ENDPOINT_COLUMNS.join(', ')}) VALUES (${placeholders}) RETURNING *`)
      .bind(...values);
  }
  return db
    .prepare(
      `INSERT INTO endpoints (${ENDPOINT_COLUMNS.join(', ')})
       SELECT ${placeholders}
       WHERE (SELECT count(*) FROM endpoints WHERE publisher_id = ?) < ?
         AND (? != 'active' OR (SELECT count(*) FROM endpoints WHERE publisher_id = ? AND status = 'active') < ?)
       RETURNING *`,
    )
    .bind(...values, row.publisher_id, limits.total, row.status, row.publisher_id, limits.active);
}

/** The inserted endpoint; throws when a limit refused it (fixtures; the API answers 409 instead). */
export async function insertEndpoint(
  db: D1Database,
  row: EndpointValues,
  limits: EndpointLimits | null = ENDPOINT_LIMITS,
): Promise<EndpointRow> {
  const inserted = await insertEndpointStatement(db, row, limits).first<EndpointRow>();
  if (!inserted) throw new Error('endpoint insert returned no row (a limit refused it)');
  return inserted;
}

export interface EndpointCounts {
  active: number;
  total: number;
}

export const endpointCountsStatement = (db: D1Database, publisherId: number): D1PreparedStatement =>
  db
    .prepare(
      `SELECT count(*) AS total, coalesce(sum(status = 'active'), 0) AS active FROM endpoints WHERE publisher_id = ?`,
    )
    .bind(publisherId);

export const countEndpoints = async (db: D1Database, publisherId: number): Promise<EndpointCounts> =>
  (await endpointCountsStatement(db, publisherId).first<EndpointCounts>()) ?? { active: 0, total: 0 };

export const selectEndpointStatement = (db: D1Database, id: number): D1PreparedStatement =>
  db.prepare('SELECT * FROM endpoints WHERE id = ?').bind(id);

export const getEndpoint = (db: D1Database, id: number): Promise<EndpointRow | null> =>
  selectEndpointStatement(db, id).first<EndpointRow>();

export function listEndpointsStatement(
  db: D1Database,
  filters: { publisher_id?: number },
  after: number,
  limit: number,
): D1PreparedStatement {
  return db
    .prepare('SELECT * FROM endpoints WHERE id > ?1 AND (?2 IS NULL OR publisher_id = ?2) ORDER BY id LIMIT ?3')
    .bind(after, filters.publisher_id ?? null, limit);
}

export async function listEndpoints(
  db: D1Database,
  filters: { publisher_id?: number },
  after: number,
  limit: number,
): Promise<EndpointRow[]> {
  return (await listEndpointsStatement(db, filters, after, limit).all<EndpointRow>()).results;
}

/**
 * Changes an endpoint; no row when there is none or when the change activates it and its
 * publisher already has ENDPOINT_LIMITS.active active ones (counted in the same statement).
 */
export function updateEndpointStatement(
  db: D1Database,
  id: number,
  changes: Partial<EndpointValues>,
  updatedAt: string,
): D1PreparedStatement {
  const entries = Object.entries(changes).filter(([key, v]) => v !== undefined && key !== 'updated_at');
  const sets = [...entries.map(([k]) => `${k} = ?`), 'updated_at = ?'].join(', ');
  const activates = changes.status === 'active';
  const guard = activates
    ? ` AND (status = 'active' OR (SELECT count(*) FROM endpoints e WHERE e.publisher_id = endpoints.publisher_id AND e.status = 'active') < ?)`
    : '';
  return db
    .prepare(`UPDATE endpoints SET ${sets} WHERE id = ?${guard} RETURNING *`)
    .bind(...entries.map(([, v]) => v), updatedAt, id, ...(activates ? [ENDPOINT_LIMITS.active] : []));
}

export const updateEndpoint = (
  db: D1Database,
  id: number,
  changes: Partial<EndpointValues>,
  updatedAt: string,
): Promise<EndpointRow | null> => updateEndpointStatement(db, id, changes, updatedAt).first<EndpointRow>();

/** Disables an active endpoint (its receiver answered 410 Gone); a disabled one keeps its reason. */
export const disableEndpointStatement = (
  db: D1Database,
  id: number,
  reason: string,
  now: string,
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE endpoints SET status = 'disabled', disabled_reason = ?, updated_at = ? WHERE id = ? AND status = 'active'`,
    )
    .bind(reason, now, id);
