// Splitting work so that each piece stays under a platform limit by construction: a list of
// items becomes groups under a byte budget and a count budget, measured exactly (UTF-8 bytes of
// each item's JSON), never estimated. docs/capacity.md lists which call uses which budget.

/**
 * D1 and Durable Object SQLite refuse a string, BLOB or row over 2,000,000 bytes (their limits
 * pages). A JSON array bound as one parameter (read with json_each) stays at half of it, so a
 * row built from it and SQLite's own copies stay well inside.
 */
export const SQL_JSON_PARAM_BYTES = 1_000_000;

/** UTF-8 length of a string without encoding it (a lone surrogate counts as its 3-byte U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a surrogate pair: two UTF-16 units, four UTF-8 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** UTF-8 bytes of a value as JSON.stringify writes it. */
export const jsonBytes = (value: unknown): number => utf8Length(JSON.stringify(value) ?? 'null');

export interface Budget {
  /** Most bytes in one group: the sum of the items' sizes plus `overhead` per group. */
  maxBytes: number;
  /** Most items in one group. */
  maxCount: number;
  /** Bytes a group costs besides its items (an envelope, brackets). */
  overhead?: number;
}

/**
 * Groups `items` in order, each group within the budget. `size` is an item's bytes as it will
 * travel (including any per-item separator or metadata). An item that alone exceeds the budget
 * is an error of the caller's bounds, not something to send and have refused: it throws.
 */
export function chunkByBudget<T>(items: readonly T[], budget: Budget, size: (item: T) => number): T[][] {
  const overhead = budget.overhead ?? 0;
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = overhead;
  for (const item of items) {
    const itemBytes = size(item);
    if (overhead + itemBytes > budget.maxBytes) {
      throw new RangeError(`an item of ${itemBytes} bytes exceeds the budget of ${budget.maxBytes - overhead} bytes`);
    }
    if (group.length > 0 && (group.length >= budget.maxCount || bytes + itemBytes > budget.maxBytes)) {
      groups.push(group);
      group = [];
      bytes = overhead;
    }
    group.push(item);
    bytes += itemBytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * `items` in groups whose JSON array (as bound for json_each) is at most `maxBytes` of UTF-8 and
 * `maxCount` items, with that JSON; an item is never split, and each is serialised once.
 */
export function jsonGroups<T>(
  items: readonly T[],
  maxBytes = SQL_JSON_PARAM_BYTES,
  maxCount = Number.POSITIVE_INFINITY,
): { items: T[]; json: string }[] {
  const parts = items.map((item) => ({ item, json: JSON.stringify(item) ?? 'null' }));
  // Each element costs its bytes plus a comma; the brackets are the group's overhead.
  return chunkByBudget(parts, { maxBytes, maxCount, overhead: 2 }, (p) => utf8Length(p.json) + 1).map((group) => ({
    items: group.map((p) => p.item),
    json: `[${group.map((p) => p.json).join(',')}]`,
  }));
}

/** The JSON arrays of jsonGroups alone. */
export const jsonChunks = (items: readonly unknown[], maxBytes = SQL_JSON_PARAM_BYTES, maxCount?: number): string[] =>
  jsonGroups(items, maxBytes, maxCount).map((group) => group.json);
