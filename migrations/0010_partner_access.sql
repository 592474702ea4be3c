-- Partner access (issue 16): scoped API keys, people with passwords and sessions, sign-in
-- throttling and the audit log. Additive only. Secrets (keys, invitation tokens, session ids)
-- are stored as SHA-256 hex of a random value: they are high-entropy, so a plain hash is a safe
-- lookup key, and a leaked table grants nothing.

-- One API key: sent as `Authorization: Bearer <key>` to /api/v1. The role fixes the scope;
-- a publisher or advertiser key names its party, an operator key names none.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('operator', 'publisher', 'advertiser')),
  publisher_id INTEGER REFERENCES publishers (id),
  advertiser_id INTEGER REFERENCES advertisers (id),
  name TEXT,
  key_hash TEXT NOT NULL UNIQUE,
  -- The key's first characters, shown in lists so a person can tell keys apart.
  prefix TEXT NOT NULL,
  -- Audit label of whoever created it ("token", "key 3", "user 7 <a@b.c>").
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT,
  CHECK ((role = 'publisher') = (publisher_id IS NOT NULL)),
  CHECK ((role = 'advertiser') = (advertiser_id IS NOT NULL))
);
CREATE INDEX api_keys_publisher ON api_keys (publisher_id) WHERE publisher_id IS NOT NULL;
CREATE INDEX api_keys_advertiser ON api_keys (advertiser_id) WHERE advertiser_id IS NOT NULL;

-- A person who signs in to /portal. Invited first (no password), active once the invitation
-- is used. Operators can be people too.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  role TEXT NOT NULL CHECK (role IN ('operator', 'publisher', 'advertiser')),
  publisher_id INTEGER REFERENCES publishers (id),
  advertiser_id INTEGER REFERENCES advertisers (id),
  -- 'pbkdf2-sha256$<iterations>$<salt>$<hash>' (base64url); NULL until the invitation is used.
  password_hash TEXT,
  status TEXT NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active', 'disabled')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK ((role = 'publisher') = (publisher_id IS NOT NULL)),
  CHECK ((role = 'advertiser') = (advertiser_id IS NOT NULL))
);

-- Single-use invitation links; expires_at is 7 days after creation.
CREATE TABLE invitations (
  token_hash TEXT NOT NULL PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
) WITHOUT ROWID;
CREATE INDEX invitations_user ON invitations (user_id);

-- Server-side portal sessions; the cookie holds the random id, the row its hash. csrf_secret is
-- the token every form of the session carries.
CREATE TABLE sessions (
  id_hash TEXT NOT NULL PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  csrf_secret TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins per subject ('account:<email>' or 'address:<network prefix>'): after a few
-- free failures each further one doubles a waiting window, capped, so a guesser is slowed to a
-- crawl and the owner is never locked out for good. A success clears the account's row.
CREATE TABLE sign_in_attempts (
  subject TEXT NOT NULL PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_failure_at TEXT NOT NULL,
  blocked_until TEXT
) WITHOUT ROWID;

-- Every change to configuration, keys, users and conversion status: who, what, when, and the
-- resource before and after (JSON, secrets left out).
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  -- 'token' (ADMIN_TOKEN), 'key' (an API key), 'user' (a portal session) or 'system'.
  actor_kind TEXT NOT NULL CHECK (actor_kind IN ('token', 'key', 'user', 'system')),
  actor_id TEXT,
  actor_label TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  resource_id TEXT,
  before TEXT,
  after TEXT
);
CREATE INDEX audit_log_resource ON audit_log (resource, resource_id, id);

-- An advertiser's conversions, newest first (portal and advertiser keys): without it the read
-- walks conversions_time and filters every row.
CREATE INDEX conversions_advertiser_time ON conversions (advertiser_id, created_at);
