// Rows that each hold many items (clicks, visitor times) as one JSON array: a partition's writes
// are billed per row written, so a consumer batch appends its items to the last part of each
// key it touches (one row written per key, not per item). A part stays under
// SQL_JSON_PARAM_BYTES (1 MB): Durable Object SQL refuses a string or row over 2 MB.
import { SQL_JSON_PARAM_BYTES, utf8Length } from '../lib/chunks';

export interface Part {
  key: number[];
  part: number;
  items: unknown[];
  /** UTF-8 bytes of the part's JSON array. */
  bytes: number;
  dirty: boolean;
  fresh: boolean;
}

/** How a part's items are stored: plain JSON, or a denser form (see click-blocks.ts). */
export interface PartCodec {
  encode(items: unknown[]): string;
  decode(data: string): unknown[];
}

export const JSON_CODEC: PartCodec = { encode: (items) => JSON.stringify(items), decode: (data) => JSON.parse(data) };

export class PartedTable {
  private readonly groups = new Map<string, Part[]>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly table: string,
    private readonly keyCols: readonly string[],
    private readonly codec: PartCodec = JSON_CODEC,
    /**
     * Parts kept from earlier calls by the Durable Object (its only writer): a key found here is
     * not read again. The owner clears it when a transaction fails (the parts may hold items
     * that were rolled back).
     */
    private readonly cache?: Map<string, Part[]>,
  ) {}

  /**
   * Reads the parts whose key equals `prefix` followed by a last column in [from, to]; every key
   * of that range counts as loaded (an absent one is empty).
   */
  loadRange(prefix: number[], from: number, to: number): void {
    const cols = this.keyCols;
    const last = cols[cols.length - 1] as string;
    const names: string[] = [];
    for (let k = from; k <= to; k++) names.push([...prefix, k].join('/'));
    if (this.cache && names.every((name) => this.groups.has(name) || this.cache?.has(name))) {
      for (const name of names) if (!this.groups.has(name)) this.groups.set(name, this.cache.get(name) as Part[]);
      return;
    }
    const where = [...cols.slice(0, -1).map((c) => `${c} = ?`), `${last} BETWEEN ? AND ?`].join(' AND ');
    const rows = this.sql
      .exec<Record<string, number | string>>(
        `SELECT ${cols.join(', ')}, part, data FROM ${this.table} WHERE ${where} ORDER BY ${cols.join(', ')}, part`,
        ...prefix,
        from,
        to,
      )
      .toArray();
    for (const name of names) {
      if (this.groups.has(name)) continue;
      const cached = this.cache?.get(name);
      this.groups.set(name, cached ?? []);
      if (!cached) this.cache?.set(name, this.groups.get(name) as Part[]);
    }
    for (const row of rows) {
      const key = cols.map((c) => row[c] as number);
      const parts = this.groups.get(key.join('/')) as Part[];
      // A group already loaded (here or in the cache) holds every stored part of its key.
      if (parts.some((p) => p.part === row.part)) continue;
      const data = row.data as string;
      parts.push({
        key,
        part: row.part as number,
        items: this.codec.decode(data),
        bytes: utf8Length(data),
        dirty: false,
        fresh: false,
      });
    }
  }

  /** Loaded parts of one key (loadRange must have covered it). */
  parts(key: number[]): Part[] {
    const parts = this.groups.get(key.join('/'));
    if (!parts) throw new Error(`${this.table} ${key.join('/')} not loaded`);
    return parts;
  }

  isLoaded(key: number[]): boolean {
    return this.groups.has(key.join('/'));
  }

  /**
   * Appends an item to the key's last part, or to a new part when the last one is full. Sizes
   * are counted as plain JSON: an upper bound of what the codec stores.
   */
  append(key: number[], item: unknown): Part {
    const parts = this.parts(key);
    const size = utf8Length(JSON.stringify(item)) + 1;
    if (size + 2 > SQL_JSON_PARAM_BYTES) throw new RangeError(`an item of ${size} bytes exceeds a part`);
    let part = parts[parts.length - 1];
    if (!part || part.bytes + size > SQL_JSON_PARAM_BYTES) {
      part = { key, part: (part?.part ?? -1) + 1, items: [], bytes: 2, dirty: true, fresh: true };
      parts.push(part);
    }
    part.items.push(item);
    part.bytes += part.items.length === 1 ? size - 1 : size;
    part.dirty = true;
    return part;
  }

  /** Writes every changed part (one row each); returns rows written as billed. */
  flush(): number {
    const cols = this.keyCols;
    let written = 0;
    for (const parts of this.groups.values()) {
      for (const part of parts) {
        if (!part.dirty) continue;
        // Never longer than the plain JSON whose size `append` counted.
        const data = this.codec.encode(part.items);
        part.bytes = utf8Length(data);
        if (part.bytes > SQL_JSON_PARAM_BYTES)
          throw new RangeError(`${this.table} part over ${SQL_JSON_PARAM_BYTES} bytes`);
        const cursor = part.fresh
          ? this.sql.exec(
              `INSERT INTO ${this.table} (${cols.join(', ')}, part, n, data) VALUES (${cols.map(() => '?').join(', ')}, ?, ?, ?)`,
              ...part.key,
              part.part,
              part.items.length,
              data,
            )
          : this.sql.exec(
              `UPDATE ${this.table} SET n = ?, data = ? WHERE ${cols.map((c) => `${c} = ?`).join(' AND ')} AND part = ?`,
              part.items.length,
              data,
              ...part.key,
              part.part,
            );
        written += cursor.rowsWritten;
        part.dirty = false;
        part.fresh = false;
      }
    }
    return written;
  }
}

/** Items held by a cache of parts (to bound the memory it takes). */
export const cachedItems = (cache: Map<string, Part[]>) => {
  let n = 0;
  for (const parts of cache.values()) for (const part of parts) n += part.items.length;
  return n;
};
