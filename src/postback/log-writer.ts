// Writes the postback log rows of requests that stored no conversion (replays, status changes,
// refusals); a created conversion's row goes in the conversion's own batch (log.ts). When no
// other log write of this isolate is under way the row is written at once, before the answer,
// as it always was. When one is, the row joins a batch instead: the request that opens the batch
// owns it (its waitUntil writes it a few milliseconds later), later requests only add to it. So
// under load many rows share one D1 round trip, and a lone request still finds its row written
// when it has its answer. A batch that cannot be written is retried once, then its rows are
// counted in an error line (the requests were answered already).
import { insertPostbackLogs, type PostbackLogValues } from '../db/postback-log';
import { errorFields, log } from '../lib/log';

export const LOG_BATCH_AFTER_MS = 10;
const MAX_ROWS_PER_BATCH = 50;

interface OpenBatch {
  rows: PostbackLogValues[];
}

let writing = 0;
let open: OpenBatch | null = null;

export async function writeLogRow(
  db: D1Database,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  row: PostbackLogValues,
): Promise<void> {
  if (open && open.rows.length < MAX_ROWS_PER_BATCH) {
    open.rows.push(row);
    return;
  }
  if (writing > 0) {
    const batch: OpenBatch = { rows: [row] };
    open = batch;
    ctx.waitUntil(
      scheduler.wait(LOG_BATCH_AFTER_MS).then(() => {
        if (open === batch) open = null;
        return write(db, batch.rows);
      }),
    );
    return;
  }
  await write(db, [row]);
}

async function write(db: D1Database, rows: PostbackLogValues[]): Promise<void> {
  writing++;
  try {
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        await insertPostbackLogs(db, rows);
        return;
      } catch (error) {
        if (attempt === 2) {
          const [only] = rows;
          log('error', 'postback.log_failed', {
            rows: rows.length,
            ...(rows.length === 1 && only
              ? { outcome: only.outcome, http_status: only.http_status }
              : { outcomes: rows.map((r) => r.outcome) }),
            ...errorFields(error),
          });
        }
      }
    }
  } finally {
    writing--;
  }
}
