-- Quarter-hour rollups, so reports can be served in any IANA time zone (issue 15, item 7).
-- Every UTC offset in use is a whole number of quarter hours, so a local day in any zone is an
-- exact run of quarters; the daily tables keep serving UTC (and any range where the zone is at
-- offset 0), the quarter tables serve every other zone. Measured sizes and the choice over hourly
-- buckets: docs/dashboard.md, "Report days in the operator's time zone".
--
-- `quarter` is the UTC instant divided into 15-minute steps: unixepoch(time) / 900. WITHOUT
-- ROWID: the primary key is the table, one b-tree entry (and one row written) per bucket.

CREATE TABLE quarter_click_stats (
  quarter INTEGER NOT NULL,
  offer_id INTEGER NOT NULL,
  publisher_id INTEGER NOT NULL,
  clicks INTEGER NOT NULL DEFAULT 0,
  unique_clicks INTEGER NOT NULL DEFAULT 0,
  bot_clicks INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (quarter, offer_id, publisher_id)
) WITHOUT ROWID;

CREATE TABLE quarter_conversion_stats (
  quarter INTEGER NOT NULL,
  offer_id INTEGER NOT NULL,
  publisher_id INTEGER NOT NULL,
  currency TEXT NOT NULL,
  pending INTEGER NOT NULL DEFAULT 0,
  approved INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  reversed INTEGER NOT NULL DEFAULT 0,
  revenue_pending INTEGER NOT NULL DEFAULT 0,
  revenue_approved INTEGER NOT NULL DEFAULT 0,
  payout_pending INTEGER NOT NULL DEFAULT 0,
  payout_approved INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (quarter, offer_id, publisher_id, currency)
) WITHOUT ROWID;

-- Backfill from the rows still stored. Clicks in D1 only: partitions start empty here (they are
-- switched on after this migration) and clicks already purged by retention keep only their UTC
-- day, so a zoned report before this migration covers the clicks still held in D1.
INSERT INTO quarter_click_stats (quarter, offer_id, publisher_id, clicks, unique_clicks, bot_clicks)
SELECT unixepoch(clicked_at) / 900, offer_id, publisher_id, SUM(is_bot = 0), SUM(is_unique), SUM(is_bot)
FROM clicks GROUP BY 1, 2, 3;

INSERT INTO quarter_conversion_stats (quarter, offer_id, publisher_id, currency, pending, approved, rejected,
  reversed, revenue_pending, revenue_approved, payout_pending, payout_approved)
SELECT unixepoch(created_at) / 900, offer_id, publisher_id, payout_currency,
  SUM(status = 'pending'), SUM(status = 'approved'), SUM(status = 'rejected'), SUM(status = 'reversed'),
  SUM(CASE status WHEN 'pending' THEN revenue ELSE 0 END), SUM(CASE status WHEN 'approved' THEN revenue ELSE 0 END),
  SUM(CASE status WHEN 'pending' THEN payout ELSE 0 END), SUM(CASE status WHEN 'approved' THEN payout ELSE 0 END)
FROM conversions GROUP BY 1, 2, 3, 4;
