// A validation job as the API answers it: totals from its chunks, rows in file order with their
// outcomes (pending until their chunk is applied). A chunk still pending long after it was
// accepted (its Queue message was never sent, or was lost) is handed to the Queue again here:
// applying a chunk twice changes nothing, so the nudge is safe.
import { chunksOf, getValidation, type ValidationStatus } from '../db/validations';
import { errorFields, log } from '../lib/log';
import { enqueueChunks, type RowOutcome } from './validations';

export const OUTCOMES = ['changed', 'unchanged', 'failed', 'pending'] as const;
export type OutcomeFilter = (typeof OUTCOMES)[number];

/** A pending chunk untouched for this long is sent to the Queue again. */
const STALE_MS = 10 * 60_000;

export interface ValidationAnswer {
  id: string;
  status: ValidationStatus;
  format: 'csv' | 'json';
  rows_total: number;
  rows_done: number;
  changed: number;
  unchanged: number;
  failed: number;
  rows: RowOutcome[];
  created_at: string;
  finished_at: string | null;
}

export async function readValidation(
  env: Env,
  id: string,
  outcome: OutcomeFilter | undefined,
  now = Date.now(),
): Promise<ValidationAnswer | null> {
  const job = await getValidation(env.DB, id);
  if (!job) return null;
  const chunks = await chunksOf(env.DB, id);
  const rows: RowOutcome[] = [];
  const totals = { rows_done: 0, changed: 0, unchanged: 0, failed: 0 };
  const stale: number[] = [];
  for (const chunk of chunks) {
    totals.rows_done += chunk.rows_done;
    totals.changed += chunk.changed;
    totals.unchanged += chunk.unchanged;
    totals.failed += chunk.failed;
    // Jobs stored before rows carried `locked` read as not locked.
    for (const r of JSON.parse(chunk.results ?? chunk.rows) as RowOutcome[])
      rows.push({ ...r, locked: r.locked ?? false });
    if (chunk.status === 'pending' && now - Date.parse(chunk.updated_at) > STALE_MS) stale.push(chunk.seq);
  }
  if (stale.length > 0) {
    await enqueueChunks(env, id, stale).catch((error: unknown) =>
      log('warn', 'validation.nudge_failed', { validation_id: id, chunks: stale.length, ...errorFields(error) }),
    );
  }
  rows.sort((a, b) => a.row - b.row);
  return {
    id: job.id,
    status: job.status,
    format: job.format,
    rows_total: job.rows_total,
    ...totals,
    rows: outcome ? rows.filter((r) => r.outcome === outcome) : rows,
    created_at: job.created_at,
    finished_at: job.finished_at,
  };
}
