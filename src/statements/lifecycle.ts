// A document's life: a run of the period builds drafts (or carries small totals forward),
// issue locks a draft, paid records the payment. Only draft -> issued -> paid; anything else
// is a 409 naming the status. Issuing and paying a statement deliver statement.issued and
// statement.paid to the publisher's subscribing endpoints (outbox rows in the same batch).
import { DOCUMENT_DELIVERY_PREFIX, insertDocumentDeliveriesStatement } from '../db/document-deliveries';
import {
  type DocumentRow,
  getDocument,
  issueDocumentStatement,
  payDocumentStatement,
  periodSummary,
  runStatements,
} from '../db/statements';
import { randomId } from '../lib/crypto';
import { ApiError, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { operatorTimeZone } from '../lib/timezone';
import { enqueueDocumentDeliveries, statementEnvelope } from './delivery';
import type { DocumentStatus, KindSpec, StatementEventType } from './kinds';
import { closablePeriod } from './period';

export interface RunResult {
  period: string;
  start: string;
  end: string;
  counts: Record<DocumentStatus, number>;
  /** Lines on the period's draft and carried documents. */
  lines: number;
}

/**
 * Builds (or rebuilds) the period's drafts in one batch: running it again changes nothing
 * unless conversions changed meanwhile, and then the drafts (same ids) say what they are now.
 */
export async function runPeriod(env: Env, spec: KindSpec, periodText: string, nowMs = Date.now()): Promise<RunResult> {
  const bounds = closablePeriod(periodText, operatorTimeZone(env), nowMs);
  await env.DB.batch(runStatements(env.DB, spec, { ...bounds, now: new Date(nowMs).toISOString() }));
  const counts: Record<DocumentStatus, number> = { draft: 0, carried: 0, issued: 0, paid: 0 };
  let lines = 0;
  for (const row of await periodSummary(env.DB, spec.kind, bounds.period)) {
    counts[row.status] = row.documents;
    if (row.status === 'draft' || row.status === 'carried') lines += row.lines;
  }
  return { period: bounds.period, start: bounds.start, end: bounds.end, counts, lines };
}

const illegal = (spec: KindSpec, doc: DocumentRow, wanted: string) =>
  new ApiError(
    409,
    'illegal_status_change',
    `${spec.title} ${doc.id} is ${doc.status}: only ${wanted === 'issued' ? 'a draft' : 'an issued one'} can be ${wanted}`,
  );

async function load(env: Env, spec: KindSpec, id: number): Promise<DocumentRow> {
  const doc = await getDocument(env.DB, spec.kind, id);
  if (!doc) throw notFound(spec.title);
  return doc;
}

/** Statements tell their publisher; invoices have no endpoints to tell. */
function eventStatements(
  db: D1Database,
  spec: KindSpec,
  type: StatementEventType,
  after: DocumentRow,
  now: string,
): D1PreparedStatement[] {
  if (spec.kind !== 'statement') return [];
  const payload = JSON.stringify(statementEnvelope(type, after, now));
  return [
    insertDocumentDeliveriesStatement(
      db,
      randomId(DOCUMENT_DELIVERY_PREFIX, 12),
      { documentId: after.id, publisherId: after.party_id, type, status: after.status, payload },
      now,
    ),
  ];
}

async function transition(
  env: Env,
  spec: KindSpec,
  id: number,
  wanted: 'issued' | 'paid',
  change: (doc: DocumentRow, now: string) => D1PreparedStatement,
  patch: Partial<DocumentRow> = {},
): Promise<DocumentRow> {
  const doc = await load(env, spec, id);
  if (doc.status !== (wanted === 'issued' ? 'draft' : 'issued')) throw illegal(spec, doc, wanted);
  const now = nowIso();
  // The row as it will be after the change: the frozen payload is built from it.
  const after: DocumentRow = {
    ...doc,
    status: wanted,
    updated_at: now,
    ...(wanted === 'issued' ? { issued_at: now } : { paid_at: now }),
    ...patch,
  };
  const results = await env.DB.batch([
    change(doc, now),
    ...eventStatements(env.DB, spec, `statement.${wanted}`, after, now),
  ]);
  const changed = results[0]?.results[0] as DocumentRow | undefined;
  if (!changed) {
    // A run rebuilt the draft, or another call changed it first: say what it is now.
    const current = await load(env, spec, id);
    if (current.status === doc.status) {
      throw new ApiError(409, 'conflict', `${spec.title} ${id} changed while it was being ${wanted}; read it again`);
    }
    throw illegal(spec, current, wanted);
  }
  const deliveries = (results[1]?.results ?? []) as { id: string }[];
  if (deliveries.length > 0)
    await enqueueDocumentDeliveries(
      env,
      deliveries.map((d) => d.id),
    );
  return changed;
}

export const issueDocument = (env: Env, spec: KindSpec, id: number) =>
  transition(env, spec, id, 'issued', (doc, now) => issueDocumentStatement(env.DB, doc, now));

export const payDocument = (env: Env, spec: KindSpec, id: number, reference: string) =>
  transition(env, spec, id, 'paid', (doc, now) => payDocumentStatement(env.DB, doc.id, reference, now), {
    reference,
  });
