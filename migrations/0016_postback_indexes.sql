-- A postback finds its advertiser by the SHA-256 of its key: without an index that read scanned
-- every advertiser on every postback (test/flows/postback-plans.test.ts checks the plan).
CREATE INDEX advertisers_postback_key_hash ON advertisers (postback_key_hash);
