// Diagnostic entry module for `npm run bench`: the bundled Clickhop Worker with counters on its
// bindings — D1 round trips and statements, KV reads and writes, Queue sends — readable (and
// reset) at GET /__bench/counts. It runs only as a separate copy of the Worker ('clickhop-counted')
// so the timed Workers always run the bundle untouched.
import worker from './index.js';

// The bundle's other exports (Durable Object classes its bindings name) stay exported.
export * from './index.js';

const counts = {
  d1Calls: 0,
  d1Statements: 0,
  // D1's own accounting of each answer (meta.rows_read / rows_written), what D1 bills.
  d1RowsRead: 0,
  d1RowsWritten: 0,
  kvReads: 0,
  kvWrites: 0,
  queueSends: 0,
  queueMessages: 0,
};
let depth = 0;
let patched = false;

/** Wraps a prototype method; only the outermost call counts (a method may call its siblings). */
function count(proto, name, onCall) {
  const original = proto?.[name];
  if (typeof original !== 'function') return false;
  proto[name] = function (...args) {
    if (depth === 0) onCall(args);
    depth++;
    try {
      return original.apply(this, args);
    } finally {
      depth--;
    }
  };
  return true;
}

/** Adds the rows of D1 answers (one result or a batch's list) once they arrive. */
function addRows(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    counts.d1RowsRead += Number(r?.meta?.rows_read ?? 0);
    counts.d1RowsWritten += Number(r?.meta?.rows_written ?? 0);
  }
}

/** Wraps a method returning a promise of D1 answers so their rows are counted. */
function rows(proto, name) {
  const original = proto[name];
  proto[name] = function (...args) {
    const answer = original.apply(this, args);
    answer.then(addRows, () => {});
    return answer;
  };
}

function patch(env) {
  if (patched) return;
  patched = true;
  const statement = Object.getPrototypeOf(env.DB.prepare('SELECT 1'));
  // first() answers a row without meta: read it through all() so its rows are counted too.
  statement.first = async function (column) {
    const row = (await this.all()).results[0] ?? null;
    return column === undefined ? row : (row?.[column] ?? null);
  };
  rows(statement, 'all');
  rows(statement, 'run');
  for (const name of ['first', 'run', 'all', 'raw']) {
    count(statement, name, () => {
      counts.d1Calls++;
      counts.d1Statements++;
    });
  }
  const database = Object.getPrototypeOf(env.DB);
  rows(database, 'batch');
  count(database, 'batch', ([statements]) => {
    counts.d1Calls++;
    counts.d1Statements += statements.length;
  });
  count(database, 'exec', () => counts.d1Calls++);
  const kv = Object.getPrototypeOf(env.CONFIG);
  for (const name of ['get', 'getWithMetadata', 'list']) count(kv, name, () => counts.kvReads++);
  for (const name of ['put', 'delete']) count(kv, name, () => counts.kvWrites++);
  const queue = Object.getPrototypeOf(env.CLICKS_QUEUE);
  count(queue, 'send', () => {
    counts.queueSends++;
    counts.queueMessages++;
  });
  count(queue, 'sendBatch', ([messages]) => {
    counts.queueSends++;
    counts.queueMessages += [...messages].length;
  });
}

export default {
  fetch(request, env, ctx) {
    patch(env);
    if (new URL(request.url).pathname === '/__bench/counts') {
      const body = JSON.stringify(counts);
      for (const key of Object.keys(counts)) counts[key] = 0;
      return new Response(body, { headers: { 'content-type': 'application/json' } });
    }
    return worker.fetch(request, env, ctx);
  },
  // Queues a section moves to this copy (bench/lib/runtime.ts countedQueues) are consumed
  // here, so the background work a request starts is counted too.
  queue(batch, env, ctx) {
    patch(env);
    return worker.queue(batch, env, ctx);
  },
};
