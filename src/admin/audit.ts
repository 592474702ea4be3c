// /api/v1/audit: the audit log (operator only), newest first, cursor-paginated.
import * as z from 'zod';
import { type AuditRow, listAudit } from '../db/audit';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { cursorId, page, pageQuery } from './pagination';

export const auditQuery = pageQuery.extend({
  resource: z.string().max(40).optional().describe('Only this kind of resource, e.g. offer, endpoint, api_key, user'),
  resource_id: z.string().max(100).optional().describe('Only this resource (with resource)'),
});

export const auditShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const AuditEntry = component(
    'AuditEntry',
    z.strictObject({
      id: rowId,
      at: timestamp,
      actor: z.strictObject({
        kind: z.enum(['token', 'key', 'user', 'system']).describe('ADMIN_TOKEN, an API key, a portal user'),
        id: z.string().nullable(),
        label: z.string(),
        role: z.string(),
      }),
      action: z.string().describe('The operation, e.g. updateOffer, changeConversionStatus, createApiKey'),
      resource: z.string(),
      resource_id: z.string().nullable(),
      before: z.unknown().describe('The resource before the change (secrets masked); null for a creation'),
      after: z.unknown().describe('The resource after the change (secrets masked)'),
    }),
  );
  return { AuditEntry, AuditPage: pageOf('AuditEntry', AuditEntry) };
});

const parsed = (json: string | null): unknown => (json === null ? null : JSON.parse(json));

const presentAudit = (row: AuditRow) => ({
  id: row.id,
  at: row.at,
  actor: { kind: row.actor_kind, id: row.actor_id, label: row.actor_label, role: row.actor_role },
  action: row.action,
  resource: row.resource,
  resource_id: row.resource_id,
  before: parsed(row.before),
  after: parsed(row.after),
});

export const auditRoutes = new ApiRoutes('/api/v1/audit', {
  name: 'Audit log',
  description: 'Every change to configuration, keys, people and conversion status: who, what, when, before and after.',
});

auditRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listAudit',
    summary: 'Read the audit log',
    description: 'Newest first.',
    auth: 'admin',
    query: auditQuery,
    responses: { 200: { description: 'A page of audit entries', schema: () => auditShapes().AuditPage } },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    const rows = await listAudit(c.env.DB, filters, cursorId(cursor) ?? Number.MAX_SAFE_INTEGER, limit + 1);
    return { status: 200, body: page(rows, limit, (r) => r.id, presentAudit) };
  },
);
