-- Click-less attribution (coupons, other channels) and store integrations (Stripe, Shopify).

-- `source` was the postback profile that recorded a conversion ('canonical', 'hasoffers', ...);
-- the contract's `source` says where the conversion came from ('server', 'browser', 'claim').
-- The profile keeps its values under its own name; every existing conversion came from a server.
ALTER TABLE conversions RENAME COLUMN source TO profile;
ALTER TABLE conversions ADD COLUMN source TEXT NOT NULL DEFAULT 'server';
-- How the publisher was chosen: 'click', 'affiliate' (offer_id + publisher_id), 'coupon';
-- NULL on rows from before this migration (click when click_id is set, else affiliate).
ALTER TABLE conversions ADD COLUMN attribution TEXT;
-- The claim that lost a click-vs-coupon conflict, in words, or NULL.
ALTER TABLE conversions ADD COLUMN attribution_note TEXT;

-- Whose claim wins when a conversion carries a click of one publisher and another's code.
ALTER TABLE offers ADD COLUMN coupon_policy TEXT NOT NULL DEFAULT 'click_wins'
  CHECK (coupon_policy IN ('click_wins', 'coupon_wins'));
-- JSON array of the `channel` values that mean "an affiliate won this sale"; NULL = the default
-- ["affiliate", "aff"].
ALTER TABLE offers ADD COLUMN affiliate_channels TEXT;

-- Coupon codes of a publisher on an offer; matched case-insensitively (code_key is the code in
-- lower case), unique per offer.
CREATE TABLE coupons (
  id INTEGER PRIMARY KEY,
  offer_id INTEGER NOT NULL REFERENCES offers (id),
  publisher_id INTEGER NOT NULL REFERENCES publishers (id),
  code TEXT NOT NULL,
  code_key TEXT NOT NULL,
  starts_at TEXT,
  ends_at TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (offer_id, code_key)
);
CREATE INDEX coupons_code ON coupons (code_key);
CREATE INDEX coupons_publisher ON coupons (publisher_id, id);

-- Webhook signing secrets of an advertiser's store integrations, sealed (AES-GCM under a key
-- derived from CLICK_ID_SECRET): never answered back.
CREATE TABLE advertiser_integrations (
  advertiser_id INTEGER NOT NULL REFERENCES advertisers (id),
  provider TEXT NOT NULL CHECK (provider IN ('stripe', 'shopify')),
  sealed_secret TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (advertiser_id, provider)
);

-- Provider events already applied (Stripe event id, Shopify webhook id, a refund's id): a
-- replay answers 200 and changes nothing.
CREATE TABLE integration_events (
  provider TEXT NOT NULL,
  advertiser_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (provider, advertiser_id, event_id)
);
CREATE INDEX integration_events_time ON integration_events (created_at);

-- The sale a provider's later events name: Stripe's payment_intent (a refund names the charge's
-- payment intent, not the checkout session), Shopify's order id; with the amount as sold.
CREATE TABLE integration_orders (
  provider TEXT NOT NULL,
  advertiser_id INTEGER NOT NULL,
  ref TEXT NOT NULL,
  conversion_id TEXT NOT NULL REFERENCES conversions (id),
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (provider, advertiser_id, ref)
);

-- Shopify refunds, each counted once: an order's refunded total is their sum.
CREATE TABLE integration_refunds (
  provider TEXT NOT NULL,
  advertiser_id INTEGER NOT NULL,
  refund_id TEXT NOT NULL,
  ref TEXT NOT NULL,
  amount INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (provider, advertiser_id, refund_id)
);
CREATE INDEX integration_refunds_ref ON integration_refunds (provider, advertiser_id, ref);
