// The query plans of every statement a postback runs, built by the real statement builders: each
// one finds its rows through an index, never by walking a table, also once SQLite has statistics
// about an offer with many conversions. (A postback used to read its possible duplicates by
// walking every conversion of the offer in created_at order, so its cost grew with the offer's
// history; the advertiser by key hash had no index at all.)
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { advertiserByKeyHashStatement } from '../../src/db/advertisers';
import { countConversionStatement } from '../../src/db/caps';
import { configEpochStatement } from '../../src/db/config-epoch';
import {
  addConversionStatsStatement,
  conversionsByKeysStatement,
  insertConversionIfCurrentStatement,
  insertEventIfConversionStatement,
} from '../../src/db/conversions';
import { insertDeliveriesForEventStatement } from '../../src/db/deliveries';
import { rateIntoOfferStatement } from '../../src/db/exchange-rates';
import { goalsWithRulesStatements, selectOfferStatement } from '../../src/db/offers';
import { tierCountsStatement } from '../../src/db/payout-rules';
import { insertPostbackLogIfConversionStatement } from '../../src/db/postback-log';
import { selectPublisherStatement } from '../../src/db/publishers';
import { addQuarterConversionStatsStatement } from '../../src/db/quarter-stats';
import { periodKeys } from '../../src/terms/periods';
import { conversionEventRow, conversionRow, goalIdOf } from '../fixtures';
import { createFixture } from '../helpers';

interface Recorded {
  name: string;
  sql: string;
  binds: unknown[];
}

/** A stand-in D1Database that keeps the SQL and bindings the builders prepare. */
function recorder() {
  const seen: Recorded[] = [];
  let name = '';
  const db = {
    prepare: (sql: string) => ({
      bind: (...binds: unknown[]) => {
        seen.push({ name, sql, binds });
        return {};
      },
    }),
  } as unknown as D1Database;
  const as = (label: string, build: () => unknown) => {
    name = label;
    build();
  };
  return { db, seen, as };
}

async function planOf(statement: Recorded): Promise<string> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
    .bind(...statement.binds)
    .all<{ detail: string }>();
  return results.map((r) => r.detail).join('\n');
}

async function postbackStatements(): Promise<{ statements: Recorded[]; offerId: number }> {
  const f = await createFixture();
  const goalId = await goalIdOf(f.offerId, 'lead');
  const row = conversionRow(f, goalId, { order_id: 'PLAN-1', dedupe_key: 'o:PLAN-1' });
  const { db, seen, as } = recorder();
  const now = new Date().toISOString();
  as('config epoch', () => configEpochStatement(db).bind());
  as('advertiser by key hash', () => advertiserByKeyHashStatement(db, 'f'.repeat(64)));
  as('offer', () => selectOfferStatement(db, f.offerId));
  as('goals and rules', () => goalsWithRulesStatements(db, [f.offerId]));
  as('publisher', () => selectPublisherStatement(db, f.publisherId));
  as('conversions by key', () => conversionsByKeysStatement(db, f.offerId, ['o:PLAN-1', 'c:click']));
  as('tier counts', () => tierCountsStatement(db, f.offerId, f.publisherId, now));
  as('exchange rate', () => rateIntoOfferStatement(db, 'USD', f.offerId, now));
  as('conditional insert', () => insertConversionIfCurrentStatement(db, row, 'token', ['o:PLAN-1']));
  as('event', () => insertEventIfConversionStatement(db, conversionEventRow(row)));
  as('deliveries', () =>
    insertDeliveriesForEventStatement(
      db,
      'dlv_plan',
      {
        id: `ev_${row.id}`,
        conversion_id: row.id,
        type: 'conversion.created',
        offer_id: f.offerId,
        publisher_id: f.publisherId,
      },
      now,
    ),
  );
  as('daily rollup', () =>
    addConversionStatsStatement(
      db,
      { day: now.slice(0, 10), offer_id: f.offerId, publisher_id: f.publisherId, currency: 'EUR' },
      { pending: 1 },
      row.id,
    ),
  );
  as('quarter rollup', () =>
    addQuarterConversionStatsStatement(
      db,
      { quarter: 0, offer_id: f.offerId, publisher_id: f.publisherId, currency: 'EUR' },
      { pending: 1 },
      row.id,
    ),
  );
  as('cap count', () => countConversionStatement(db, row, periodKeys(Date.now(), 'UTC')));
  as('log row', () =>
    insertPostbackLogIfConversionStatement(db, {
      received_at: now,
      method: 'GET',
      profile: 'canonical',
      ip_prefix: null,
      advertiser_id: f.advertiserId,
      offer_id: f.offerId,
      click_id: null,
      order_id: 'PLAN-1',
      conversion_id: row.id,
      params: '{}',
      outcome: 'created',
      http_status: 200,
      error_code: null,
      error_message: null,
    }),
  );
  return { statements: seen, offerId: f.offerId };
}

const TABLES = [
  'conversions',
  'advertisers',
  'conversion_events',
  'deliveries',
  'postback_log',
  'endpoints',
  'payout_rules',
  'caps',
];
const walks = (plan: string) => TABLES.filter((t) => new RegExp(`^SCAN ${t}\\b`, 'm').test(plan));

describe('postback statements', () => {
  it('find their rows through indexes', async () => {
    const { statements } = await postbackStatements();
    expect(statements.length).toBeGreaterThanOrEqual(16);
    for (const statement of statements) {
      expect(walks(await planOf(statement)), statement.name).toEqual([]);
    }
    const byKey = statements.find((s) => s.name === 'conversions by key') as Recorded;
    expect(await planOf(byKey)).toMatch(
      /SEARCH c USING INDEX sqlite_autoindex_conversions_\d \(offer_id=\? AND goal_id=\? AND dedupe_key=\?\)/,
    );
    const tiers = statements.find((s) => s.name === 'tier counts') as Recorded;
    expect(await planOf(tiers)).toMatch(/conversions_publisher_time \(publisher_id=\? AND created_at>\?\)/);
  });

  it('keep those indexes once SQLite has statistics about an offer with many conversions', async () => {
    const { statements, offerId } = await postbackStatements();
    const goalId = await goalIdOf(offerId, 'lead');
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
       INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, dedupe_key, status, currency,
         amount, payout_currency, revenue, payout, profile, created_at, updated_at)
       SELECT 'cv_plan_' || i, o.id, ?2, o.advertiser_id, (SELECT MIN(id) FROM publishers), 'o:bulk-' || i, 'pending', 'EUR',
         0, 'EUR', 500, 200, 'canonical', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || i || ' minutes'),
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       FROM n, offers o WHERE o.id = ?1`,
    )
      .bind(offerId, goalId)
      .run();
    await env.DB.exec('ANALYZE');
    // (A table of a row or two, like this test's advertisers, may rightly be read whole.)
    for (const statement of statements) {
      expect(
        walks(await planOf(statement)).filter((t) => t === 'conversions'),
        statement.name,
      ).toEqual([]);
    }
    const byKey = statements.find((s) => s.name === 'conversions by key') as Recorded;
    expect(await planOf(byKey)).not.toMatch(/conversions_offer_time/);
  });
});
