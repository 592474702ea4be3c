// Writes the audit entry of every admin change that succeeded: who (the principal's credential),
// the operation, the resource id, and the resource before (read by the declaration) and after
// (the answer). Secrets in either are masked by auditValues. The entry goes into the change's
// own D1 transaction where the change's first write is one statement or one batch
// (src/auth/audit-batch.ts); a handler that wrote nothing through D1 gets it afterwards.

import { auditStatement, auditValues } from '../auth/audit';
import { auditingDatabase } from '../auth/audit-batch';
import { completeAuditStatement } from '../db/audit';
import { nowIso } from '../lib/time';
import { setAuditWriter } from '../openapi/operation';

function resourceId(params: Record<string, unknown>, after: unknown): string | number | null {
  const fromPath = params.id ?? params.clickId;
  if (typeof fromPath === 'string' || typeof fromPath === 'number') return fromPath;
  const fromBody = after && typeof after === 'object' ? (after as { id?: unknown }).id : undefined;
  return typeof fromBody === 'string' || typeof fromBody === 'number' ? fromBody : null;
}

setAuditWriter((c, audit, spec, params, before) => {
  const principal = c.get('principal');
  if (!principal) return { finish: async () => {} };
  const env = c.env;
  const change = (after: unknown) => ({
    action: spec.operationId,
    resource: audit.resource,
    resourceId: resourceId(params, after),
    before,
    after,
  });
  const auditing = auditingDatabase(env.DB, () => auditValues(principal, change(undefined), nowIso()));
  // The handler sees the auditing database; every other binding is the request's own.
  c.env = Object.create(env, { DB: { value: auditing.db, enumerable: true } }) as Env;
  return {
    finish: async (after) => {
      c.env = env;
      const id = auditing.entryId();
      if (id === null) {
        await auditStatement(env.DB, principal, change(after), nowIso()).run();
        return;
      }
      const values = auditValues(principal, change(after), nowIso());
      await completeAuditStatement(env.DB, id, values.after, values.resource_id).run();
    },
  };
});
