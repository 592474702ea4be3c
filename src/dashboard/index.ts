// GET /dashboard: the operator's overview page, server-rendered HTML with an inline SVG chart,
// no script and nothing loaded from elsewhere. Behind the admin token (HTTP Basic, see auth.ts);
// every answer under /dashboard, refusals included, is uncacheable, unframeable and locked down
// by a Content-Security-Policy that allows exactly the page's own stylesheet.
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { requireOperator } from './auth';
import { loadDashboard, RECENT_LIMIT } from './data';
import { renderDashboard, STYLESHEET } from './render';

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

// The stylesheet is a constant, so its hash is computed once per isolate.
let styleHash: string | undefined;
async function stylesheetSource(): Promise<string> {
  if (styleHash === undefined) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(STYLESHEET));
    styleHash = `'sha256-${base64(new Uint8Array(digest))}'`;
  }
  return styleHash;
}

export async function contentSecurityPolicy(): Promise<string> {
  return [
    "default-src 'none'",
    `style-src ${await stylesheetSource()}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const pageHeaders = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  await next();
  c.header('Content-Security-Policy', await contentSecurityPolicy());
  c.header('Cache-Control', 'no-store');
  c.header('X-Frame-Options', 'DENY');
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Cross-Origin-Opener-Policy', 'same-origin');
  c.header('Cross-Origin-Resource-Policy', 'same-origin');
  c.header('X-Robots-Tag', 'noindex, nofollow');
});

export const dashboardRoutes = new Hono<{ Bindings: Env }>();

dashboardRoutes.use('*', pageHeaders);
dashboardRoutes.use('*', requireOperator);

dashboardRoutes.get('/', async (c) => {
  const data = await loadDashboard(c.env.DB, Date.now());
  return c.html(renderDashboard(data, RECENT_LIMIT));
});
