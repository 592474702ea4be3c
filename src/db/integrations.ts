// Store integrations' tables: advertiser_integrations (sealed webhook secrets), integration_events
// (provider events already applied), integration_orders (the sale a later event names) and
// integration_refunds (Shopify refunds counted once). SQL and row types.

export const PROVIDERS = ['stripe', 'shopify'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** What a sealed secret is bound to: a copy on another advertiser's row does not open. */
export const secretBinding = (advertiserId: number, provider: Provider) => `integration:${advertiserId}:${provider}`;

export interface IntegrationRow {
  advertiser_id: number;
  provider: Provider;
  sealed_secret: string;
  updated_at: string;
}

export const getIntegration = (db: D1Database, advertiserId: number, provider: Provider) =>
  db
    .prepare('SELECT * FROM advertiser_integrations WHERE advertiser_id = ? AND provider = ?')
    .bind(advertiserId, provider)
    .first<IntegrationRow>();

export const listIntegrations = async (db: D1Database, advertiserId: number): Promise<IntegrationRow[]> =>
  (
    await db
      .prepare('SELECT * FROM advertiser_integrations WHERE advertiser_id = ? ORDER BY provider')
      .bind(advertiserId)
      .all<IntegrationRow>()
  ).results;

export const putIntegration = (db: D1Database, row: IntegrationRow) =>
  db
    .prepare(
      `INSERT INTO advertiser_integrations (advertiser_id, provider, sealed_secret, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (advertiser_id, provider) DO UPDATE SET sealed_secret = excluded.sealed_secret, updated_at = excluded.updated_at`,
    )
    .bind(row.advertiser_id, row.provider, row.sealed_secret, row.updated_at)
    .run();

export const deleteIntegration = (db: D1Database, advertiserId: number, provider: Provider) =>
  db
    .prepare('DELETE FROM advertiser_integrations WHERE advertiser_id = ? AND provider = ?')
    .bind(advertiserId, provider)
    .run();

export const eventSeen = async (db: D1Database, provider: Provider, advertiserId: number, eventId: string) =>
  (await db
    .prepare('SELECT 1 AS seen FROM integration_events WHERE provider = ? AND advertiser_id = ? AND event_id = ?')
    .bind(provider, advertiserId, eventId)
    .first()) !== null;

export const markEventStatement = (
  db: D1Database,
  provider: Provider,
  advertiserId: number,
  eventId: string,
  now: string,
) =>
  db
    .prepare(
      'INSERT INTO integration_events (provider, advertiser_id, event_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    )
    .bind(provider, advertiserId, eventId, now);

export interface IntegrationOrderRow {
  provider: Provider;
  advertiser_id: number;
  ref: string;
  conversion_id: string;
  amount: number;
  currency: string;
  created_at: string;
}

/** Links a provider reference to its sale; the first link stands (a replay changes nothing). */
export const linkOrderStatement = (db: D1Database, row: IntegrationOrderRow) =>
  db
    .prepare(
      `INSERT INTO integration_orders (provider, advertiser_id, ref, conversion_id, amount, currency, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(row.provider, row.advertiser_id, row.ref, row.conversion_id, row.amount, row.currency, row.created_at);

export const findOrder = (db: D1Database, provider: Provider, advertiserId: number, ref: string) =>
  db
    .prepare('SELECT * FROM integration_orders WHERE provider = ? AND advertiser_id = ? AND ref = ?')
    .bind(provider, advertiserId, ref)
    .first<IntegrationOrderRow>();

/**
 * Records a refund (or, for Stripe, a charge's refunded total so far, which only grows) whether
 * or not its sale is known yet: a sale that arrives later applies it. Counted once per id.
 */
export const recordRefundStatement = (
  db: D1Database,
  row: { provider: Provider; advertiser_id: number; refund_id: string; ref: string; amount: number; now: string },
) =>
  db
    .prepare(
      `INSERT INTO integration_refunds (provider, advertiser_id, refund_id, ref, amount, created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, advertiser_id, refund_id) DO UPDATE SET amount = MAX(amount, excluded.amount)`,
    )
    .bind(row.provider, row.advertiser_id, row.refund_id, row.ref, row.amount, row.now);

/** Everything refunded of a sale so far, in its minor units. */
export async function refundedTotal(db: D1Database, provider: Provider, advertiserId: number, ref: string) {
  const row = await db
    .prepare(
      'SELECT COALESCE(SUM(amount), 0) AS total FROM integration_refunds WHERE provider = ? AND advertiser_id = ? AND ref = ?',
    )
    .bind(provider, advertiserId, ref)
    .first<{ total: number }>();
  return Number(row?.total ?? 0);
}
