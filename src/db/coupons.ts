// coupons table: a publisher's codes on an offer, matched case-insensitively (code_key).
// SQL and row type.

export interface CouponRow {
  id: number;
  offer_id: number;
  publisher_id: number;
  code: string;
  code_key: string;
  starts_at: string | null;
  ends_at: string | null;
  created_at: string;
}

/** The form a code is matched in: trimmed, lower case (Unicode-aware, so "ÄPFEL10" = "äpfel10"). */
export const couponKey = (code: string): string => code.trim().toLowerCase();

export type CouponValues = Omit<CouponRow, 'id' | 'code_key'>;

/** The new coupon, or null when the offer already has that code (in any case). */
export const insertCoupon = (db: D1Database, values: CouponValues): Promise<CouponRow | null> =>
  db
    .prepare(
      `INSERT INTO coupons (offer_id, publisher_id, code, code_key, starts_at, ends_at, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (offer_id, code_key) DO NOTHING
       RETURNING *`,
    )
    .bind(
      values.offer_id,
      values.publisher_id,
      values.code,
      couponKey(values.code),
      values.starts_at,
      values.ends_at,
      values.created_at,
    )
    .first<CouponRow>();

export const getCoupon = (db: D1Database, id: number): Promise<CouponRow | null> =>
  db.prepare('SELECT * FROM coupons WHERE id = ?').bind(id).first<CouponRow>();

export const deleteCoupon = (db: D1Database, id: number): Promise<CouponRow | null> =>
  db.prepare('DELETE FROM coupons WHERE id = ? RETURNING *').bind(id).first<CouponRow>();

export interface CouponFilter {
  offer_id?: number;
  publisher_id?: number;
  advertiser_id?: number;
}

export const listCouponsStatement = (db: D1Database, filter: CouponFilter, after: number, limit: number) =>
  db
    .prepare(
      `SELECT c.* FROM coupons c
       WHERE c.id > ?1 AND (?2 IS NULL OR c.offer_id = ?2) AND (?3 IS NULL OR c.publisher_id = ?3)
         AND (?4 IS NULL OR c.offer_id IN (SELECT id FROM offers WHERE advertiser_id = ?4))
       ORDER BY c.id LIMIT ?5`,
    )
    .bind(after, filter.offer_id ?? null, filter.publisher_id ?? null, filter.advertiser_id ?? null, limit);

export async function listCoupons(
  db: D1Database,
  filter: CouponFilter,
  after: number,
  limit: number,
): Promise<CouponRow[]> {
  return (await listCouponsStatement(db, filter, after, limit).all<CouponRow>()).results;
}

/** A coupon with its offer's name, as the portals list them. */
export interface NamedCouponRow extends CouponRow {
  offer_name: string;
}

/** Every code of a publisher or of an advertiser's offers (at most `limit`), oldest first. */
export async function namedCoupons(
  db: D1Database,
  party: { publisher_id: number } | { advertiser_id: number },
  limit: number,
): Promise<NamedCouponRow[]> {
  const byPublisher = 'publisher_id' in party;
  const { results } = await db
    .prepare(
      `SELECT c.*, o.name AS offer_name FROM coupons c JOIN offers o ON o.id = c.offer_id
       WHERE ${byPublisher ? 'c.publisher_id = ?1' : 'o.advertiser_id = ?1'}
       ORDER BY c.id LIMIT ?2`,
    )
    .bind(byPublisher ? party.publisher_id : party.advertiser_id, limit)
    .all<NamedCouponRow>();
  return results;
}

/**
 * The coupons holding a code among an advertiser's offers (one offer's, when given): what a
 * conversion's voucher names. At most one per offer (UNIQUE).
 */
export async function couponsByCode(
  db: D1Database,
  code: string,
  scope: { advertiser_id: number; offer_id?: number },
): Promise<CouponRow[]> {
  const { results } = await db
    .prepare(
      `SELECT c.* FROM coupons c JOIN offers o ON o.id = c.offer_id
       WHERE c.code_key = ?1 AND o.advertiser_id = ?2 AND (?3 IS NULL OR c.offer_id = ?3)
       ORDER BY c.id LIMIT 10`,
    )
    .bind(couponKey(code), scope.advertiser_id, scope.offer_id ?? null)
    .all<CouponRow>();
  return results;
}
