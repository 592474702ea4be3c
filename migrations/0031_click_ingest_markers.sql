-- Ingest markers (click_ingests) lose their time index: an index entry is one more row written
-- for every marker stored and again for every marker purged (D1 bills rows written one by one),
-- while the purge that used it runs once an hour at most (click_ledger_runs) and may scan.
DROP INDEX IF EXISTS click_ingests_time;

-- When a periodic ledger job last ran, so the cron can run it less often than every 5 minutes.
CREATE TABLE click_ledger_runs (
  job TEXT NOT NULL PRIMARY KEY,
  ran_at TEXT NOT NULL
) WITHOUT ROWID;
