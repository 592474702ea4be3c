// GET /dashboard: the operator's overview page, server-rendered HTML with an inline SVG chart,
// no script and nothing loaded from elsewhere. Behind the admin token (HTTP Basic, see auth.ts);
// every answer under /dashboard, refusals included, is uncacheable, unframeable and locked down
// by a Content-Security-Policy that allows exactly the page's own stylesheet.
import { sha256 } from '@noble/hashes/sha2.js';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { encodeBase64 } from 'hono/utils/encode';
import { requireOperator } from './auth';
import { loadDashboard, RECENT_LIMIT } from './data';
import { pageSecurity } from './page-headers';
import { renderDashboard, STYLESHEET } from './render';

/** The CSP source that allows exactly the page's stylesheet. */
export const stylesheetSource = () =>
  `'sha256-${encodeBase64(sha256(new TextEncoder().encode(STYLESHEET)).buffer as ArrayBuffer)}'`;

const uncached = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
  c.header('X-Robots-Tag', 'noindex, nofollow');
});

export const dashboardRoutes = new Hono<{ Bindings: Env }>();

dashboardRoutes.use('*', pageSecurity(stylesheetSource));
dashboardRoutes.use('*', uncached);
dashboardRoutes.use('*', requireOperator);

dashboardRoutes.get('/', async (c) => {
  const data = await loadDashboard(c.env.DB, Date.now());
  return c.html(renderDashboard(data, RECENT_LIMIT));
});
