// api_keys table: scoped API keys, stored as the SHA-256 of the key (see migrations/0010).
import type { Role } from '../auth/principal';

export interface ApiKeyRow {
  id: number;
  role: Role;
  publisher_id: number | null;
  advertiser_id: number | null;
  name: string | null;
  key_hash: string;
  prefix: string;
  created_by: string;
  /** The person who minted it from a portal session; null for the admin token or another key. */
  created_by_user_id: number | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export type ApiKeyValues = Omit<ApiKeyRow, 'id' | 'last_used_at' | 'revoked_at'>;

export const insertApiKeyStatement = (db: D1Database, row: ApiKeyValues): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO api_keys (role, publisher_id, advertiser_id, name, key_hash, prefix, created_by, created_by_user_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .bind(
      row.role,
      row.publisher_id,
      row.advertiser_id,
      row.name,
      row.key_hash,
      row.prefix,
      row.created_by,
      row.created_by_user_id,
      row.created_at,
    );

export async function insertApiKey(db: D1Database, row: ApiKeyValues): Promise<ApiKeyRow> {
  const inserted = await insertApiKeyStatement(db, row).first<ApiKeyRow>();
  if (!inserted) throw new Error('api key insert returned no row');
  return inserted;
}

/** A live (not revoked) key by its hash: the one lookup made per API request with a key. */
export const activeApiKeyByHashStatement = (db: D1Database, keyHash: string): D1PreparedStatement =>
  db.prepare('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL').bind(keyHash);

export const getActiveApiKeyByHash = (db: D1Database, keyHash: string): Promise<ApiKeyRow | null> =>
  activeApiKeyByHashStatement(db, keyHash).first<ApiKeyRow>();

export const getApiKey = (db: D1Database, id: number): Promise<ApiKeyRow | null> =>
  db.prepare('SELECT * FROM api_keys WHERE id = ?').bind(id).first<ApiKeyRow>();

export interface ApiKeyFilters {
  publisher_id?: number;
  advertiser_id?: number;
}

/** Newest first, by id below `before` (a cursor); revoked keys included, marked by revoked_at. */
export const listApiKeysStatement = (
  db: D1Database,
  filters: ApiKeyFilters,
  before: number,
  limit: number,
): D1PreparedStatement =>
  db
    .prepare(
      `SELECT * FROM api_keys WHERE id < ?1 AND (?2 IS NULL OR publisher_id = ?2) AND (?3 IS NULL OR advertiser_id = ?3)
       ORDER BY id DESC LIMIT ?4`,
    )
    .bind(before, filters.publisher_id ?? null, filters.advertiser_id ?? null, limit);

export async function listApiKeys(
  db: D1Database,
  filters: ApiKeyFilters,
  before: number,
  limit: number,
): Promise<ApiKeyRow[]> {
  return (await listApiKeysStatement(db, filters, before, limit).all<ApiKeyRow>()).results;
}

/** Revokes a live key; answers the row as it is now, or null when there is no such live key. */
export const revokeApiKeyStatement = (db: D1Database, id: number, now: string): D1PreparedStatement =>
  db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING *').bind(now, id);

export const revokeApiKey = (db: D1Database, id: number, now: string): Promise<ApiKeyRow | null> =>
  revokeApiKeyStatement(db, id, now).first<ApiKeyRow>();

/**
 * Notes a key's use, at most once a minute per key (the WHERE clause), so a busy key costs one
 * write a minute rather than one per request.
 */
export const touchApiKeyStatement = (
  db: D1Database,
  id: number,
  now: string,
  staleBefore: string,
): D1PreparedStatement =>
  db
    .prepare('UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?3)')
    .bind(now, id, staleBefore);

/** The live keys a person minted, newest first (what to revoke when the person leaves). */
export async function liveKeysMintedBy(db: D1Database, userId: number, limit: number): Promise<ApiKeyRow[]> {
  const { results } = await db
    .prepare('SELECT * FROM api_keys WHERE created_by_user_id = ? AND revoked_at IS NULL ORDER BY id DESC LIMIT ?')
    .bind(userId, limit)
    .all<ApiKeyRow>();
  return results;
}
