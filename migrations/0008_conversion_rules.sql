-- Conversion rules (issue 15): per-publisher payouts with a validity window, volume tiers,
-- click-to-conversion time rules, validation periods, fraud holds, adjustments and exchange
-- rates. See docs/conversion-rules.md. Additive but for conversion_events, whose type CHECK
-- must admit conversion.modified (SQLite cannot alter a CHECK: the table is rebuilt).

-- A per-publisher payout rule (publisher_id NOT NULL) is in force from starts_at (inclusive)
-- to ends_at (exclusive); NULL = open-ended. It overrides the payout, never the revenue.
ALTER TABLE payout_rules ADD COLUMN starts_at TEXT;
ALTER TABLE payout_rules ADD COLUMN ends_at TEXT;

-- Volume tiers of a goal's base payout: JSON [{"min_conversions", "payout_fixed",
-- "payout_percent_bp"}] sorted by min_conversions; counted per publisher over tier_period.
ALTER TABLE goals ADD COLUMN tiers TEXT;
ALTER TABLE goals ADD COLUMN tier_period TEXT CHECK (tier_period IN ('month'));
-- Days after which a pending conversion is approved by the cron; NULL = manual approval only.
ALTER TABLE goals ADD COLUMN validation_days INTEGER CHECK (validation_days BETWEEN 0 AND 365);

-- Click-to-conversion time limits, measured from the signed click time in the click ID.
ALTER TABLE offers ADD COLUMN min_seconds_to_convert INTEGER CHECK (min_seconds_to_convert >= 0);
ALTER TABLE offers ADD COLUMN max_seconds_to_convert INTEGER CHECK (max_seconds_to_convert >= 0);
ALTER TABLE offers ADD COLUMN time_rule TEXT NOT NULL DEFAULT 'flag' CHECK (time_rule IN ('flag', 'reject'));
-- 1: a flagged conversion starts pending and is never approved by the validation period.
ALTER TABLE offers ADD COLUMN hold_flagged INTEGER NOT NULL DEFAULT 0 CHECK (hold_flagged IN (0, 1));

-- Why a conversion has its status when a rule decided it ('too_fast', 'too_slow', later
-- 'cap_reached'); NULL when the advertiser or operator decided.
ALTER TABLE conversions ADD COLUMN reason TEXT;
-- The terms the conversion was priced under, frozen at creation (JSON, src/conversions/terms.ts):
-- the rule that won and its amounts, so an adjustment reprices with the same rates.
ALTER TABLE conversions ADD COLUMN pricing TEXT;
-- Units of payout_currency per unit of currency used to price a sale in another currency
-- (decimal text, as entered); NULL when the sale was in the offer's currency.
ALTER TABLE conversions ADD COLUMN exchange_rate TEXT;
-- The validation-period cron looks for old pending conversions; conversions_status_time serves it.

-- Dated exchange-rate history: 1 unit of base = rate units of quote from valid_from on.
CREATE TABLE exchange_rates (
  base TEXT NOT NULL,
  quote TEXT NOT NULL,
  valid_from TEXT NOT NULL,
  rate TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (base, quote, valid_from)
) WITHOUT ROWID;

-- conversion_events: admit conversion.modified (an adjustment of amount or products).
PRAGMA defer_foreign_keys = on;
CREATE TABLE conversion_events_new (
  id TEXT PRIMARY KEY,
  conversion_id TEXT NOT NULL REFERENCES conversions (id),
  type TEXT NOT NULL CHECK (type IN ('conversion.created', 'conversion.approved', 'conversion.rejected',
    'conversion.reversed', 'conversion.modified')),
  from_status TEXT,
  to_status TEXT NOT NULL,
  -- 'postback' (advertiser), 'admin' (operator) or 'system'.
  actor TEXT NOT NULL,
  reason TEXT,
  snapshot TEXT NOT NULL,
  created_at TEXT NOT NULL
);
INSERT INTO conversion_events_new SELECT id, conversion_id, type, from_status, to_status, actor, reason, snapshot, created_at
  FROM conversion_events;
DROP TABLE conversion_events;
ALTER TABLE conversion_events_new RENAME TO conversion_events;
CREATE INDEX conversion_events_conversion ON conversion_events (conversion_id, created_at);
PRAGMA defer_foreign_keys = off;
