-- Who last saved an endpoint's delivery settings (url, format, body template...): 'operator' or
-- 'publisher'. Operator-only macros ({revenue}: the network's margin) render only on an endpoint
-- the operator saved (src/auth/money-view.ts); NULL, an endpoint written some other way, renders
-- like a publisher's.
ALTER TABLE endpoints ADD COLUMN saved_by TEXT CHECK (saved_by IS NULL OR saved_by IN ('operator', 'publisher'));

-- Endpoints saved before this column: the party of the last audited create or change (a
-- publisher's harmless toggle counts too, which errs on the side of the publisher's view). An
-- endpoint with no audited save was created with the admin token before partner access existed.
UPDATE endpoints SET saved_by = CASE
  WHEN (
    SELECT a.actor_role FROM audit_log a
    WHERE a.resource = 'endpoint' AND a.resource_id = CAST(endpoints.id AS TEXT)
      AND a.action IN ('createEndpoint', 'updateEndpoint')
    ORDER BY a.id DESC LIMIT 1
  ) = 'publisher' THEN 'publisher'
  ELSE 'operator'
END;
