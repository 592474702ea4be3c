// config_epoch (migration 0015): one row whose token changes with every write to advertisers,
// publishers, offers, goals, payout rules, commission groups and exchange rates (triggers). A
// postback that priced a conversion from an isolate's memory writes it only while the token is
// the one that memory was read with (src/postback/config-cache.ts).

export interface EpochRow {
  token: string;
}

export const configEpochStatement = (db: D1Database): D1PreparedStatement =>
  db.prepare('SELECT token FROM config_epoch WHERE id = 1');

/** SQL that is true while the token is still the bound parameter `param` (e.g. `?41`). */
export const epochIsStill = (param: string): string => `(SELECT token FROM config_epoch WHERE id = 1) = ${param}`;
