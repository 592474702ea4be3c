// /api/v1/settings: the operator's program-wide settings. totp: the roles whose people must sign
// in with a TOTP second factor. Turning it on for a role ends the sessions of that role's people
// who have not enrolled; at their next sign-in they enrol before any other page opens.
import * as z from 'zod';
import { auditStatement } from '../auth/audit';
import { ROLES } from '../auth/principal';
import { endUnenrolledSessionsStatement, listRequiredRoles, setRequiredRolesStatements } from '../db/second-factor';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy } from '../openapi/operation';

export const totpSettingsBody = z.strictObject({
  required_roles: z
    .array(z.enum(ROLES))
    .max(ROLES.length)
    .refine((roles) => new Set(roles).size === roles.length, 'must not repeat a role')
    .describe('Roles whose people must use a second factor; [] requires it of nobody'),
});

export const settingsShapes = lazy(() => {
  const TotpSettings = component(
    'TotpSettings',
    z.strictObject({
      required_roles: z.array(z.enum(ROLES)).describe('Roles whose people must use a TOTP second factor, sorted'),
    }),
  );
  return { TotpSettings };
});

export const settingsRoutes = new ApiRoutes('/api/v1/settings', {
  name: 'Settings',
  description: 'Program-wide settings of the operator.',
});

const totpSettings = async (db: D1Database) => ({
  required_roles: (await listRequiredRoles(db)).map((row) => row.role),
});

settingsRoutes.route(
  {
    method: 'get',
    path: '/totp',
    operationId: 'getTotpSettings',
    summary: 'Read which roles must use a second factor',
    auth: 'admin',
    access: {},
    responses: { 200: { description: 'The TOTP settings', schema: () => settingsShapes().TotpSettings } },
  },
  async (c) => ({ status: 200, body: await totpSettings(c.env.DB) }),
);

settingsRoutes.route(
  {
    method: 'put',
    path: '/totp',
    operationId: 'putTotpSettings',
    summary: 'Require a second factor per role',
    description:
      'Replaces the set of roles whose people must sign in with a TOTP code. The sessions of people of a newly required role who have not enrolled end at once; they enrol at their next sign-in and get no other page before. A person of a required role cannot turn the second factor off.',
    auth: 'admin',
    access: {},
    body: { schema: totpSettingsBody, required: true, example: { required_roles: ['operator'] } },
    responses: { 200: { description: 'The TOTP settings as now', schema: () => settingsShapes().TotpSettings } },
  },
  async (c, { body }) => {
    const db = c.env.DB;
    const now = nowIso();
    const before = await totpSettings(db);
    const roles = [...body.required_roles].sort();
    await db.batch([
      ...setRequiredRolesStatements(db, roles, now),
      endUnenrolledSessionsStatement(db, roles),
      auditStatement(
        db,
        c.get('principal'),
        {
          action: 'putTotpSettings',
          resource: 'settings',
          resourceId: 'totp',
          before,
          after: { required_roles: roles },
        },
        now,
      ),
    ]);
    return { status: 200, body: { required_roles: roles } };
  },
);
