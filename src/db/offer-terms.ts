// The program-terms columns of offers (visibility, fallback_offer_id) and what the click path
// caches about them. SQL only; the columns' meaning is in docs/program-terms.md.

export interface OfferTermsRow {
  visibility: 'public' | 'private';
  fallback_offer_id: number | null;
}

export const offerTermsStatement = (db: D1Database, offerId: number): D1PreparedStatement =>
  db.prepare('SELECT visibility, fallback_offer_id FROM offers WHERE id = ?').bind(offerId);

export const getOfferTerms = (db: D1Database, offerId: number): Promise<OfferTermsRow | null> =>
  offerTermsStatement(db, offerId).first<OfferTermsRow>();

/**
 * Sets the terms columns of an offer ('inserted': the one created earlier in the same batch);
 * undefined leaves a column as it is.
 */
export function updateOfferTermsStatement(
  db: D1Database,
  offer: { id: number } | 'inserted',
  changes: Partial<OfferTermsRow>,
): D1PreparedStatement {
  const id = offer === 'inserted' ? '(SELECT MAX(id) FROM offers)' : '?3';
  return db
    .prepare(
      `UPDATE offers SET visibility = COALESCE(?1, visibility),
         fallback_offer_id = CASE WHEN ?2 = 'keep' THEN fallback_offer_id ELSE ?4 END
       WHERE id = ${id}`,
    )
    .bind(
      changes.visibility ?? null,
      changes.fallback_offer_id === undefined ? 'keep' : 'set',
      offer === 'inserted' ? null : offer.id,
      changes.fallback_offer_id ?? null,
    );
}
