// Admin API authentication: the ADMIN_TOKEN (break-glass operator), a scoped API key, or (reads
// only) a portal session; see src/auth/resolve.ts. The principal is kept for the scope rules
// (src/admin/access.ts) and the audit log.
import { createMiddleware } from 'hono/factory';
import { resolvePrincipal } from '../auth/resolve';
import type { ApiEnv } from '../openapi/operation';

export const requireAdmin = createMiddleware<ApiEnv>(async (c, next) => {
  c.set('principal', await resolvePrincipal(c));
  await next();
});
