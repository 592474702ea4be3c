// Retention deletes for the two logs that grow with traffic: postback_log (every postback
// request, accepted or refused) and delivery_attempts (every notification request). Each
// statement deletes at most `limit` of the oldest rows before `cutoff` through its time index,
// so a run is a series of bounded range deletes, never one long write.

export const purgePostbackLogStatement = (db: D1Database, cutoff: string, limit: number): D1PreparedStatement =>
  db
    .prepare(
      `DELETE FROM postback_log WHERE id IN
         (SELECT id FROM postback_log WHERE received_at < ? ORDER BY received_at LIMIT ?)`,
    )
    .bind(cutoff, limit);

/** Uses delivery_attempts_time (migration 0006). */
export const purgeDeliveryAttemptsStatement = (db: D1Database, cutoff: string, limit: number): D1PreparedStatement =>
  db
    .prepare(
      `DELETE FROM delivery_attempts WHERE id IN
         (SELECT id FROM delivery_attempts WHERE started_at < ? ORDER BY started_at LIMIT ?)`,
    )
    .bind(cutoff, limit);
