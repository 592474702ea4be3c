// GET /dashboard: the operator's overview page, server-rendered HTML with an inline SVG chart,
// no script and nothing loaded from elsewhere. Behind the admin token (HTTP Basic, see auth.ts);
// every answer under /dashboard, refusals included, is uncacheable, unframeable and locked down
// by a Content-Security-Policy that allows exactly the page's own stylesheet.
import { sha256 } from '@noble/hashes/sha2.js';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { encodeBase64 } from 'hono/utils/encode';
import { asPrincipal } from '../auth/internal';
import { tokenOperator } from '../auth/principal';
import { dayRange } from '../portal/format';
import { PORTAL_STYLESHEET } from '../portal/layout';
import { loadOverview, overviewSections } from '../portal/overview';
import { requireOperator } from './auth';
import { loadDashboard, RECENT_LIMIT } from './data';
import { pageSecurity } from './page-headers';
import { renderDashboard } from './render';

/**
 * The page's one stylesheet: the portal's (the dashboard's own plus the rules of the overview's
 * forms and tables, which the page shows too).
 */
export const DASHBOARD_STYLESHEET = PORTAL_STYLESHEET;

/** The CSP source that allows exactly the page's stylesheet. */
export const stylesheetSource = () =>
  `'sha256-${encodeBase64(sha256(new TextEncoder().encode(DASHBOARD_STYLESHEET)).buffer as ArrayBuffer)}'`;

/** Loaded lazily: the app imports the dashboard, so importing it back must wait for first use. */
const appFetch = async (request: Request, env: Env, ctx: ExecutionContext) =>
  (await import('../app')).app.fetch(request, env, ctx);

const uncached = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
  c.header('X-Robots-Tag', 'noindex, nofollow');
});

export const dashboardRoutes = new Hono<{ Bindings: Env }>();

// The date range form reloads this page (GET), so forms may go to the page's own origin.
dashboardRoutes.use('*', pageSecurity(stylesheetSource, ["'self'"]));
dashboardRoutes.use('*', uncached);
dashboardRoutes.use('*', requireOperator);

dashboardRoutes.get('/', async (c) => {
  const now = Date.now();
  // The operator overview is the portal's, read and drawn by the same code (src/portal/overview.ts).
  const range = dayRange(c.req.query(), now);
  const [data, overview] = await Promise.all([loadDashboard(c.env.DB, now), loadOverview(c.env.DB, range)]);
  const sections = overviewSections(
    overview,
    '/dashboard',
    (clickId) => `/dashboard/clicks/${encodeURIComponent(clickId)}`,
  );
  return c.html(renderDashboard(data, RECENT_LIMIT, { sections, stylesheet: DASHBOARD_STYLESHEET }));
});

/**
 * A click's dispute view under the dashboard's sign-in: the admin API's own answer
 * (GET /api/v1/clicks/:clickId), called in-process as the operator, since a browser signed in
 * with Basic cannot send the API's Bearer credential.
 */
dashboardRoutes.get('/clicks/:clickId', async (c) => {
  const request = asPrincipal(
    new Request(new URL(`/api/v1/clicks/${encodeURIComponent(c.req.param('clickId'))}`, c.req.url)),
    tokenOperator,
  );
  const answer = await appFetch(request, c.env, c.executionCtx as ExecutionContext);
  return new Response(answer.body, { status: answer.status, headers: { 'content-type': 'application/json' } });
});
