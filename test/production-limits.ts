// Test harness only: makes the local bindings refuse what production refuses. Local workerd and
// Miniflare accept a 5 MB SQL string, a 3 MB json_each parameter or two writes of one KV key in
// the same second; Cloudflare does not (limits pages of D1, Durable Objects, Queues and KV, read
// 2026-12-08; docs/capacity.md). test/setup.ts installs this in every test file, so the Worker
// under test, its Durable Objects and the tests themselves all run on enforcing bindings.
//
// It patches the prototypes of the binding classes in this isolate (the only way to reach the
// SQL storage of Durable Objects the runtime constructs); never imported by src/.
import { runInDurableObject } from 'cloudflare:test';

/** Production's numbers, kept apart from src/ so a budget raised there is caught here. */
export const PRODUCTION_LIMITS = {
  /** D1 and Durable Object SQL: "Maximum string, BLOB or table row size: 2,000,000 bytes (2 MB)". */
  sqlValueBytes: 2_000_000,
  /** D1 and Durable Object SQL: "Maximum SQL statement length: 100,000 bytes (100 KB)". */
  sqlStatementBytes: 100_000,
  /** Queues: "Message size: 128 KB" (1 KB = 1,000 bytes) ... */
  queueMessageBytes: 128_000,
  /** ... of which "up to ~100 bytes of internal metadata". */
  queueMetadataBytes: 100,
  /** Queues: "Maximum messages per sendBatch call: 100 (or 256KB in total)". */
  queueBatchMessages: 100,
  queueBatchBytes: 256_000,
  /** KV: "Writes to same key: 1 per second". */
  kvKeyWriteIntervalMs: 1_000,
} as const;

// The bound-parameter limit (100) is not here: local SQLite already refuses a 101st parameter
// with production's message ("too many SQL variables"). Key and value sizes of KV (512 bytes,
// 25 MiB) and the per-message Queue size are enforced by Miniflare too, with its own messages;
// the checks below give production's.

const encoder = new TextEncoder();
const bytesOf = (text: string) => encoder.encode(text).byteLength;

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return bytesOf(value);
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (Array.isArray(value)) return value.length; // D1 binds a BLOB as an array of bytes
  return 0;
}

/** Why production SQL would refuse this statement (SQLite's message and code), or null. */
function sqlRefusal(query: string, params: readonly unknown[]): string | null {
  // A multi-statement string (D1 exec, migrations) is measured per statement.
  for (const statement of query.split(';')) {
    if (bytesOf(statement) > PRODUCTION_LIMITS.sqlStatementBytes) return 'statement too long: SQLITE_TOOBIG';
  }
  for (const param of params) {
    if (valueBytes(param) > PRODUCTION_LIMITS.sqlValueBytes) return 'string or blob too big: SQLITE_TOOBIG';
  }
  return null;
}

/** A row of a result: SQLite refuses to build a value or row over the limit. */
function rowRefusal(row: unknown): string | null {
  if (typeof row !== 'object' || row === null) return null;
  let total = 0;
  for (const value of Object.values(row)) total += valueBytes(value);
  return total > PRODUCTION_LIMITS.sqlValueBytes ? 'string or blob too big: SQLITE_TOOBIG' : null;
}

const PATCHED = Symbol.for('clickhop.productionLimits');

/** Replaces `proto[name]` with `wrap(original)` once per isolate. */
function patch<T extends object>(proto: T, name: string, wrap: (original: (...args: never[]) => unknown) => unknown) {
  const target = proto as Record<string | symbol, unknown>;
  const original = target[name] as ((...args: never[]) => unknown) & { [PATCHED]?: true };
  if (original[PATCHED]) return;
  const wrapped = wrap(original) as { [PATCHED]?: true };
  wrapped[PATCHED] = true;
  target[name] = wrapped;
}

type D1Statement = D1PreparedStatement & { statement: string; params: unknown[] };

function d1Check(statement: D1Statement): void {
  const refusal = sqlRefusal(statement.statement, statement.params ?? []);
  if (refusal) throw new Error(`D1_ERROR: ${refusal}`);
}

function d1Results(result: unknown): void {
  const rows = (result as { results?: unknown[] } | null)?.results;
  if (!Array.isArray(rows)) return;
  for (const row of rows) {
    const refusal = rowRefusal(row);
    if (refusal) throw new Error(`D1_ERROR: ${refusal}`);
  }
}

function installD1(db: D1Database): void {
  const statementProto = Object.getPrototypeOf(db.prepare('SELECT 1')) as D1PreparedStatement;
  for (const method of ['first', 'run', 'all', 'raw'] as const) {
    patch(
      statementProto,
      method,
      (original) =>
        async function (this: D1Statement, ...args: never[]) {
          d1Check(this);
          const result = await (original as (...a: never[]) => Promise<unknown>).apply(this, args);
          if (method === 'all' || method === 'run') d1Results(result);
          else if (method === 'first') d1Results({ results: [result] });
          return result;
        },
    );
  }
  const dbProto = Object.getPrototypeOf(db) as D1Database;
  patch(
    dbProto,
    'batch',
    (original) =>
      async function (this: D1Database, statements: D1Statement[]) {
        for (const statement of statements) d1Check(statement);
        const results = await (original as (s: D1Statement[]) => Promise<unknown[]>).call(this, statements);
        for (const result of results) d1Results(result);
        return results;
      },
  );
  patch(
    dbProto,
    'exec',
    (original) =>
      async function (this: D1Database, query: string) {
        const refusal = sqlRefusal(query, []);
        if (refusal) throw new Error(`D1_EXEC_ERROR: ${refusal}`);
        return (original as (q: string) => Promise<unknown>).call(this, query);
      },
  );
}

function installSqlStorage(sql: SqlStorage): void {
  patch(
    Object.getPrototypeOf(sql) as SqlStorage,
    'exec',
    (original) =>
      function (this: SqlStorage, query: string, ...bindings: unknown[]) {
        // Durable Object SQL errors read "<SQLite message>: <code>", as local ones do.
        const refusal = sqlRefusal(query, bindings);
        if (refusal) throw new Error(refusal);
        return (original as (q: string, ...b: unknown[]) => unknown).call(this, query, ...bindings);
      },
  );
}

/** The bytes a message counts against the Queue's limits, as its content type serialises it. */
function queueMessageBytes(body: unknown, contentType: QueueContentType | undefined): number {
  let bytes: number;
  if (contentType === 'text') bytes = bytesOf(String(body));
  else if (contentType === 'bytes') bytes = valueBytes(body);
  // json, and v8 (the default) approximated by its JSON, which is never smaller for our bodies.
  else bytes = bytesOf(JSON.stringify(body) ?? '');
  return bytes + PRODUCTION_LIMITS.queueMetadataBytes;
}

// Queues put the error code at the end of the message (Queues "Error codes" page).
const queueError = (details: string, code: number) => new Error(`${details} (${code})`);

function installQueue(queue: Queue): void {
  const proto = Object.getPrototypeOf(queue) as Queue;
  patch(
    proto,
    'send',
    (original) =>
      async function (this: Queue, body: unknown, options?: QueueSendOptions) {
        if (queueMessageBytes(body, options?.contentType) > PRODUCTION_LIMITS.queueMessageBytes) {
          throw queueError('Message size out of bounds', 10204);
        }
        return (original as (b: unknown, o?: QueueSendOptions) => Promise<void>).call(this, body, options);
      },
  );
  patch(
    proto,
    'sendBatch',
    (original) =>
      async function (this: Queue, messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) {
        const list = [...messages];
        if (list.length > PRODUCTION_LIMITS.queueBatchMessages) throw queueError('Batch count out of bounds', 10206);
        let total = 0;
        for (const message of list) {
          const bytes = queueMessageBytes(message.body, message.contentType);
          if (bytes > PRODUCTION_LIMITS.queueMessageBytes) throw queueError('Message size out of bounds', 10204);
          total += bytes;
        }
        if (total > PRODUCTION_LIMITS.queueBatchBytes) throw queueError('Batch size out of bounds', 10205);
        return (original as (m: MessageSendRequest[], o?: QueueSendBatchOptions) => Promise<void>).call(
          this,
          list,
          options,
        );
      },
  );
}

/** When each KV key was last written in this test file (one KV namespace is bound). */
const kvWrites = new Map<string, number>();

/** Forgets the KV write times (each test file starts with empty storage). */
export const resetKvWrites = () => kvWrites.clear();

function installKv(kv: KVNamespace): void {
  const proto = Object.getPrototypeOf(kv) as KVNamespace;
  // Writes only: the limits page names no per-key limit for deletes.
  patch(
    proto,
    'put',
    (original) =>
      async function (this: KVNamespace, key: string, ...rest: never[]) {
        const now = Date.now();
        const last = kvWrites.get(key);
        if (last !== undefined && now - last < PRODUCTION_LIMITS.kvKeyWriteIntervalMs) {
          // What production's binding throws for a second write of a key within a second.
          throw new Error('KV PUT failed: 429 Too Many Requests');
        }
        kvWrites.set(key, now);
        return (original as (k: string, ...r: never[]) => Promise<unknown>).call(this, key, ...rest);
      },
  );
}

/**
 * Installs the limits on every binding class this Worker uses. The SQL storage class is reached
 * through a Durable Object of the partitions namespace that never stores anything.
 */
export async function installProductionLimits(env: Env): Promise<void> {
  installD1(env.DB);
  installQueue(env.CLICKS_QUEUE);
  installKv(env.CONFIG);
  const probe = env.CLICK_PARTITIONS.getByName('test:production-limits');
  await runInDurableObject(probe, (_instance, state) => installSqlStorage(state.storage.sql));
}
