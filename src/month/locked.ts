// A validation row that changes a conversion already on an issued (or paid) statement or
// invoice: the change applies, as every later change does (an issued document never changes;
// the next period's run states the difference as an adjustment line), and the row says so,
// so an advertiser sees which of its changes reach documents already sent.
import { type LockedDocumentRow, lockedDocumentsStatement } from '../db/validations';

/** Ids per lookup statement (one JSON parameter), as the plan's own lookups. */
const LOOKUP_IDS = 500;

/** The issued and paid documents of each conversion, in a single D1 batch. */
export async function lockedDocuments(db: D1Database, ids: string[]): Promise<Map<string, LockedDocumentRow[]>> {
  const unique = [...new Set(ids)];
  const found = new Map<string, LockedDocumentRow[]>();
  if (unique.length === 0) return found;
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < unique.length; i += LOOKUP_IDS)
    statements.push(lockedDocumentsStatement(db, unique.slice(i, i + LOOKUP_IDS)));
  for (const doc of (await db.batch<LockedDocumentRow>(statements)).flatMap((r) => r.results)) {
    found.set(doc.conversion_id, [...(found.get(doc.conversion_id) ?? []), doc]);
  }
  return found;
}

/**
 * What a changed row adds to its message. An advertiser sees its invoices by id and learns only
 * that a publisher statement exists (statements are the publishers' and carry payouts); the
 * operator sees both by id.
 */
export function lockedNote(docs: LockedDocumentRow[], role: 'operator' | 'advertiser' | 'publisher'): string {
  const named = docs.map((d) =>
    d.kind === 'invoice' || role === 'operator'
      ? `${d.kind} ${d.document_id} (${d.period}, ${d.status})`
      : `a publisher statement (${d.period}, ${d.status})`,
  );
  return `locked: on ${named.join(' and ')}, which stays as issued; the change becomes an adjustment line on the next one`;
}
