// exchange_rates: a dated history; 1 unit of `base` is worth `rate` units of `quote` from
// valid_from on, until the next row of the pair. A conversion uses the row in force when it is
// created (conversions/exchange.ts converts).

export interface ExchangeRateRow {
  base: string;
  quote: string;
  valid_from: string;
  rate: string;
  created_at: string;
}

export const insertExchangeRateStatement = (db: D1Database, row: ExchangeRateRow) =>
  db
    .prepare(
      `INSERT INTO exchange_rates (base, quote, valid_from, rate, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (base, quote, valid_from) DO UPDATE SET rate = excluded.rate, created_at = excluded.created_at`,
    )
    .bind(row.base, row.quote, row.valid_from, row.rate, row.created_at);

export async function insertExchangeRate(db: D1Database, row: ExchangeRateRow): Promise<void> {
  await insertExchangeRateStatement(db, row).run();
}

/** The rate from `base` into an offer's currency in force at `at`. */
export const rateIntoOfferStatement = (db: D1Database, base: string, offerId: number, at: string) =>
  db
    .prepare(
      `SELECT r.*, (SELECT MIN(n.valid_from) FROM exchange_rates n
                    WHERE n.base = r.base AND n.quote = r.quote AND n.valid_from > ?3) AS next_valid_from
       FROM exchange_rates r WHERE r.base = ?1 AND r.quote = (SELECT currency FROM offers WHERE id = ?2)
         AND r.valid_from <= ?3 ORDER BY r.valid_from DESC LIMIT 1`,
    )
    .bind(base, offerId, at);

/** A rate in force with the time the pair's next rate takes over (null: none is dated yet). */
export type RateInForce = ExchangeRateRow & { next_valid_from: string | null };

export const rateInForceStatement = (db: D1Database, base: string, quote: string, at: string) =>
  db
    .prepare(
      'SELECT * FROM exchange_rates WHERE base = ? AND quote = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1',
    )
    .bind(base, quote, at);

export const rateInForce = (db: D1Database, base: string, quote: string, at: string) =>
  rateInForceStatement(db, base, quote, at).first<ExchangeRateRow>();

/** The history of a pair, newest first. */
export async function rateHistory(db: D1Database, base: string, quote: string, limit = 100) {
  const { results } = await db
    .prepare('SELECT * FROM exchange_rates WHERE base = ? AND quote = ? ORDER BY valid_from DESC LIMIT ?')
    .bind(base, quote, limit)
    .all<ExchangeRateRow>();
  return results;
}
