// Writes the audit entry of every admin change that succeeded: who (the principal's credential),
// the operation, the resource id, and the resource before (read by the declaration) and after
// (the answer). Secrets in either are masked by auditValues.
import { auditStatement } from '../auth/audit';
import { nowIso } from '../lib/time';
import { setAuditWriter } from '../openapi/operation';

function resourceId(params: Record<string, unknown>, after: unknown): string | number | null {
  const fromPath = params.id ?? params.clickId;
  if (typeof fromPath === 'string' || typeof fromPath === 'number') return fromPath;
  const fromBody = after && typeof after === 'object' ? (after as { id?: unknown }).id : undefined;
  return typeof fromBody === 'string' || typeof fromBody === 'number' ? fromBody : null;
}

setAuditWriter(async (c, audit, spec, params, before, after) => {
  const principal = c.get('principal');
  if (!principal) return;
  await auditStatement(
    c.env.DB,
    principal,
    { action: spec.operationId, resource: audit.resource, resourceId: resourceId(params, after), before, after },
    nowIso(),
  ).run();
});
