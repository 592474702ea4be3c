// offer_applications table: publishers' applications to private offers and the operator's
// decisions. SQL and row type.

export type ApplicationStatus = 'pending' | 'approved' | 'rejected';

export interface ApplicationRow {
  id: number;
  offer_id: number;
  publisher_id: number;
  status: ApplicationStatus;
  message: string | null;
  created_at: string;
  updated_at: string;
  decided_at: string | null;
}

/**
 * Applies (or applies again): a new application is pending; a rejected one is reopened as
 * pending; a pending or approved one is left as it is. Returns the row as it now stands.
 */
export async function applyToOffer(
  db: D1Database,
  offerId: number,
  publisherId: number,
  message: string | null,
  now: string,
): Promise<ApplicationRow> {
  const row = await db
    .prepare(
      `INSERT INTO offer_applications (offer_id, publisher_id, status, message, created_at, updated_at)
       VALUES (?1, ?2, 'pending', ?3, ?4, ?4)
       ON CONFLICT (offer_id, publisher_id) DO UPDATE SET
         status = CASE status WHEN 'rejected' THEN 'pending' ELSE status END,
         message = COALESCE(excluded.message, message),
         updated_at = CASE status WHEN 'rejected' THEN excluded.updated_at ELSE updated_at END,
         decided_at = CASE status WHEN 'rejected' THEN NULL ELSE decided_at END
       RETURNING *`,
    )
    .bind(offerId, publisherId, message, now)
    .first<ApplicationRow>();
  if (!row) throw new Error('application upsert returned no row');
  return row;
}

export const getApplication = (db: D1Database, id: number): Promise<ApplicationRow | null> =>
  db.prepare('SELECT * FROM offer_applications WHERE id = ?').bind(id).first<ApplicationRow>();

/** Sets the operator's decision; null when there is no such application. */
export const decideApplication = (
  db: D1Database,
  id: number,
  status: 'approved' | 'rejected',
  now: string,
): Promise<ApplicationRow | null> =>
  db
    .prepare('UPDATE offer_applications SET status = ?2, decided_at = ?3, updated_at = ?3 WHERE id = ?1 RETURNING *')
    .bind(id, status, now)
    .first<ApplicationRow>();

export interface ApplicationFilter {
  status?: ApplicationStatus;
  offer_id?: number;
  publisher_id?: number;
}

export async function listApplications(db: D1Database, filter: ApplicationFilter, after: number, limit: number) {
  const { results } = await db
    .prepare(
      `SELECT * FROM offer_applications
       WHERE id > ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR offer_id = ?3) AND (?4 IS NULL OR publisher_id = ?4)
       ORDER BY id LIMIT ?5`,
    )
    .bind(after, filter.status ?? null, filter.offer_id ?? null, filter.publisher_id ?? null, limit)
    .all<ApplicationRow>();
  return results;
}

/** The publishers approved for an offer, ascending (what the click path checks). */
export const approvedPublishersStatement = (db: D1Database, offerId: number): D1PreparedStatement =>
  db
    .prepare(
      "SELECT publisher_id FROM offer_applications WHERE offer_id = ? AND status = 'approved' ORDER BY publisher_id",
    )
    .bind(offerId);

/** An application with its offer's and publisher's names, as the operator's portal lists it. */
export interface NamedApplicationRow extends ApplicationRow {
  offer_name: string;
  offer_visibility: 'public' | 'private';
  offer_status: string;
  publisher_name: string;
}

/**
 * The applications of one status, ?2 at most: pending ones oldest first (a queue), decided ones
 * newest first. A range of offer_applications_status, offers and publishers by primary key.
 */
export const namedApplicationsSql = (order: 'oldest' | 'newest') => `SELECT a.*, o.name AS offer_name,
    o.visibility AS offer_visibility, o.status AS offer_status, p.name AS publisher_name
  FROM offer_applications a JOIN offers o ON o.id = a.offer_id JOIN publishers p ON p.id = a.publisher_id
  WHERE a.status = ?1 ORDER BY a.id ${order === 'oldest' ? 'ASC' : 'DESC'} LIMIT ?2`;

export async function namedApplications(
  db: D1Database,
  status: ApplicationStatus,
  limit: number,
): Promise<NamedApplicationRow[]> {
  const { results } = await db
    .prepare(namedApplicationsSql(status === 'pending' ? 'oldest' : 'newest'))
    .bind(status, limit)
    .all<NamedApplicationRow>();
  return results;
}
