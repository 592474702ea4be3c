-- Publisher notifications: delivery ownership and signing-secret rotation. Additive only.

-- The queue message that currently carries a delivery's retry chain. A consumer claims a
-- delivery for its message before sending; any other message for the same delivery (an
-- at-least-once duplicate, or a reconciliation re-send racing a late original) finds another
-- owner and is acknowledged without sending, so a delivery never runs two retry chains.
-- Cleared when a delivery is handed to a new message (resend, reconciliation).
ALTER TABLE deliveries ADD COLUMN message_id TEXT;

-- After a secret rotation the previous secret keeps signing (a second v1 signature in
-- webhook-signature) until previous_secret_expires_at, so publishers can switch without loss.
ALTER TABLE endpoints ADD COLUMN previous_signing_secret TEXT;
ALTER TABLE endpoints ADD COLUMN previous_secret_expires_at TEXT;

-- Reconciliation looks for pending/retrying deliveries by when they were last enqueued.
CREATE INDEX deliveries_status_enqueued ON deliveries (status, enqueued_at);
