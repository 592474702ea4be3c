// API keys: minted here, shown once, stored hashed. The key carries a fixed prefix so leaked
// keys are easy to recognise (secret scanners, logs), and its first characters are kept in
// clear so a list can tell keys apart.
import type { ApiKeyRow, ApiKeyValues } from '../db/api-keys';
import type { Actor, Role } from './principal';
import { hashSecret, newSecret } from './secrets';

export const API_KEY_PREFIX = 'chk_';
/** The shape of a key; anything else is not looked up. */
export const API_KEY_PATTERN = /^chk_[A-Za-z0-9_-]{43}$/;
const SHOWN_CHARS = 12;

export interface KeyScope {
  role: Role;
  publisher_id: number | null;
  advertiser_id: number | null;
}

export async function mintApiKey(
  scope: KeyScope,
  name: string | null,
  createdBy: Actor,
  now: string,
): Promise<{ key: string; values: ApiKeyValues }> {
  const key = newSecret(API_KEY_PREFIX);
  return {
    key,
    values: {
      ...scope,
      name,
      key_hash: await hashSecret(key),
      prefix: key.slice(0, SHOWN_CHARS),
      created_by: createdBy.label,
      created_by_user_id: createdBy.kind === 'user' && createdBy.id !== null ? Number(createdBy.id) : null,
      created_at: now,
    },
  };
}

export const keyActor = (row: Pick<ApiKeyRow, 'id' | 'name'>): Actor => ({
  kind: 'key',
  id: String(row.id),
  label: row.name ? `key ${row.id} (${row.name})` : `key ${row.id}`,
});
