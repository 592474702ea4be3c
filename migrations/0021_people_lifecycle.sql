-- People lifecycle (issue 22): who minted each API key, password reset links, and the optional
-- TOTP second factor (RFC 6238) with single-use recovery codes, required per role by the operator.
-- Additive only.

-- The person who minted a key from a portal session (NULL for the admin token or another key),
-- so disabling or deleting that person can list the keys left behind. No foreign key: deleting
-- the person sets it to NULL (a later person may get the same id) and created_by keeps the label.
ALTER TABLE api_keys ADD COLUMN created_by_user_id INTEGER;
-- Keys minted before this column existed carry the person in their label: "user 7 <a@b.example>".
UPDATE api_keys
SET created_by_user_id = CAST(substr(created_by, 6, instr(created_by, ' <') - 6) AS INTEGER)
WHERE created_by LIKE 'user % <%';
CREATE INDEX api_keys_created_by_user ON api_keys (created_by_user_id) WHERE created_by_user_id IS NOT NULL;

-- An invitation link sets the first password; a reset link (made by the operator) sets a new one
-- and ends the person's sessions. Both are single use and expire. remove_totp: using the reset
-- link also removes the person's second factor (a lost phone).
ALTER TABLE invitations ADD COLUMN purpose TEXT NOT NULL DEFAULT 'invite' CHECK (purpose IN ('invite', 'reset'));
ALTER TABLE invitations ADD COLUMN remove_totp INTEGER NOT NULL DEFAULT 0 CHECK (remove_totp IN (0, 1));

-- TOTP: the shared secret, AES-GCM encrypted under a key derived from CLICK_ID_SECRET
-- ("v1:<key id>:<base64url iv+ciphertext>"); enabled once a first code confirmed it (a secret
-- without totp_enabled_at is an enrolment in progress). totp_last_step is the last time step a
-- code was accepted for: a code is good once.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

-- Ten single-use recovery codes per enrolment, stored as SHA-256 of user id and code.
CREATE TABLE totp_recovery_codes (
  user_id INTEGER NOT NULL REFERENCES users (id),
  code_hash TEXT NOT NULL,
  used_at TEXT,
  PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;

-- The step between a right password and a session: the code of an enrolled person, or the
-- enrolment of a person whose role requires a second factor. The cookie holds a random id, the
-- row its hash; it lasts minutes. No session exists until it is passed, so no other page opens.
CREATE TABLE sign_in_challenges (
  id_hash TEXT NOT NULL PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  purpose TEXT NOT NULL CHECK (purpose IN ('totp', 'enrol')),
  csrf_secret TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sign_in_challenges_user ON sign_in_challenges (user_id);

-- Roles whose people must use a second factor (set by the operator: PUT /api/v1/settings/totp).
CREATE TABLE totp_required_roles (
  role TEXT NOT NULL PRIMARY KEY CHECK (role IN ('operator', 'publisher', 'advertiser')),
  required_since TEXT NOT NULL
) WITHOUT ROWID;
