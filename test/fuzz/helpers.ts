// Generic helpers for the property-based (fuzz) suites: hostile inputs, the error contract every
// refusal must meet, fingerprints of stored rows to prove a refusal wrote nothing, and a runner
// that prints how many inputs each property tried.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { expect, vi } from 'vitest';

// Bound before any test replaces console methods, so summaries print even while the Worker's
// own info lines are silenced.
const print = console.info.bind(console);

/** Prints one summary line of a reliability or fuzz run into the test output. */
export function report(line: string): void {
  print(line);
}

/** Silences the Worker's per-request info and debug lines (warnings and errors still show). */
export function quietWorkerLogs(): void {
  for (const method of ['log', 'info', 'debug'] as const) vi.spyOn(console, method).mockImplementation(() => {});
}

/** Values that have broken web applications before: injection, traversal, encodings, odd numbers. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '9'.repeat(40),
  '1.0000000000001',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '{"a":1}',
  '__proto__',
  'constructor',
  "' OR 1=1 --",
  '"; DROP TABLE conversions; --',
  '%00',
  '%',
  '%%41',
  '%E0%A4%A',
  '../../etc/passwd',
  '..%2F..%2F',
  '<script>alert(1)</script>',
  '{click_id}',
  '!!!transactionId!!!',
  'a&b=c',
  'x?y=1#z',
  'https://evil.example/',
  '//evil.example',
  'javascript:alert(1)',
  'line\nbreak',
  'tab\there',
  'nul\u0000byte',
  'del\u007f',
  'bell\u0007',
  '\u202etxet desrever',
  '\ufeffbom',
  'zero\u200bwidth',
  'lone \ud800 surrogate',
  'low \udc00 first',
  '😀👍🏽👨‍👩‍👧',
  'Ω≈ç√∫',
  'ｆｕｌｌｗｉｄｔｈ',
  '١٢٣',
  'ß'.repeat(300),
];

/** Very long values: over the 255/1000/64 KiB limits, in one- to four-byte characters. */
export const hugeString = (): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom('x', 'é', '€', '😀', '%', '&'), fc.constantFrom(256, 1001, 4097, 70_000))
    .map(([ch, n]) => ch.repeat(Math.ceil(n / ch.length)));

/** Any string a client could send: hostile constants, random code points, graphemes, huge runs. */
export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 200, maxLength: 1500 }) },
    { weight: 1, arbitrary: hugeString() },
  );

/** Printable ASCII only: what may go into an HTTP header value. */
export const headerString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
    fc.constantFrom('', ' ', 'Bearer', 'Bearer ', 'x'.repeat(5000)),
  );

/** A JSON value of any type, including the wrong ones for every field. */
export const hostileJson = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: hostileString() },
    {
      weight: 2,
      arbitrary: fc.constantFrom(0, -1, 1.5, -0, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308),
    },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
  );

/**
 * A JSON object built from a valid one: up to three of its fields are dropped or replaced by a
 * hostile (or, from `overrides`, a plausible but possibly wrong) value, and unexpected keys may
 * be added. About a fifth of the inputs stay valid, so the accepting paths are exercised too.
 */
export function mutatedObject(
  valid: Record<string, unknown>,
  overrides: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.keys({ ...valid, ...overrides });
  const change = (field: string) =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant({ drop: true as const }) },
      { weight: 4, arbitrary: (overrides[field] ?? hostileJson()).map((value) => ({ value })) },
    );
  const changed = fc.oneof(
    { weight: 1, arbitrary: fc.constant([] as string[]) },
    { weight: 4, arbitrary: fc.subarray(fields, { minLength: 1, maxLength: Math.min(3, fields.length) }) },
  );
  return fc
    .tuple(
      changed.chain((names) =>
        fc.tuple(fc.constant(names), names.length > 0 ? fc.tuple(...names.map(change)) : fc.constant([])),
      ),
      fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), hostileJson(), { maxKeys: 3 }), {
        freq: 6,
      }),
    )
    .map(([[names, changes], extra]) => {
      const out: Record<string, unknown> = {};
      for (const field of fields) {
        const i = names.indexOf(field);
        if (i < 0) {
          if (field in valid) out[field] = valid[field];
          continue;
        }
        const c = changes[i] as { drop?: true; value?: unknown };
        if (!c.drop) out[field] = c.value;
      }
      return extra ? Object.assign(out, extra) : out;
    });
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

export async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/**
 * The contract for any answer to any input: never a 5xx, and a 4xx is the JSON error shape
 * {"error":{"code","message","fields"?}} with nothing else in it.
 */
export function expectContractAnswer(answer: Answer, context: string): void {
  expect(answer.status, `${context} -> ${answer.status} ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status < 400) return;
  expect(answer.headers.get('content-type'), context).toMatch(/^application\/json/);
  const body = answer.body as { error?: { code?: unknown; message?: unknown; fields?: unknown } } | undefined;
  expect(body, `${context}: ${answer.text.slice(0, 300)}`).toBeTypeOf('object');
  expect(Object.keys(body ?? {}), context).toEqual(['error']);
  expect(body?.error?.code, context).toEqual(expect.stringMatching(/^[a-z_]+$/));
  expect(body?.error?.message, context).toEqual(expect.stringMatching(/./));
  const extra = Object.keys(body?.error ?? {}).filter((k) => !['code', 'message', 'fields'].includes(k));
  expect(extra, context).toEqual([]);
  if (body?.error?.fields !== undefined) {
    expect(body.error.fields, context).toBeTypeOf('object');
    for (const value of Object.values(body.error.fields as Record<string, unknown>)) {
      expect(value, context).toBeTypeOf('string');
    }
  }
}

const columnsOf = new Map<string, Promise<string[]>>();

async function columns(table: string): Promise<string[]> {
  let found = columnsOf.get(table);
  if (!found) {
    found = env.DB.prepare(`PRAGMA table_info(${table})`)
      .all<{ name: string }>()
      .then((r) => r.results.map((c) => c.name));
    columnsOf.set(table, found);
  }
  return found;
}

/**
 * The full contents of the given tables in one query, in a stable order: equal before and
 * after a request means the request wrote nothing there. `idOnly` tables contribute their
 * first column only (rows the test does not own may change state in the background).
 */
export async function snapshotTables(tables: string[], idOnly: string[] = []): Promise<Record<string, string>> {
  const parts: string[] = [];
  for (const table of [...tables, ...idOnly]) {
    const cols = await columns(table);
    const picked = idOnly.includes(table) ? cols.slice(0, 1) : cols;
    parts.push(
      `(SELECT COALESCE(json_group_array(json_array(${picked.join(', ')})), '[]') FROM (SELECT * FROM ${table} ORDER BY rowid)) AS ${table}`,
    );
  }
  return (await env.DB.prepare(`SELECT ${parts.join(', ')}`).first<Record<string, string>>()) ?? {};
}

export async function countRows(tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>();
    out[table] = row?.n ?? 0;
  }
  return out;
}

/** How the inputs of one property were answered, by status. */
export class Tally {
  readonly byStatus = new Map<number, number>();
  record(status: number) {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }
  serverErrors(): number {
    let n = 0;
    for (const [status, count] of this.byStatus) if (status >= 500) n += count;
    return n;
  }
  toString(): string {
    return [...this.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
  }
}

/**
 * The seed of a property: fixed per name, so CI runs the same inputs every time and a red run is
 * reproducible. To explore other inputs, change FUZZ_SEED_SALT locally (the printed seed replays
 * a failure).
 */
const FUZZ_SEED_SALT = 'clickhop-1';
function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (const ch of `${FUZZ_SEED_SALT}:${name}`) hash = Math.imul(hash ^ (ch.codePointAt(0) as number), 0x01000193);
  return hash | 0;
}

/**
 * Runs an async property over `numRuns` inputs, prints "fuzz: <name> <N> inputs, <F> failures,
 * <n> 5xx (answers by status; seed)" and fails the test with fast-check's report (the shrunk
 * counterexample and the seed to replay it) if any input broke the property.
 */
export async function fuzz<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (input: T, tally: Tally) => Promise<void>,
  numRuns: number,
): Promise<void> {
  const tally = new Tally();
  const details = await fc.check(
    fc.asyncProperty(arbitrary, (input) => predicate(input, tally)),
    { numRuns, seed: seedOf(name) },
  );
  report(
    `fuzz: ${name} ${details.numRuns + details.numShrinks} inputs, ${details.failed ? 1 : 0} failures, ` +
      (tally.byStatus.size > 0 ? `${tally.serverErrors()} 5xx (answers ${tally.toString()}; ` : '(') +
      `seed ${details.seed})`,
  );
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    expect.fail(`${cause}\n\n${fc.defaultReportMessage(details) ?? ''}`);
  }
}
