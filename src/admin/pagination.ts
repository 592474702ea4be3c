// Cursor pagination over a key that only grows (integer id or time-ordered text): the cursor is
// the last key of the previous page, opaque to clients (base64url of its JSON). Every list reads
// its cursor through here, so a cursor this API did not hand out is the same 400 everywhere.
import { decodeBase64Url, encodeBase64Url } from 'hono/utils/encode';
import * as z from 'zod';
import { badRequest } from '../lib/errors';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size (1-200)'),
  cursor: z.string().max(400).optional().describe('The next_cursor of the previous page; omit for the first page'),
});

export function encodeCursor(value: string | number): string {
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)).buffer).replace(/=+$/, '');
}

/** The key inside a cursor; undefined for no cursor; null for one that is not ours. */
export function decodeCursor(cursor: string | undefined): string | number | null | undefined {
  if (!cursor) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(decodeBase64Url(cursor)));
    return typeof value === 'string' || typeof value === 'number' ? value : null;
  } catch {
    return null;
  }
}

// Silently starting over on a foreign cursor would make a client walk the list forever.
const foreignCursor = () => badRequest('Invalid cursor', { cursor: 'is not a cursor from this list' });

/** The integer id a page starts after (or before, newest first); undefined without a cursor. */
export function cursorId(cursor: string | undefined): number | undefined {
  const key = decodeCursor(cursor);
  if (key === undefined) return undefined;
  if (typeof key !== 'number' || !Number.isSafeInteger(key) || key < 0) throw foreignCursor();
  return key;
}

/** The integer id an oldest-first page starts after: 0 without a cursor. */
export const cursorAfterId = (cursor: string | undefined): number => cursorId(cursor) ?? 0;

/**
 * The (time, key) of a newest-first page's cursor "time|key"; `check` may refuse parts that
 * cannot come from this list.
 */
export function cursorTimeKey(
  cursor: string | undefined,
  check: (time: string, key: string) => boolean = () => true,
): { time: string; key: string } | undefined {
  const value = decodeCursor(cursor);
  if (value === undefined) return undefined;
  const [time, key, ...rest] = typeof value === 'string' ? value.split('|') : [];
  if (!time || !key || rest.length > 0 || !check(time, key)) throw foreignCursor();
  return { time, key };
}

/** Builds a page from limit+1 rows (ask the database for one more than the page size). */
export function page<T, R = T>(
  rows: T[],
  limit: number,
  key: (row: T) => string | number,
  present?: (row: T) => R,
): { data: R[]; next_cursor: string | null } {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: present ? kept.map(present) : (kept as unknown as R[]),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null,
  };
}
