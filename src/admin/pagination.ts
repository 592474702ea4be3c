// Cursor pagination over a key that only grows (integer id or time-ordered text): the cursor is
// the last key of the previous page, opaque to clients (base64url of its JSON).
import * as z from 'zod';
import { badRequest } from '../lib/errors';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(400).optional(),
});

export function encodeCursor(value: string | number): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The key inside a cursor; undefined for no cursor; null for one that is not ours. */
export function decodeCursor(cursor: string | undefined): string | number | null | undefined {
  if (!cursor) return undefined;
  try {
    const binary = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const value: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0))));
    return typeof value === 'string' || typeof value === 'number' ? value : null;
  } catch {
    return null;
  }
}

/**
 * The integer id a page starts after: 0 without a cursor. A cursor this API did not hand out is
 * a 400 naming `cursor` (silently starting over would make a client walk the list forever).
 */
export function cursorAfterId(cursor: string | undefined): number {
  const key = decodeCursor(cursor);
  if (key === undefined) return 0;
  if (typeof key !== 'number' || !Number.isSafeInteger(key) || key < 0) {
    throw badRequest('Invalid cursor', { cursor: 'is not a cursor from this list' });
  }
  return key;
}

/** Builds a page from limit+1 rows (ask the database for one more than the page size). */
export function page<T, R = T>(rows: T[], limit: number, key: (row: T) => string | number, present?: (row: T) => R) {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: present ? kept.map(present) : (kept as unknown as R[]),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null,
  };
}
