-- Seed fidelity (issue 13): the networks' wire formats. Additive for every reader: endpoints
-- gain the xml format, a preset and a body template; commission groups become objects; clicks
-- and conversions gain a sixth sub ID and the creative ids Awin sends as bannerId/groupId.

-- endpoints.format's CHECK cannot be altered in place, so the table is rebuilt with the same
-- columns (ids kept) and 'xml' allowed. Deliveries reference endpoints by id: with the check
-- deferred to the end of the migration the references resolve to the rebuilt table.
PRAGMA defer_foreign_keys = on;

CREATE TABLE endpoints_new (
  id INTEGER PRIMARY KEY,
  publisher_id INTEGER NOT NULL REFERENCES publishers (id),
  url TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('GET', 'POST')),
  format TEXT NOT NULL CHECK (format IN ('query', 'json', 'form', 'xml')),
  -- For format 'form': NULL = flat fields; a name = one field holding the JSON payload.
  form_field TEXT,
  events TEXT NOT NULL,
  offer_ids TEXT,
  include_products INTEGER NOT NULL DEFAULT 0 CHECK (include_products IN (0, 1)),
  include_click_data INTEGER NOT NULL DEFAULT 0 CHECK (include_click_data IN (0, 1)),
  signing_secret TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  previous_signing_secret TEXT,
  previous_secret_expires_at TEXT,
  -- A network's exact payload ('awin': one form field AwinTransactionPush with Awin's JSON);
  -- NULL = Clickhop's own payload in the chosen format.
  preset TEXT CHECK (preset IS NULL OR preset IN ('awin')),
  -- POST formats: the body written by the receiver, with macros escaped for the content type.
  body_template TEXT
);

INSERT INTO endpoints_new (
  id, publisher_id, url, method, format, form_field, events, offer_ids, include_products,
  include_click_data, signing_secret, status, disabled_reason, created_at, updated_at,
  previous_signing_secret, previous_secret_expires_at
)
SELECT
  id, publisher_id, url, method, format, form_field, events, offer_ids, include_products,
  include_click_data, signing_secret, status, disabled_reason, created_at, updated_at,
  previous_signing_secret, previous_secret_expires_at
FROM endpoints;

DROP TABLE endpoints;
ALTER TABLE endpoints_new RENAME TO endpoints;
CREATE INDEX endpoints_publisher ON endpoints (publisher_id);

-- Commission groups as objects (Awin's commissionGroups: id, name, code, description). A
-- payout rule still names its group by code; every code a rule uses has a row here, so a
-- group's id is stable from the first rule that names it.
CREATE TABLE commission_groups (
  id INTEGER PRIMARY KEY,
  offer_id INTEGER NOT NULL REFERENCES offers (id),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (offer_id, code)
);

INSERT OR IGNORE INTO commission_groups (offer_id, code, name, created_at)
SELECT g.offer_id, r.commission_group, r.commission_group, MIN(r.created_at)
FROM payout_rules r JOIN goals g ON g.id = r.goal_id
WHERE r.commission_group IS NOT NULL
GROUP BY g.offer_id, r.commission_group;

-- Rules written later (admin API, any path) create their group the same way.
CREATE TRIGGER payout_rules_commission_group AFTER INSERT ON payout_rules
WHEN NEW.commission_group IS NOT NULL
BEGIN
  INSERT OR IGNORE INTO commission_groups (offer_id, code, name, created_at)
  SELECT g.offer_id, NEW.commission_group, NEW.commission_group, NEW.created_at FROM goals g WHERE g.id = NEW.goal_id;
END;

-- Six sub IDs (Awin's clickRef..clickRef6) and the creative ids (Awin's bannerId and groupId).
ALTER TABLE clicks ADD COLUMN sub6 TEXT;
ALTER TABLE clicks ADD COLUMN creative_id INTEGER;
ALTER TABLE clicks ADD COLUMN creative_group_id INTEGER;
ALTER TABLE conversions ADD COLUMN sub6 TEXT;
