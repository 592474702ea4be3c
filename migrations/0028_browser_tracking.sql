-- Browser tracking and click-less attribution (issue 23): the tag, the pixel, impressions and
-- view-through. Additive.

-- Offer settings: browser-originated conversions allowed; hours after an impression within which
-- a click-less browser conversion is attributed to the view (0: no view-through); keep browser
-- conversions pending (never approved automatically).
ALTER TABLE offers ADD COLUMN browser_tracking INTEGER NOT NULL DEFAULT 0 CHECK (browser_tracking IN (0, 1));
ALTER TABLE offers ADD COLUMN view_through_hours INTEGER NOT NULL DEFAULT 0
  CHECK (view_through_hours BETWEEN 0 AND 720);
ALTER TABLE offers ADD COLUMN hold_browser INTEGER NOT NULL DEFAULT 0 CHECK (hold_browser IN (0, 1));

-- A conversion's `source` (server, browser, claim) beside its `profile`, and its `attribution`
-- (click, affiliate, coupon, view_through), are columns of migration 0029: one rename of
-- conversions.source to profile, made there.

-- Impressions are counted in the rollups only, never a row per impression.
ALTER TABLE daily_click_stats ADD COLUMN impressions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quarter_click_stats ADD COLUMN impressions INTEGER NOT NULL DEFAULT 0;
