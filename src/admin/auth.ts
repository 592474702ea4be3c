// Admin API authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
import { createMiddleware } from 'hono/factory';
import { timingSafeEqualString } from '../lib/crypto';
import { ApiError } from '../lib/errors';

export const requireAdmin = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw new ApiError(503, 'not_configured', 'ADMIN_TOKEN is not set on this deployment');
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !(await timingSafeEqualString(match[1] as string, expected))) {
    c.header('WWW-Authenticate', 'Bearer');
    throw new ApiError(401, 'unauthorized', 'Missing or wrong admin token');
  }
  await next();
});
