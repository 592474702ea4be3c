-- Six sub IDs end to end (issue 13 item 3): a conversion keeps its click's creative ids (Awin's
-- bannerId and groupId) beside sub6 (0007), so every event snapshot of it, status changes
-- included, carries them without reading the click again.
ALTER TABLE conversions ADD COLUMN creative_id INTEGER;
ALTER TABLE conversions ADD COLUMN creative_group_id INTEGER;
