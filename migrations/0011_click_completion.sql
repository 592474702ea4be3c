-- Complete click data for fast conversions (issue 13 item 1): a conversion posted before its
-- click row landed is stored with click_data = 'pending' and its deliveries held; the clicks
-- consumer completes it when the click lands (sub IDs and click source data into the row and
-- its event snapshots), or a sweep delivers it after two minutes with click_data = 'missing'.
-- NULL: the click data was there at creation (or the conversion has no click).
ALTER TABLE conversions ADD COLUMN click_data TEXT CHECK (click_data IN ('pending', 'missing'));

-- The sweep's read: only waiting conversions are in it, so it stays a handful of rows. The
-- consumer's read (waiting conversions of a batch's click IDs) uses conversions_click.
CREATE INDEX conversions_click_pending ON conversions (created_at) WHERE click_data = 'pending';

-- Click retention drops whole partitions (src/clicks/retention.ts); the clicks that led to a
-- conversion are copied to the D1 clicks table first. This index finds them by click time, one
-- range read per dropped week (an index row per conversion with a click, none per click).
CREATE INDEX conversions_click_time ON conversions (click_time) WHERE click_id IS NOT NULL;
