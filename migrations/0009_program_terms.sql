-- Program terms (issue 14): private offers with publisher applications, caps with a fallback
-- offer, and smart links. See docs/program-terms.md. Additive only.

-- Where a publisher's clicks go when the offer is closed to them (private and not approved) or
-- capped: another offer first (a real click there, with its own click ID), then fallback_url.
ALTER TABLE offers ADD COLUMN fallback_offer_id INTEGER REFERENCES offers (id);

-- A publisher's application to promote a private offer, and the operator's decision. Rejecting
-- an approved application revokes it; applying again after a rejection reopens it.
CREATE TABLE offer_applications (
  id INTEGER PRIMARY KEY,
  offer_id INTEGER NOT NULL REFERENCES offers (id),
  publisher_id INTEGER NOT NULL REFERENCES publishers (id),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  message TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  decided_at TEXT,
  UNIQUE (offer_id, publisher_id)
);
CREATE INDEX offer_applications_status ON offer_applications (status, id);

-- A cap on an offer: clicks, conversions, payout or revenue (minor units of the offer currency)
-- per period in the operator's TIMEZONE; publisher_id NULL = all publishers together, goal_id
-- NULL = every goal.
CREATE TABLE caps (
  id INTEGER PRIMARY KEY,
  offer_id INTEGER NOT NULL REFERENCES offers (id),
  publisher_id INTEGER REFERENCES publishers (id),
  goal_id INTEGER REFERENCES goals (id),
  metric TEXT NOT NULL CHECK (metric IN ('clicks', 'conversions', 'payout', 'revenue')),
  period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'lifetime')),
  cap_limit INTEGER NOT NULL CHECK (cap_limit > 0),
  created_at TEXT NOT NULL
);
CREATE INDEX caps_offer ON caps (offer_id);

-- What a cap has counted in one period ('2026-11-23', '2026-W48', '2026-11' or 'lifetime').
-- Conversion caps are bumped in the conversion's own transaction; the CHECK is the guard: a
-- conversion that would take a cap past its limit aborts its batch and is stored rejected
-- (reason cap_reached) instead, so concurrent postbacks cannot overshoot. reached_at marks the
-- period in which the cap refused something (or was met exactly); clicks go to the fallback then.
CREATE TABLE cap_counters (
  cap_id INTEGER NOT NULL,
  period_key TEXT NOT NULL,
  value INTEGER NOT NULL DEFAULT 0,
  cap_limit INTEGER NOT NULL,
  rejected INTEGER NOT NULL DEFAULT 0,
  reached_at TEXT,
  PRIMARY KEY (cap_id, period_key),
  CONSTRAINT cap_within_limit CHECK (value <= cap_limit)
) WITHOUT ROWID;

-- The cap that refused a conversion stored rejected with reason cap_reached.
ALTER TABLE conversions ADD COLUMN cap_id INTEGER;
CREATE INDEX conversions_cap ON conversions (cap_id) WHERE cap_id IS NOT NULL;

-- A smart link /s/:id/:publisherId picks among its rules' offers by weight.
CREATE TABLE smart_links (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- countries: JSON array of ISO 3166 alpha-2 codes, devices: JSON array of device classes; NULL
-- = any.
CREATE TABLE smart_link_rules (
  smart_link_id INTEGER NOT NULL REFERENCES smart_links (id),
  position INTEGER NOT NULL,
  offer_id INTEGER NOT NULL REFERENCES offers (id),
  weight INTEGER NOT NULL CHECK (weight > 0),
  countries TEXT,
  devices TEXT,
  PRIMARY KEY (smart_link_id, position)
) WITHOUT ROWID;
