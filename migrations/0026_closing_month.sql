-- Closing the month (docs/closing-the-month.md): bulk validation jobs and publishers' claims.

-- A bulk validation file accepted for applying (a dry run stores nothing). Its rows live in
-- chunks of at most 50 rows and 64 KB of JSON, each applied by one Queue message (or inline for
-- a small file), so no invocation goes past D1's 1,000 queries and no row past 2 MB.
CREATE TABLE validations (
  id TEXT PRIMARY KEY,
  -- The advertiser whose key or person sent it (its scope); NULL for the operator.
  advertiser_id INTEGER REFERENCES advertisers (id),
  -- Who sent it, as the audit log names them (JSON: role, party ids, actor kind/id/label).
  principal TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('csv', 'json')),
  rows_total INTEGER NOT NULL,
  chunks_total INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done')),
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX validations_advertiser_time ON validations (advertiser_id, created_at);
CREATE INDEX validations_time ON validations (created_at);

CREATE TABLE validation_chunks (
  validation_id TEXT NOT NULL REFERENCES validations (id),
  seq INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
  -- JSON array of the rows as read and planned at acceptance.
  rows TEXT NOT NULL,
  -- JSON array of their outcomes once applied (NULL while pending).
  results TEXT,
  rows_done INTEGER NOT NULL DEFAULT 0,
  changed INTEGER NOT NULL DEFAULT 0,
  unchanged INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (validation_id, seq)
) WITHOUT ROWID;

-- A publisher's claim of a sale the tracking missed (impact's action inquiry, Awin's missing
-- commission claim). Money in minor units of `currency`.
CREATE TABLE claims (
  id INTEGER PRIMARY KEY,
  offer_id INTEGER NOT NULL REFERENCES offers (id),
  advertiser_id INTEGER NOT NULL REFERENCES advertisers (id),
  publisher_id INTEGER NOT NULL REFERENCES publishers (id),
  order_id TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount >= 0),
  currency TEXT NOT NULL,
  transaction_date TEXT NOT NULL,
  click_id TEXT,
  note TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'rejected')),
  -- The conversion an accepted claim created (source 'claim').
  conversion_id TEXT REFERENCES conversions (id),
  -- Why it was rejected.
  reason TEXT,
  decided_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- One open claim per publisher and order of an offer.
CREATE UNIQUE INDEX claims_open_order ON claims (offer_id, order_id, publisher_id) WHERE status = 'open';
CREATE INDEX claims_publisher ON claims (publisher_id, id);
CREATE INDEX claims_advertiser ON claims (advertiser_id, id);

-- The thread of a claim: either party (or the operator) writes; both read.
CREATE TABLE claim_messages (
  id INTEGER PRIMARY KEY,
  claim_id INTEGER NOT NULL REFERENCES claims (id),
  author_role TEXT NOT NULL CHECK (author_role IN ('publisher', 'advertiser', 'operator')),
  message TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX claim_messages_claim ON claim_messages (claim_id, id);
