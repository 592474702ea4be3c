// commission_groups: an offer's commission groups as objects, as Awin names them (a stable id,
// the code product lines and payout rules name, a name and a description). A trigger of
// migration 0007 creates a code's row, named by its code, the first time a payout rule names
// it; the admin API then sets its name and description here.
import type { OfferRef } from './goals';

export interface CommissionGroupRow {
  id: number;
  offer_id: number;
  code: string;
  name: string;
  description: string | null;
  created_at: string;
}

export interface CommissionGroupValues {
  code: string;
  /** Undefined keeps the stored name (a new group is named by its code). */
  name?: string;
  /** Undefined keeps the stored description; null clears it. */
  description?: string | null;
}

/** Creates the group of an offer or sets the name and description given. */
export function upsertCommissionGroupStatement(
  db: D1Database,
  offer: OfferRef,
  group: CommissionGroupValues,
  now: string,
): D1PreparedStatement {
  const offerSql = offer === 'inserted' ? '(SELECT MAX(id) FROM offers)' : '?';
  const offerBinds = offer === 'inserted' ? [] : [offer.id];
  const name = group.name ?? null;
  const description = group.description ?? null;
  const keepDescription = group.description === undefined ? 1 : 0;
  return db
    .prepare(
      `INSERT INTO commission_groups (offer_id, code, name, description, created_at)
       VALUES (${offerSql}, ?, COALESCE(?, ?), ?, ?)
       ON CONFLICT (offer_id, code) DO UPDATE SET
         name = COALESCE(?, name),
         description = CASE WHEN ? = 1 THEN description ELSE ? END`,
    )
    .bind(...offerBinds, group.code, name, group.code, description, now, name, keepDescription, description);
}

export const commissionGroupsOfOffersStatement = (db: D1Database, offerIds: number[]): D1PreparedStatement =>
  db
    .prepare('SELECT * FROM commission_groups WHERE offer_id IN (SELECT value FROM json_each(?)) ORDER BY id')
    .bind(JSON.stringify(offerIds));

/** The commission groups of some offers, by offer id. */
export async function commissionGroupsOfOffers(
  db: D1Database,
  offerIds: number[],
): Promise<Map<number, CommissionGroupRow[]>> {
  const byOffer = new Map<number, CommissionGroupRow[]>();
  if (offerIds.length === 0) return byOffer;
  const { results } = await commissionGroupsOfOffersStatement(db, offerIds).all<CommissionGroupRow>();
  for (const row of results) byOffer.set(row.offer_id, [...(byOffer.get(row.offer_id) ?? []), row]);
  return byOffer;
}
