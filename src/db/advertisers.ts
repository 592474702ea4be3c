// advertisers table: SQL and row type.

export interface AdvertiserRow {
  id: number;
  name: string;
  status: 'active' | 'paused';
  postback_key_hash: string;
  ip_allowlist: string | null;
  /** 1: postbacks without a key are accepted from the allow-list's addresses (never without one). */
  keyless_ip_auth: 0 | 1;
  created_at: string;
  updated_at: string;
}

export const getAdvertiser = (db: D1Database, id: number) =>
  db.prepare('SELECT * FROM advertisers WHERE id = ?').bind(id).first<AdvertiserRow>();

/** The advertiser holding a postback key, by the key's SHA-256 (keys are random, so this is a lookup). */
export const advertiserByKeyHashStatement = (db: D1Database, keyHash: string): D1PreparedStatement =>
  db.prepare('SELECT * FROM advertisers WHERE postback_key_hash = ?').bind(keyHash);

export const getAdvertiserByKeyHash = (db: D1Database, keyHash: string): Promise<AdvertiserRow | null> =>
  advertiserByKeyHashStatement(db, keyHash).first<AdvertiserRow>();

export const advertiserOfOfferStatement = (db: D1Database, offerId: number): D1PreparedStatement =>
  db.prepare('SELECT a.* FROM advertisers a JOIN offers o ON o.advertiser_id = a.id WHERE o.id = ?').bind(offerId);

export const getAdvertiserOfOffer = (db: D1Database, offerId: number): Promise<AdvertiserRow | null> =>
  advertiserOfOfferStatement(db, offerId).first<AdvertiserRow>();

export async function listAdvertisers(db: D1Database, after: number, limit: number) {
  const { results } = await db
    .prepare('SELECT * FROM advertisers WHERE id > ? ORDER BY id LIMIT ?')
    .bind(after, limit)
    .all<AdvertiserRow>();
  return results;
}

export async function insertAdvertiser(
  db: D1Database,
  row: Omit<AdvertiserRow, 'id' | 'keyless_ip_auth'> & Partial<Pick<AdvertiserRow, 'keyless_ip_auth'>>,
): Promise<AdvertiserRow> {
  const inserted = await db
    .prepare(
      `INSERT INTO advertisers (name, status, postback_key_hash, ip_allowlist, keyless_ip_auth, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .bind(
      row.name,
      row.status,
      row.postback_key_hash,
      row.ip_allowlist,
      row.keyless_ip_auth ?? 0,
      row.created_at,
      row.updated_at,
    )
    .first<AdvertiserRow>();
  if (!inserted) throw new Error('advertiser insert returned no row');
  return inserted;
}

export async function updateAdvertiser(
  db: D1Database,
  id: number,
  changes: Partial<Pick<AdvertiserRow, 'name' | 'status' | 'postback_key_hash' | 'ip_allowlist' | 'keyless_ip_auth'>>,
  updatedAt: string,
): Promise<AdvertiserRow | null> {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  const sets = [...entries.map(([k]) => `${k} = ?`), 'updated_at = ?'].join(', ');
  return db
    .prepare(`UPDATE advertisers SET ${sets} WHERE id = ? RETURNING *`)
    .bind(...entries.map(([, v]) => v), updatedAt, id)
    .first<AdvertiserRow>();
}
