-- Hardening (issue 18).

-- Keyless (IP-only) postback authentication is an explicit advertiser setting, allowed only with
-- a non-empty IP allow-list. It used to follow from the allow-list alone; existing advertisers
-- get 0 (keys required), the safe default: an advertiser that really posts without a key (a
-- TradeTracker callback URL) is turned back on with PATCH /api/v1/advertisers/:id
-- {"keyless_ip_auth": true} (see docs/security.md).
ALTER TABLE advertisers ADD COLUMN keyless_ip_auth INTEGER NOT NULL DEFAULT 0 CHECK (keyless_ip_auth IN (0, 1));

-- How much of a request's parameters the postback log did not keep, as {"fields":n,"bytes":m};
-- NULL when everything was kept. Refused requests are stored compactly (a few KB at most).
ALTER TABLE postback_log ADD COLUMN truncated TEXT;

-- Retention deletes the oldest delivery attempts in bounded batches (the postback log already
-- has postback_log_time).
CREATE INDEX delivery_attempts_time ON delivery_attempts (started_at);
