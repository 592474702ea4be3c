-- Closing the month: publisher statements (payout) and advertiser invoices (revenue), one
-- table for both kinds of document (docs/closing-the-month.md, "Statements and invoices").

-- A publisher's minimum payout per currency: JSON {"EUR": 5000} in minor units; NULL = none.
-- A statement whose total is below it is carried forward instead of drafted.
ALTER TABLE publishers ADD COLUMN minimum_payout TEXT;

-- One document per kind, period, party and currency. party_id is the publisher (statement)
-- or the advertiser (invoice). A run of the period rebuilds its draft and carried documents in
-- place (their id stays); issued and paid ones never change (triggers below).
CREATE TABLE documents (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('statement', 'invoice')),
  -- The month closed, 'YYYY-MM' in TIMEZONE, and its bounds as UTC instants [start, end).
  period TEXT NOT NULL,
  period_start TEXT NOT NULL,
  period_end TEXT NOT NULL,
  party_id INTEGER NOT NULL,
  currency TEXT NOT NULL,
  -- carried: the total is below the minimum (or not positive); its lines stay unstated and
  -- are picked up by the next period's run.
  status TEXT NOT NULL CHECK (status IN ('draft', 'carried', 'issued', 'paid')),
  total INTEGER NOT NULL,
  line_count INTEGER NOT NULL,
  -- The minimum that applied when the document was built (minor units), NULL for none.
  minimum INTEGER,
  reference TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  issued_at TEXT,
  paid_at TEXT,
  UNIQUE (kind, period, party_id, currency)
);
CREATE INDEX documents_party ON documents (kind, party_id, id);
CREATE INDEX documents_status ON documents (kind, status, id);

-- One line per conversion and document: amount is what this document adds for the conversion
-- (its payout or revenue the first time, the difference after a later change); value and
-- conversion_status are the conversion as it was when the line was written.
-- counted = 0 on the lines of a carried document: they are not on a statement yet.
CREATE TABLE document_lines (
  id INTEGER PRIMARY KEY,
  document_id INTEGER NOT NULL REFERENCES documents (id),
  kind TEXT NOT NULL,
  conversion_id TEXT NOT NULL REFERENCES conversions (id),
  line_type TEXT NOT NULL CHECK (line_type IN ('conversion', 'adjustment')),
  amount INTEGER NOT NULL,
  value INTEGER NOT NULL,
  conversion_status TEXT NOT NULL,
  offer_id INTEGER NOT NULL,
  order_id TEXT,
  conversion_time TEXT NOT NULL,
  counted INTEGER NOT NULL CHECK (counted IN (0, 1))
);
CREATE INDEX document_lines_document ON document_lines (document_id, id);
-- What is already stated for a conversion: SUM(amount) of its counted lines, read from the index.
CREATE INDEX document_lines_stated ON document_lines (kind, counted, conversion_id, amount);

-- Issued and paid documents are immutable: their lines are never added, changed or removed,
-- their amounts never change, and the only step left is issued -> paid.
CREATE TRIGGER document_lines_no_update BEFORE UPDATE ON document_lines
BEGIN
  SELECT RAISE(ABORT, 'document lines are never changed');
END;

CREATE TRIGGER document_lines_locked_delete BEFORE DELETE ON document_lines
WHEN (SELECT status FROM documents WHERE id = OLD.document_id) IN ('issued', 'paid')
BEGIN
  SELECT RAISE(ABORT, 'the lines of an issued document are locked');
END;

CREATE TRIGGER document_lines_locked_insert BEFORE INSERT ON document_lines
WHEN (SELECT status FROM documents WHERE id = NEW.document_id) IN ('issued', 'paid')
BEGIN
  SELECT RAISE(ABORT, 'the lines of an issued document are locked');
END;

CREATE TRIGGER documents_locked_update BEFORE UPDATE ON documents
WHEN OLD.status IN ('issued', 'paid') AND (
  NEW.total IS NOT OLD.total OR NEW.line_count IS NOT OLD.line_count OR NEW.kind IS NOT OLD.kind
  OR NEW.period IS NOT OLD.period OR NEW.party_id IS NOT OLD.party_id OR NEW.currency IS NOT OLD.currency
  OR NEW.issued_at IS NOT OLD.issued_at OR OLD.status = 'paid'
  OR NEW.status NOT IN ('issued', 'paid'))
BEGIN
  SELECT RAISE(ABORT, 'an issued document is locked');
END;

-- A document is issued only with a total equal to the sum of its lines.
CREATE TRIGGER documents_issue_total BEFORE UPDATE OF status ON documents
WHEN NEW.status = 'issued' AND OLD.status = 'draft' AND (
  NEW.total IS NOT (SELECT COALESCE(SUM(amount), 0) FROM document_lines WHERE document_id = NEW.id)
  OR NEW.line_count IS NOT (SELECT COUNT(*) FROM document_lines WHERE document_id = NEW.id))
BEGIN
  SELECT RAISE(ABORT, 'the document total differs from its lines');
END;

CREATE TRIGGER documents_locked_delete BEFORE DELETE ON documents
WHEN OLD.status IN ('issued', 'paid')
BEGIN
  SELECT RAISE(ABORT, 'an issued document is locked');
END;

-- statement.issued / statement.paid for the publisher's endpoints that subscribe: the outbox
-- of document events, sent by the notifications consumer like conversion deliveries. The
-- payload is frozen when the event happens, so every attempt sends the same data.
CREATE TABLE document_deliveries (
  id TEXT PRIMARY KEY,
  document_id INTEGER NOT NULL REFERENCES documents (id),
  endpoint_id INTEGER NOT NULL REFERENCES endpoints (id),
  publisher_id INTEGER NOT NULL,
  event_type TEXT NOT NULL CHECK (event_type IN ('statement.issued', 'statement.paid')),
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_attempt_at TEXT,
  last_status_code INTEGER,
  last_error TEXT,
  delivered_at TEXT,
  enqueued_at TEXT,
  message_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (document_id, endpoint_id, event_type)
);
CREATE INDEX document_deliveries_status ON document_deliveries (status, updated_at);
