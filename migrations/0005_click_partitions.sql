-- Clicks in partitions (Durable Objects, src/clicks): D1 keeps only what the ledger needs.

-- One row per clicks Queue message whose partitioned clicks were rolled up into
-- daily_click_stats: a redelivered message finds its row and adds nothing twice. Purged by the
-- cron once no redelivery can come (days, not the click retention).
CREATE TABLE click_ingests (
  batch_key TEXT NOT NULL PRIMARY KEY,
  ingested_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX click_ingests_time ON click_ingests (ingested_at);

-- The partitions that hold clicks, so lists, exports and retention can enumerate them
-- (period = whole weeks since 1970-01-01, see src/clicks/partition-key.ts).
CREATE TABLE click_partitions (
  period INTEGER NOT NULL,
  shard INTEGER NOT NULL,
  PRIMARY KEY (period, shard)
) WITHOUT ROWID;
