// claims and claim_messages tables: publishers' claims of missed sales and their threads.
// SQL and row types.

export type ClaimStatus = 'open' | 'accepted' | 'rejected';

export interface ClaimRow {
  id: number;
  offer_id: number;
  advertiser_id: number;
  publisher_id: number;
  order_id: string;
  amount: number;
  currency: string;
  transaction_date: string;
  click_id: string | null;
  note: string | null;
  status: ClaimStatus;
  conversion_id: string | null;
  reason: string | null;
  decided_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ClaimMessageRow {
  id: number;
  claim_id: number;
  author_role: 'publisher' | 'advertiser' | 'operator';
  message: string;
  created_at: string;
}

export type NewClaim = Omit<ClaimRow, 'id' | 'status' | 'conversion_id' | 'reason' | 'decided_at' | 'updated_at'>;

/** Files a claim; null when the publisher already has an open claim for the order. */
export const insertClaim = (db: D1Database, c: NewClaim) =>
  db
    .prepare(
      `INSERT INTO claims (offer_id, advertiser_id, publisher_id, order_id, amount, currency, transaction_date,
         click_id, note, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
       ON CONFLICT (offer_id, order_id, publisher_id) WHERE status = 'open' DO NOTHING RETURNING *`,
    )
    .bind(
      c.offer_id,
      c.advertiser_id,
      c.publisher_id,
      c.order_id,
      c.amount,
      c.currency,
      c.transaction_date,
      c.click_id,
      c.note,
      c.created_at,
      c.created_at,
    )
    .first<ClaimRow>();

export const getClaim = (db: D1Database, id: number) =>
  db.prepare('SELECT * FROM claims WHERE id = ?').bind(id).first<ClaimRow>();

/** The publisher's open claim for an order of an offer. */
export const openClaimFor = (db: D1Database, offerId: number, orderId: string, publisherId: number) =>
  db
    .prepare("SELECT * FROM claims WHERE offer_id = ? AND order_id = ? AND publisher_id = ? AND status = 'open'")
    .bind(offerId, orderId, publisherId)
    .first<ClaimRow>();

export interface ClaimFilters {
  publisher_id?: number;
  advertiser_id?: number;
  offer_id?: number;
  status?: ClaimStatus;
}

/** Newest first below a cursor id (claims_publisher / claims_advertiser / the primary key). */
export async function listClaims(db: D1Database, filters: ClaimFilters, before: number, limit: number) {
  const where = ['id < ?'];
  const binds: unknown[] = [before];
  for (const column of ['publisher_id', 'advertiser_id', 'offer_id', 'status'] as const) {
    if (filters[column] === undefined) continue;
    where.push(`${column} = ?`);
    binds.push(filters[column]);
  }
  const { results } = await db
    .prepare(`SELECT * FROM claims WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`)
    .bind(...binds, limit)
    .all<ClaimRow>();
  return results;
}

/**
 * Marks a claim accepted with the conversion it created, in the conversion's own batch: only if
 * the conversion exists (its insert was not a duplicate), and, when the claim is no longer
 * open, status becomes NULL so the NOT NULL constraint aborts the whole batch (see
 * isClaimDecidedError): a claim decided meanwhile never gets a conversion.
 */
export const acceptClaimStatement = (db: D1Database, id: number, conversionId: string, now: string) =>
  db
    .prepare(
      `UPDATE claims SET status = CASE WHEN status = 'open' THEN 'accepted' END, conversion_id = ?2,
         decided_at = ?3, updated_at = ?3
       WHERE id = ?1 AND EXISTS (SELECT 1 FROM conversions WHERE id = ?2)`,
    )
    .bind(id, conversionId, now);

export const isClaimDecidedError = (error: unknown): boolean =>
  error instanceof Error && /NOT NULL constraint failed: claims\.status/.test(error.message);

/** Rejects an open claim; null when it is not open (any more). */
export const rejectClaim = (db: D1Database, id: number, reason: string, now: string) =>
  db
    .prepare(
      `UPDATE claims SET status = 'rejected', reason = ?2, decided_at = ?3, updated_at = ?3
       WHERE id = ?1 AND status = 'open' RETURNING *`,
    )
    .bind(id, reason, now)
    .first<ClaimRow>();

export const addClaimMessage = (
  db: D1Database,
  claimId: number,
  role: ClaimMessageRow['author_role'],
  message: string,
  now: string,
) =>
  db
    .prepare('INSERT INTO claim_messages (claim_id, author_role, message, created_at) VALUES (?, ?, ?, ?) RETURNING *')
    .bind(claimId, role, message, now)
    .first<ClaimMessageRow>();

export async function claimMessages(db: D1Database, claimId: number): Promise<ClaimMessageRow[]> {
  const { results } = await db
    .prepare('SELECT * FROM claim_messages WHERE claim_id = ? ORDER BY id')
    .bind(claimId)
    .all<ClaimMessageRow>();
  return results;
}

/** Whether the publisher may promote the offer: public, or private with an approved application. */
export const mayPromoteStatement = (db: D1Database, offerId: number, publisherId: number) =>
  db
    .prepare(
      `SELECT o.visibility = 'public' OR EXISTS (SELECT 1 FROM offer_applications a WHERE a.offer_id = o.id
         AND a.publisher_id = ?2 AND a.status = 'approved') AS allowed FROM offers o WHERE o.id = ?1`,
    )
    .bind(offerId, publisherId);
