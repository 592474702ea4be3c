-- Browser tracking and click-less attribution (issue 23): the tag, the pixel, impressions and
-- view-through. Additive but for one rename (below).

-- Offer settings: browser-originated conversions allowed; hours after an impression within which
-- a click-less browser conversion is attributed to the view (0: no view-through); keep browser
-- conversions pending (never approved automatically).
ALTER TABLE offers ADD COLUMN browser_tracking INTEGER NOT NULL DEFAULT 0 CHECK (browser_tracking IN (0, 1));
ALTER TABLE offers ADD COLUMN view_through_hours INTEGER NOT NULL DEFAULT 0
  CHECK (view_through_hours BETWEEN 0 AND 720);
ALTER TABLE offers ADD COLUMN hold_browser INTEGER NOT NULL DEFAULT 0 CHECK (hold_browser IN (0, 1));

-- conversions.source used to name the postback profile ('canonical', 'hasoffers', 'tradetracker',
-- 'admin'). The contract's `source` says where a conversion came from ('server', 'browser', and
-- 'claim' for accepted claims), so the profile keeps its values under its own name and `source`
-- is a new column. Rows before this migration all came from servers.
ALTER TABLE conversions RENAME COLUMN source TO profile;
ALTER TABLE conversions ADD COLUMN source TEXT NOT NULL DEFAULT 'server';
UPDATE conversions SET source = 'claim' WHERE profile = 'claim';

-- How the conversion was attributed: 'click' (a click ID or the offer_id + publisher_id
-- protocol), 'view_through' (a browser conversion credited to an impression).
ALTER TABLE conversions ADD COLUMN attribution TEXT NOT NULL DEFAULT 'click';

-- Impressions are counted in the rollups only, never a row per impression.
ALTER TABLE daily_click_stats ADD COLUMN impressions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quarter_click_stats ADD COLUMN impressions INTEGER NOT NULL DEFAULT 0;
