// advertisers table: SQL and row type.

export interface AdvertiserRow {
  id: number;
  name: string;
  status: 'active' | 'paused';
  postback_key_hash: string;
  ip_allowlist: string | null;
  created_at: string;
  updated_at: string;
}

export const getAdvertiser = (db: D1Database, id: number) =>
  db.prepare('SELECT * FROM advertisers WHERE id = ?').bind(id).first<AdvertiserRow>();

export async function listAdvertisers(db: D1Database, after: number, limit: number) {
  const { results } = await db
    .prepare('SELECT * FROM advertisers WHERE id > ? ORDER BY id LIMIT ?')
    .bind(after, limit)
    .all<AdvertiserRow>();
  return results;
}

export async function insertAdvertiser(db: D1Database, row: Omit<AdvertiserRow, 'id'>): Promise<AdvertiserRow> {
  const inserted = await db
    .prepare(
      `INSERT INTO advertisers (name, status, postback_key_hash, ip_allowlist, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .bind(row.name, row.status, row.postback_key_hash, row.ip_allowlist, row.created_at, row.updated_at)
    .first<AdvertiserRow>();
  if (!inserted) throw new Error('advertiser insert returned no row');
  return inserted;
}

export async function updateAdvertiser(
  db: D1Database,
  id: number,
  changes: Partial<Pick<AdvertiserRow, 'name' | 'status' | 'postback_key_hash' | 'ip_allowlist'>>,
  updatedAt: string,
): Promise<AdvertiserRow | null> {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  const sets = [...entries.map(([k]) => `${k} = ?`), 'updated_at = ?'].join(', ');
  return db
    .prepare(`UPDATE advertisers SET ${sets} WHERE id = ? RETURNING *`)
    .bind(...entries.map(([, v]) => v), updatedAt, id)
    .first<AdvertiserRow>();
}
