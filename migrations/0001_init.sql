-- Clickhop schema v1: the whole tracking domain.
-- Conventions: money is INTEGER minor units beside a currency column (ISO 4217); time is TEXT,
-- UTC ISO 8601 with milliseconds ('2026-11-23T10:15:00.000Z'), so it sorts as it reads; JSON
-- lists are TEXT holding a JSON array; booleans are INTEGER 0/1. Planned features (payout
-- overrides, caps, click-to-conversion limits, private offers, smart links) are additive: new
-- rows in payout_rules, new tables keyed by offer/publisher, new nullable columns.

CREATE TABLE advertisers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
  -- SHA-256 (hex) of the postback key; the key itself is shown once, at creation or rotation.
  postback_key_hash TEXT NOT NULL,
  -- JSON array of CIDRs allowed to call the postback URL; NULL or [] = any address.
  ip_allowlist TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE offers (
  id INTEGER PRIMARY KEY,
  advertiser_id INTEGER NOT NULL REFERENCES advertisers (id),
  name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
  -- 'public': any active publisher may send traffic; 'private' is reserved for approval flows.
  visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
  landing_url TEXT NOT NULL,
  -- Query parameter that carries the click ID when landing_url has no {click_id} macro.
  click_param TEXT NOT NULL DEFAULT 'click_id',
  deep_link_hosts TEXT NOT NULL DEFAULT '[]',
  fallback_url TEXT,
  currency TEXT NOT NULL,
  attribution_window_days INTEGER NOT NULL DEFAULT 30 CHECK (attribution_window_days BETWEEN 1 AND 365),
  allow_publisher_postback INTEGER NOT NULL DEFAULT 0 CHECK (allow_publisher_postback IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX offers_advertiser ON offers (advertiser_id);

-- A goal is one kind of conversion of an offer (lead, sale, install...), addressed by its key.
CREATE TABLE goals (
  id INTEGER PRIMARY KEY,
  offer_id INTEGER NOT NULL REFERENCES offers (id),
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  -- Without an order ID, a click converts once per goal unless repeats are allowed.
  allow_repeats INTEGER NOT NULL DEFAULT 0 CHECK (allow_repeats IN (0, 1)),
  -- Status a new conversion gets when the postback sends none.
  default_status TEXT NOT NULL DEFAULT 'pending' CHECK (default_status IN ('pending', 'approved')),
  created_at TEXT NOT NULL,
  UNIQUE (offer_id, key)
);

-- What a conversion earns (revenue, from the advertiser) and pays (payout, to the publisher):
-- fixed minor units plus a percentage (basis points: 1000 = 10%) of the sale amount.
-- commission_group NULL = the goal's base rule; a named group prices products of that group.
-- publisher_id NULL = every publisher; a row with a publisher_id is that publisher's override.
CREATE TABLE payout_rules (
  id INTEGER PRIMARY KEY,
  goal_id INTEGER NOT NULL REFERENCES goals (id),
  publisher_id INTEGER REFERENCES publishers (id),
  commission_group TEXT,
  revenue_fixed INTEGER NOT NULL DEFAULT 0 CHECK (revenue_fixed >= 0),
  revenue_percent_bp INTEGER NOT NULL DEFAULT 0 CHECK (revenue_percent_bp BETWEEN 0 AND 1000000),
  payout_fixed INTEGER NOT NULL DEFAULT 0 CHECK (payout_fixed >= 0),
  payout_percent_bp INTEGER NOT NULL DEFAULT 0 CHECK (payout_percent_bp BETWEEN 0 AND 1000000),
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX payout_rules_unique
  ON payout_rules (goal_id, COALESCE(publisher_id, 0), COALESCE(commission_group, ''));

CREATE TABLE publishers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- One row per click, written by the clicks consumer. click_id is the signed ID itself.
CREATE TABLE clicks (
  click_id TEXT PRIMARY KEY,
  clicked_at TEXT NOT NULL,
  offer_id INTEGER NOT NULL,
  publisher_id INTEGER NOT NULL,
  sub1 TEXT, sub2 TEXT, sub3 TEXT, sub4 TEXT, sub5 TEXT,
  deep_link TEXT,
  referrer TEXT,
  search_engine TEXT,
  search_phrase TEXT,
  country TEXT,
  region TEXT,
  city TEXT,
  colo TEXT,
  asn INTEGER,
  user_agent TEXT,
  device TEXT,
  -- IPv4 /24 or IPv6 /48 network, never the full address.
  ip_prefix TEXT,
  -- Keyed hash of IP + user agent: identifies a repeat visitor without storing the IP.
  visitor_hash TEXT NOT NULL,
  is_bot INTEGER NOT NULL DEFAULT 0,
  is_unique INTEGER NOT NULL DEFAULT 1,
  -- Consumer invocation that inserted the row; lets the same transaction roll up exactly the
  -- rows it inserted (a redelivered message inserts nothing and bumps nothing).
  ingest_batch TEXT NOT NULL
);
CREATE INDEX clicks_visitor ON clicks (offer_id, publisher_id, visitor_hash, clicked_at);
CREATE INDEX clicks_time ON clicks (clicked_at);
CREATE INDEX clicks_publisher_time ON clicks (publisher_id, clicked_at);
CREATE INDEX clicks_batch ON clicks (ingest_batch);

CREATE TABLE conversions (
  id TEXT PRIMARY KEY,
  offer_id INTEGER NOT NULL REFERENCES offers (id),
  goal_id INTEGER NOT NULL REFERENCES goals (id),
  advertiser_id INTEGER NOT NULL REFERENCES advertisers (id),
  publisher_id INTEGER NOT NULL REFERENCES publishers (id),
  -- NULL for the affiliate-ID protocol (no click).
  click_id TEXT,
  click_time TEXT,
  order_id TEXT,
  -- Uniqueness key within (offer, goal): 'o:<order_id>', 'c:<click_id>' or 'r:<random>'.
  dedupe_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'reversed')),
  -- Sale amount as reported, in its own currency (0 for a lead without an amount).
  currency TEXT NOT NULL,
  amount INTEGER NOT NULL DEFAULT 0,
  -- Revenue and payout, in payout_currency (the offer's currency).
  payout_currency TEXT NOT NULL,
  revenue INTEGER NOT NULL DEFAULT 0,
  payout INTEGER NOT NULL DEFAULT 0,
  voucher TEXT,
  description TEXT,
  products TEXT,
  sub1 TEXT, sub2 TEXT, sub3 TEXT, sub4 TEXT, sub5 TEXT,
  -- Postback profile that created it: 'canonical', 'hasoffers', 'tradetracker', 'admin'.
  source TEXT NOT NULL,
  -- JSON array of flags raised by checks that do not refuse (e.g. time limits), NULL if none.
  flags TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (offer_id, goal_id, dedupe_key)
);
CREATE INDEX conversions_click ON conversions (click_id);
CREATE INDEX conversions_time ON conversions (created_at);
CREATE INDEX conversions_publisher_time ON conversions (publisher_id, created_at);
CREATE INDEX conversions_offer_time ON conversions (offer_id, created_at);
CREATE INDEX conversions_status_time ON conversions (status, created_at);

-- Everything that happened to a conversion: creation and each status change, with who did it
-- and a frozen snapshot of the notification payload, so every delivery of an event sends the
-- same data however often it is retried.
CREATE TABLE conversion_events (
  id TEXT PRIMARY KEY,
  conversion_id TEXT NOT NULL REFERENCES conversions (id),
  type TEXT NOT NULL CHECK (type IN ('conversion.created', 'conversion.approved', 'conversion.rejected', 'conversion.reversed')),
  from_status TEXT,
  to_status TEXT NOT NULL,
  -- 'postback' (advertiser), 'admin' (operator) or 'system'.
  actor TEXT NOT NULL,
  reason TEXT,
  snapshot TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX conversion_events_conversion ON conversion_events (conversion_id, created_at);

-- Every postback request, accepted or refused, for dispute resolution. Secrets redacted.
CREATE TABLE postback_log (
  id INTEGER PRIMARY KEY,
  received_at TEXT NOT NULL,
  method TEXT NOT NULL,
  profile TEXT NOT NULL,
  ip_prefix TEXT,
  advertiser_id INTEGER,
  offer_id INTEGER,
  click_id TEXT,
  order_id TEXT,
  conversion_id TEXT,
  params TEXT NOT NULL,
  -- 'created', 'duplicate', 'updated' or 'refused'.
  outcome TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  error_code TEXT,
  error_message TEXT
);
CREATE INDEX postback_log_time ON postback_log (received_at);
CREATE INDEX postback_log_advertiser_time ON postback_log (advertiser_id, received_at);
CREATE INDEX postback_log_conversion ON postback_log (conversion_id);

-- A publisher's server that wants conversion events.
CREATE TABLE endpoints (
  id INTEGER PRIMARY KEY,
  publisher_id INTEGER NOT NULL REFERENCES publishers (id),
  url TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('GET', 'POST')),
  format TEXT NOT NULL CHECK (format IN ('query', 'json', 'form')),
  -- For format 'form': NULL = flat fields; a name = one field holding the JSON payload.
  form_field TEXT,
  events TEXT NOT NULL,
  -- JSON array of offer ids; NULL = every offer.
  offer_ids TEXT,
  include_products INTEGER NOT NULL DEFAULT 0 CHECK (include_products IN (0, 1)),
  include_click_data INTEGER NOT NULL DEFAULT 0 CHECK (include_click_data IN (0, 1)),
  signing_secret TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX endpoints_publisher ON endpoints (publisher_id);

-- One notification of one event to one endpoint. id is the stable idempotency key (webhook-id).
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL REFERENCES conversion_events (id),
  conversion_id TEXT NOT NULL REFERENCES conversions (id),
  endpoint_id INTEGER NOT NULL REFERENCES endpoints (id),
  event_type TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_attempt_at TEXT,
  last_status_code INTEGER,
  last_error TEXT,
  delivered_at TEXT,
  -- When a queue message for it was last handed to the notifications Queue (reconciliation).
  enqueued_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX deliveries_conversion ON deliveries (conversion_id);
CREATE INDEX deliveries_endpoint_time ON deliveries (endpoint_id, created_at);
CREATE INDEX deliveries_status_time ON deliveries (status, updated_at);

CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES deliveries (id),
  attempt INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  request_method TEXT NOT NULL,
  request_url TEXT NOT NULL,
  status_code INTEGER,
  latency_ms INTEGER,
  response_snippet TEXT,
  error TEXT,
  UNIQUE (delivery_id, attempt)
);

-- Daily rollups (UTC days), maintained in the same transaction as the rows they count, so
-- reports cost the same however many raw clicks there are.
CREATE TABLE daily_click_stats (
  day TEXT NOT NULL,
  offer_id INTEGER NOT NULL,
  publisher_id INTEGER NOT NULL,
  clicks INTEGER NOT NULL DEFAULT 0,
  unique_clicks INTEGER NOT NULL DEFAULT 0,
  bot_clicks INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, offer_id, publisher_id)
);

-- Conversions counted on the day they were created, by current status; a status change moves
-- the conversion's count and money from one status column to another.
CREATE TABLE daily_conversion_stats (
  day TEXT NOT NULL,
  offer_id INTEGER NOT NULL,
  publisher_id INTEGER NOT NULL,
  currency TEXT NOT NULL,
  pending INTEGER NOT NULL DEFAULT 0,
  approved INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  reversed INTEGER NOT NULL DEFAULT 0,
  revenue_pending INTEGER NOT NULL DEFAULT 0,
  revenue_approved INTEGER NOT NULL DEFAULT 0,
  payout_pending INTEGER NOT NULL DEFAULT 0,
  payout_approved INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, offer_id, publisher_id, currency)
);
