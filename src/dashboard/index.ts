// GET /dashboard: the operator's overview page, server-rendered HTML with an inline SVG chart,
// no script and nothing loaded from elsewhere; POST /dashboard/parked/:id/retry re-sends a parked
// queue message (CSRF token from form-token.ts). Behind the admin token (HTTP Basic, see auth.ts);
// every answer under /dashboard, refusals included, is uncacheable, unframeable and locked down
// by a Content-Security-Policy that allows exactly the page's own stylesheet.
import { sha256 } from '@noble/hashes/sha2.js';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { encodeBase64 } from 'hono/utils/encode';
import { asPrincipal } from '../auth/internal';
import { tokenOperator } from '../auth/principal';
import { errorBody } from '../lib/errors';
import { dayRange } from '../portal/format';
import { PORTAL_STYLESHEET } from '../portal/layout';
import { loadOverview, overviewSections } from '../portal/overview';
import { balancesSection } from '../portal/statements';
import { requireOperator } from './auth';
import { loadDashboard, RECENT_LIMIT } from './data';
import { dashboardFormToken, dashboardFormTokenMatches } from './form-token';
import { html } from './html';
import { pageSecurity } from './page-headers';
import { parkedAlert, retryNoticeCode } from './parked';
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

// The date range form reloads this page (GET) and retries post to it, so forms may go to the page's own origin.
dashboardRoutes.use('*', pageSecurity(stylesheetSource, ["'self'"]));
dashboardRoutes.use('*', uncached);
dashboardRoutes.use('*', requireOperator);

dashboardRoutes.get('/', async (c) => {
  const now = Date.now();
  // The operator overview is the portal's, read and drawn by the same code (src/portal/overview.ts).
  const range = dayRange(c.req.query(), now);
  const [data, overview, csrf, balances] = await Promise.all([
    loadDashboard(c.env.DB, now),
    loadOverview(c.env.DB, range, now),
    dashboardFormToken(c.env.ADMIN_TOKEN, now),
    // What is owed and what is paid: the portal overview's section, drawn by the same code.
    balancesSection(c.env.DB),
  ]);
  const sections = html`${overviewSections(
    overview,
    '/dashboard',
    (clickId) => `/dashboard/clicks/${encodeURIComponent(clickId)}`,
    { action: (id) => `/dashboard/parked/${encodeURIComponent(id)}/retry`, csrf, notice: c.req.query('parked') },
  )}
${balances}`;
  return c.html(
    renderDashboard(data, RECENT_LIMIT, {
      sections,
      stylesheet: DASHBOARD_STYLESHEET,
      alert: parkedAlert(overview.parked.summary, now),
    }),
  );
});

/**
 * A parked message's retry from the page: the admin API's own operation (audited there), called
 * in-process as the operator, then back to the page with its outcome or error code.
 */
dashboardRoutes.post('/parked/:id/retry', async (c) => {
  const form = await c.req.parseBody();
  if (!(await dashboardFormTokenMatches(c.env.ADMIN_TOKEN, form._csrf))) {
    return c.json(
      errorBody('invalid_form', 'The form was out of date or not from this site; nothing was changed'),
      403,
    );
  }
  const request = asPrincipal(
    new Request(new URL(`/api/v1/parked/${encodeURIComponent(c.req.param('id'))}/retry`, c.req.url), {
      method: 'POST',
    }),
    tokenOperator,
  );
  const answer = await appFetch(request, c.env, c.executionCtx as ExecutionContext);
  const body = (await answer.json()) as { outcome?: string; error?: { code?: string } };
  const code = retryNoticeCode(answer.ok ? body.outcome : body.error?.code);
  return c.redirect(`/dashboard?parked=${code}#parked`, 303);
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
