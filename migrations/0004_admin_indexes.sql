-- Indexes for admin reads that would otherwise scan a whole table. Additive only.

-- GET /api/v1/clicks?offer_id=: newest first within one offer. Without it SQLite takes
-- clicks_visitor (offer_id, ...) and sorts every click of the offer before returning a page.
-- The page tie-break is the rowid, which every index carries, so no third column is needed.
CREATE INDEX clicks_offer_time ON clicks (offer_id, clicked_at);

-- GET /api/v1/conversions?order_id=: an advertiser's order ID across offers and goals (the
-- UNIQUE (offer_id, goal_id, dedupe_key) index only helps when the offer is known).
CREATE INDEX conversions_order ON conversions (order_id);

-- The click dispute view (GET /api/v1/clicks/:clickId) and GET /api/v1/postbacks?click_id=:
-- every postback request that named a click, including refused ones.
CREATE INDEX postback_log_click ON postback_log (click_id);
