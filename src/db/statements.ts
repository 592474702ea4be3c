// documents and document_lines tables: publisher statements and advertiser invoices (one
// table, a kind column). The run of a period is four statements for one batch, each an
// INSERT ... SELECT or DELETE over the whole period, so its cost in queries and bound
// parameters does not grow with the number of conversions (test/flows/statements-scale.test.ts).
import type { DocumentKind, DocumentStatus, KindSpec } from '../statements/kinds';

export interface DocumentRow {
  id: number;
  kind: DocumentKind;
  period: string;
  period_start: string;
  period_end: string;
  party_id: number;
  currency: string;
  status: DocumentStatus;
  total: number;
  line_count: number;
  minimum: number | null;
  reference: string | null;
  created_at: string;
  updated_at: string;
  issued_at: string | null;
  paid_at: string | null;
}

export interface DocumentLineRow {
  id: number;
  document_id: number;
  conversion_id: string;
  line_type: 'conversion' | 'adjustment';
  amount: number;
  value: number;
  conversion_status: string;
  offer_id: number;
  order_id: string | null;
  conversion_time: string;
  counted: 0 | 1;
}

export interface RunWindow {
  period: string;
  start: string;
  end: string;
  now: string;
}

/**
 * What a run of the period would add, one row per conversion: ?1 kind, ?2 period, ?3 the
 * period's end. A conversion created before the end is due when what its counted lines already
 * state differs from what it is worth now (its payout or revenue if approved, else 0):
 * - never stated (no counted line) and approved: a `conversion` line of its whole value;
 * - stated before and changed since (reversed, adjusted, approved again): an `adjustment` line
 *   of the difference.
 * Parties that already have an issued or paid document of the period wait for the next one.
 * The first branch walks conversions_status_time; the second the counted lines
 * (document_lines_stated), each looked up by primary key.
 */
function candidatesSql(spec: KindSpec): string {
  const party = spec.partyColumn;
  const worth = `CASE WHEN c.status = 'approved' THEN c.${spec.value} ELSE 0 END`;
  return `SELECT * FROM (
      SELECT c.id AS conversion_id, c.${party} AS party_id, c.payout_currency AS currency, 'conversion' AS line_type,
        c.${spec.value} AS amount, c.${spec.value} AS value, c.status AS conversion_status, c.offer_id, c.order_id,
        c.created_at AS conversion_time
      FROM conversions c
      WHERE c.status = 'approved' AND c.created_at < ?3 AND c.${spec.value} <> 0
        AND NOT EXISTS (SELECT 1 FROM document_lines l WHERE l.kind = ?1 AND l.counted = 1 AND l.conversion_id = c.id)
      UNION ALL
      SELECT c.id, c.${party}, c.payout_currency, 'adjustment', ${worth} - s.stated, ${worth}, c.status, c.offer_id,
        c.order_id, c.created_at
      FROM (SELECT conversion_id, SUM(amount) AS stated FROM document_lines WHERE kind = ?1 AND counted = 1
            GROUP BY conversion_id) s
      CROSS JOIN conversions c ON c.id = s.conversion_id
      WHERE c.created_at < ?3 AND ${worth} <> s.stated
    ) cand
    WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.kind = ?1 AND d.period = ?2 AND d.party_id = cand.party_id
      AND d.currency = cand.currency AND d.status IN ('issued', 'paid'))`;
}

/** The minimum a party's total must reach (minor units): a publisher's own per currency. */
const minimumSql = (spec: KindSpec) =>
  spec.kind === 'statement'
    ? `(SELECT CAST(json_extract(p.minimum_payout, '$.' || cand.currency) AS INTEGER) FROM publishers p WHERE p.id = cand.party_id)`
    : 'NULL';

/**
 * The run of a period, for one batch (one transaction): the period's draft and carried
 * documents lose their lines; each party and currency with lines due gets its document (the
 * same row as before, if it had one), a draft when the total reaches the minimum (at least one
 * minor unit), else carried; the lines follow; documents of the period left without lines go.
 * ?1 kind, ?2 period, ?3 end, ?4 now, ?5 start.
 */
export function runStatements(db: D1Database, spec: KindSpec, window: RunWindow): D1PreparedStatement[] {
  const binds = [spec.kind, window.period, window.end, window.now, window.start] as const;
  const candidates = candidatesSql(spec);
  return [
    db
      .prepare(
        `DELETE FROM document_lines WHERE document_id IN (SELECT id FROM documents
           WHERE kind = ?1 AND period = ?2 AND status IN ('draft', 'carried'))`,
      )
      .bind(binds[0], binds[1]),
    db
      .prepare(
        `INSERT INTO documents (kind, period, period_start, period_end, party_id, currency, status, total, line_count,
           minimum, created_at, updated_at)
         SELECT ?1, ?2, ?5, ?3, g.party_id, g.currency,
           CASE WHEN g.total >= MAX(COALESCE(g.minimum, 0), 1) THEN 'draft' ELSE 'carried' END,
           g.total, g.line_count, g.minimum, ?4, ?4
         FROM (SELECT cand.party_id, cand.currency, SUM(cand.amount) AS total, COUNT(*) AS line_count,
                 ${minimumSql(spec)} AS minimum
               FROM (${candidates}) cand GROUP BY cand.party_id, cand.currency) g
         WHERE true
         ON CONFLICT (kind, period, party_id, currency) DO UPDATE SET status = excluded.status,
           total = excluded.total, line_count = excluded.line_count, minimum = excluded.minimum,
           period_start = excluded.period_start, period_end = excluded.period_end, updated_at = excluded.updated_at
         WHERE documents.status IN ('draft', 'carried')`,
      )
      .bind(...binds),
    db
      .prepare(
        `INSERT INTO document_lines (document_id, kind, conversion_id, line_type, amount, value, conversion_status,
           offer_id, order_id, conversion_time, counted)
         SELECT d.id, ?1, cand.conversion_id, cand.line_type, cand.amount, cand.value, cand.conversion_status,
           cand.offer_id, cand.order_id, cand.conversion_time, d.status = 'draft'
         FROM (${candidates}) cand
         JOIN documents d ON d.kind = ?1 AND d.period = ?2 AND d.party_id = cand.party_id AND d.currency = cand.currency
         WHERE d.status IN ('draft', 'carried')
         ORDER BY cand.conversion_time, cand.conversion_id`,
      )
      .bind(binds[0], binds[1], binds[2]),
    db
      .prepare(
        `DELETE FROM documents WHERE kind = ?1 AND period = ?2 AND status IN ('draft', 'carried')
           AND NOT EXISTS (SELECT 1 FROM document_lines l WHERE l.document_id = documents.id)`,
      )
      .bind(binds[0], binds[1]),
  ];
}

/** The candidate rows of a run, read without writing (tests and query plans). */
export const candidatesStatement = (db: D1Database, spec: KindSpec, window: Pick<RunWindow, 'period' | 'end'>) =>
  db.prepare(candidatesSql(spec)).bind(spec.kind, window.period, window.end);

export interface DocumentFilters {
  period?: string;
  party_id?: number;
  status?: DocumentStatus;
}

/** Newest first (highest id first); `before` is the last id of the previous page. */
export function listDocumentsStatement(
  db: D1Database,
  kind: DocumentKind,
  filters: DocumentFilters,
  before: number,
  limit: number,
): D1PreparedStatement {
  const where = ['kind = ?', 'id < ?'];
  const binds: unknown[] = [kind, before];
  if (filters.period !== undefined) {
    where.push('period = ?');
    binds.push(filters.period);
  }
  if (filters.party_id !== undefined) {
    where.push('party_id = ?');
    binds.push(filters.party_id);
  }
  if (filters.status !== undefined) {
    where.push('status = ?');
    binds.push(filters.status);
  }
  return db
    .prepare(`SELECT * FROM documents WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`)
    .bind(...binds, limit);
}

export async function listDocuments(
  db: D1Database,
  kind: DocumentKind,
  filters: DocumentFilters,
  before: number,
  limit: number,
): Promise<DocumentRow[]> {
  return (await listDocumentsStatement(db, kind, filters, before, limit).all<DocumentRow>()).results;
}

export const getDocument = (db: D1Database, kind: DocumentKind, id: number): Promise<DocumentRow | null> =>
  db.prepare('SELECT * FROM documents WHERE id = ? AND kind = ?').bind(id, kind).first<DocumentRow>();

/** A page of a document's lines in their order; `after` is the last line id of the previous page. */
export const documentLinesStatement = (db: D1Database, documentId: number, after: number, limit: number) =>
  db
    .prepare('SELECT * FROM document_lines WHERE document_id = ? AND id > ? ORDER BY id LIMIT ?')
    .bind(documentId, after, limit);

export async function documentLines(
  db: D1Database,
  documentId: number,
  after: number,
  limit: number,
): Promise<DocumentLineRow[]> {
  return (await documentLinesStatement(db, documentId, after, limit).all<DocumentLineRow>()).results;
}

/** Counts of a period's documents by status, and their lines. */
export async function periodSummary(db: D1Database, kind: DocumentKind, period: string) {
  const { results } = await db
    .prepare(
      `SELECT status, COUNT(*) AS documents, SUM(line_count) AS lines FROM documents
       WHERE kind = ? AND period = ? GROUP BY status`,
    )
    .bind(kind, period)
    .all<{ status: DocumentStatus; documents: number; lines: number }>();
  return results;
}

/**
 * draft -> issued, only from the draft exactly as it was read (a run rebuilding it meanwhile
 * makes this change nothing: the caller answers 409 and the reader looks again).
 */
export const issueDocumentStatement = (db: D1Database, doc: DocumentRow, now: string) =>
  db
    .prepare(
      `UPDATE documents SET status = 'issued', issued_at = ?1, updated_at = ?1
       WHERE id = ?2 AND status = 'draft' AND updated_at = ?3 AND total = ?4 AND line_count = ?5 RETURNING *`,
    )
    .bind(now, doc.id, doc.updated_at, doc.total, doc.line_count);

/** issued -> paid, with the payment's reference. */
export const payDocumentStatement = (db: D1Database, id: number, reference: string, now: string) =>
  db
    .prepare(
      `UPDATE documents SET status = 'paid', paid_at = ?1, reference = ?2, updated_at = ?1
       WHERE id = ?3 AND status = 'issued' RETURNING *`,
    )
    .bind(now, reference, id);

export interface DocumentTotalsRow {
  kind: DocumentKind;
  status: DocumentStatus;
  currency: string;
  total: number;
}

/** Totals of every document by kind, status and currency (the balances report). */
export async function documentTotals(db: D1Database): Promise<DocumentTotalsRow[]> {
  const { results } = await db
    .prepare(
      `SELECT kind, status, currency, SUM(total) AS total FROM documents WHERE status <> 'carried'
       GROUP BY kind, status, currency`,
    )
    .all<DocumentTotalsRow>();
  return results;
}

/** Pending and approved payout and revenue by currency, from the daily rollups. */
export async function conversionTotals(db: D1Database) {
  const { results } = await db
    .prepare(
      `SELECT currency, SUM(payout_pending) AS payout_pending, SUM(payout_approved) AS payout_approved,
         SUM(revenue_pending) AS revenue_pending, SUM(revenue_approved) AS revenue_approved
       FROM daily_conversion_stats GROUP BY currency`,
    )
    .all<{
      currency: string;
      payout_pending: number;
      payout_approved: number;
      revenue_pending: number;
      revenue_approved: number;
    }>();
  return results;
}
