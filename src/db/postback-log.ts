// postback_log table: one row per advertiser postback request, accepted or refused, kept for
// settling disputes. Holds an IP prefix only and parameters with secrets redacted; rows older
// than POSTBACK_LOG_RETENTION_DAYS are purged by the cron.

export type PostbackOutcome = 'created' | 'duplicate' | 'updated' | 'refused';

export interface PostbackLogRow {
  id: number;
  received_at: string;
  method: string;
  profile: string;
  ip_prefix: string | null;
  advertiser_id: number | null;
  offer_id: number | null;
  click_id: string | null;
  order_id: string | null;
  conversion_id: string | null;
  /** JSON object of the request's parameters, secrets replaced by "[redacted]". */
  params: string;
  outcome: PostbackOutcome;
  http_status: number;
  error_code: string | null;
  error_message: string | null;
  /** What was not kept of the parameters, JSON {"fields":n,"bytes":m}; null when all was kept. */
  truncated: string | null;
}

const LOG_COLUMNS = [
  'received_at',
  'method',
  'profile',
  'ip_prefix',
  'advertiser_id',
  'offer_id',
  'click_id',
  'order_id',
  'conversion_id',
  'params',
  'outcome',
  'http_status',
  'error_code',
  'error_message',
  'truncated',
] as const satisfies readonly (keyof PostbackLogValues)[];

export type PostbackLogValues = Omit<PostbackLogRow, 'id' | 'truncated'> & Partial<Pick<PostbackLogRow, 'truncated'>>;

const INSERT_LOG_SQL = `INSERT INTO postback_log (${LOG_COLUMNS.join(', ')}) VALUES (${LOG_COLUMNS.map(() => '?').join(', ')})`;

export const insertPostbackLogStatement = (db: D1Database, row: PostbackLogValues): D1PreparedStatement =>
  db.prepare(INSERT_LOG_SQL).bind(...LOG_COLUMNS.map((column) => row[column] ?? null));

export const insertPostbackLog = (db: D1Database, row: PostbackLogValues): Promise<void> =>
  insertPostbackLogs(db, [row]);

/** Writes the rows in one batch (one round trip, one transaction), in the order given. */
export async function insertPostbackLogs(db: D1Database, rows: PostbackLogValues[]): Promise<void> {
  if (rows.length === 1) await insertPostbackLogStatement(db, rows[0] as PostbackLogValues).run();
  else if (rows.length > 1) await db.batch(rows.map((row) => insertPostbackLogStatement(db, row)));
}

/**
 * The log row of a postback that creates conversion `row.conversion_id`, for the batch that
 * inserts it: written only if that conversion exists when the statement runs, so a batch that
 * lost the insert race to a concurrent request writes no 'created' entry.
 */
export function insertPostbackLogIfConversionStatement(db: D1Database, row: PostbackLogValues): D1PreparedStatement {
  const placeholders = LOG_COLUMNS.map((_, i) => `?${i + 1}`).join(', ');
  const conversionParam = LOG_COLUMNS.indexOf('conversion_id') + 1;
  return db
    .prepare(
      `INSERT INTO postback_log (${LOG_COLUMNS.join(', ')}) SELECT ${placeholders}
       WHERE EXISTS (SELECT 1 FROM conversions WHERE id = ?${conversionParam})`,
    )
    .bind(...LOG_COLUMNS.map((column) => row[column] ?? null));
}

export interface PostbackLogFilters {
  advertiser_id?: number;
  offer_id?: number;
  outcome?: PostbackOutcome;
  click_id?: string;
  conversion_id?: string;
  /** received_at >= from */
  from?: string;
  /** received_at < to */
  to?: string;
}

/** Newest first; `before` is the id of the last row of the previous page. */
export async function listPostbackLog(
  db: D1Database,
  filters: PostbackLogFilters,
  before: number | undefined,
  limit: number,
) {
  const where: string[] = [];
  const binds: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    where.push(sql);
    binds.push(value);
  };
  if (filters.advertiser_id !== undefined) add('advertiser_id = ?', filters.advertiser_id);
  if (filters.offer_id !== undefined) add('offer_id = ?', filters.offer_id);
  if (filters.outcome) add('outcome = ?', filters.outcome);
  if (filters.click_id) add('click_id = ?', filters.click_id);
  if (filters.conversion_id) add('conversion_id = ?', filters.conversion_id);
  if (filters.from) add('received_at >= ?', filters.from);
  if (filters.to) add('received_at < ?', filters.to);
  if (before !== undefined) add('id < ?', before);
  const { results } = await db
    .prepare(
      `SELECT * FROM postback_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    )
    .bind(...binds, limit)
    .all<PostbackLogRow>();
  return results;
}
