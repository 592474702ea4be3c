-- Queue messages that reached a dead end, kept for the operator instead of expiring: messages
-- from the two dead-letter queues (their retries spent) and poison messages the consumers
-- cannot decode (src/parked). The operator sees them on the dashboard and re-sends one to its
-- queue (POST /api/v1/parked/:id/retry).
-- body: the message body as sent, JSON text (body_encoding 'json'), a string ('text') or
-- base64 bytes ('bytes'). A queue message is at most 128 KB, so a body is at most ~171 KB as
-- base64, well inside D1's 2 MB per value and row; src/parked/park.ts cuts anything larger.
-- One row per (queue, body): a re-sent message that fails again comes back to its row (attempts
-- add up, first_failed_at stays), and a redelivered DLQ message (same message_id) changes nothing.
CREATE TABLE parked_messages (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  body_encoding TEXT NOT NULL CHECK (body_encoding IN ('json', 'text', 'bytes')),
  body_hash TEXT NOT NULL,
  reason TEXT NOT NULL CHECK (reason IN ('retries_exhausted', 'undecodable')),
  error TEXT,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  message_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('parked', 'retried')),
  retries INTEGER NOT NULL DEFAULT 0,
  first_failed_at TEXT NOT NULL,
  parked_at TEXT NOT NULL,
  retried_at TEXT,
  UNIQUE (queue, body_hash)
);

-- The dashboard's line (count and oldest per queue) and the list of what waits, oldest first.
CREATE INDEX parked_messages_waiting ON parked_messages (queue, first_failed_at) WHERE status = 'parked';
