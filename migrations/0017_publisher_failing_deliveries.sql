-- A publisher's failing deliveries (the portal's delivery log with "Failing only", and its CSV):
-- the newest of each failing status, one range of that status's index here cut at the page size,
-- then merged (scopedDeliveriesSql in src/db/portal.ts). Before, the read sorted every failing
-- delivery of every publisher, or, once ANALYZE had run, every delivery of the publisher; dead
-- deliveries are kept, so both grew without bound. test/api/portal-pages.test.ts checks the plan
-- before and after ANALYZE.
-- Partial, so a delivery that goes from pending to delivered writes no entry here. One index per
-- status rather than one on (publisher_id, status, updated_at) WHERE status IN ('retrying',
-- 'dead'): SQLite uses a partial index only for a WHERE that implies its condition, which
-- `status = 'dead'` does not, whereas any `status IN ('retrying', 'dead')` read does, and that
-- index's statistics changed such a read's plan in test/api/portal-overview.test.ts.
CREATE INDEX deliveries_publisher_retrying ON deliveries (publisher_id, updated_at) WHERE status = 'retrying';
CREATE INDEX deliveries_publisher_dead ON deliveries (publisher_id, updated_at) WHERE status = 'dead';
