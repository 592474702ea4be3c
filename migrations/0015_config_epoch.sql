-- The postback's config epoch (docs/advertiser-postbacks.md, "The fast path"): one row whose
-- token changes with every write to what a postback is authenticated and priced by. An isolate
-- keeps what it read about an advertiser, offer, goals, payout rules, publisher and exchange rate
-- together with the token of that read, and writes a conversion from memory only on condition
-- that the token is still the same, in the write's own transaction. A random token, not a
-- counter: a database restored to an earlier state (Time Travel, or a test's rolled-back
-- storage) must never show a token an isolate has seen with other contents.
CREATE TABLE config_epoch (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  token TEXT NOT NULL
);
INSERT INTO config_epoch (id, token) VALUES (1, lower(hex(randomblob(12))));

CREATE TRIGGER advertisers_insert_epoch AFTER INSERT ON advertisers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER advertisers_update_epoch AFTER UPDATE ON advertisers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER advertisers_delete_epoch AFTER DELETE ON advertisers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER publishers_insert_epoch AFTER INSERT ON publishers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER publishers_update_epoch AFTER UPDATE ON publishers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER publishers_delete_epoch AFTER DELETE ON publishers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER offers_insert_epoch AFTER INSERT ON offers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER offers_update_epoch AFTER UPDATE ON offers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER offers_delete_epoch AFTER DELETE ON offers BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER goals_insert_epoch AFTER INSERT ON goals BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER goals_update_epoch AFTER UPDATE ON goals BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER goals_delete_epoch AFTER DELETE ON goals BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER payout_rules_insert_epoch AFTER INSERT ON payout_rules BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER payout_rules_update_epoch AFTER UPDATE ON payout_rules BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER payout_rules_delete_epoch AFTER DELETE ON payout_rules BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER commission_groups_insert_epoch AFTER INSERT ON commission_groups BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER commission_groups_update_epoch AFTER UPDATE ON commission_groups BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER commission_groups_delete_epoch AFTER DELETE ON commission_groups BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER exchange_rates_insert_epoch AFTER INSERT ON exchange_rates BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER exchange_rates_update_epoch AFTER UPDATE ON exchange_rates BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
CREATE TRIGGER exchange_rates_delete_epoch AFTER DELETE ON exchange_rates BEGIN
  UPDATE config_epoch SET token = lower(hex(randomblob(12))) WHERE id = 1;
END;
