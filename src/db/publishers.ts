// publishers table: SQL and row type.

export interface PublisherRow {
  id: number;
  name: string;
  status: 'active' | 'paused';
  /** Migration 0027: minimum payout per currency, JSON {"EUR": 5000} in minor units; NULL = none. */
  minimum_payout?: string | null;
  created_at: string;
  updated_at: string;
}

export const selectPublisherStatement = (db: D1Database, id: number): D1PreparedStatement =>
  db.prepare('SELECT * FROM publishers WHERE id = ?').bind(id);

export const getPublisher = (db: D1Database, id: number): Promise<PublisherRow | null> =>
  selectPublisherStatement(db, id).first<PublisherRow>();

export async function listPublishers(db: D1Database, after: number, limit: number) {
  const { results } = await db
    .prepare('SELECT * FROM publishers WHERE id > ? ORDER BY id LIMIT ?')
    .bind(after, limit)
    .all<PublisherRow>();
  return results;
}

export async function insertPublisher(db: D1Database, row: Omit<PublisherRow, 'id'>): Promise<PublisherRow> {
  const inserted = await db
    .prepare('INSERT INTO publishers (name, status, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING *')
    .bind(row.name, row.status, row.created_at, row.updated_at)
    .first<PublisherRow>();
  if (!inserted) throw new Error('publisher insert returned no row');
  return inserted;
}

export async function updatePublisher(
  db: D1Database,
  id: number,
  changes: Partial<Pick<PublisherRow, 'name' | 'status' | 'minimum_payout'>>,
  updatedAt: string,
): Promise<PublisherRow | null> {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  const sets = [...entries.map(([k]) => `${k} = ?`), 'updated_at = ?'].join(', ');
  return db
    .prepare(`UPDATE publishers SET ${sets} WHERE id = ? RETURNING *`)
    .bind(...entries.map(([, v]) => v), updatedAt, id)
    .first<PublisherRow>();
}
