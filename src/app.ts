// The Hono app: click redirect, advertiser postbacks, admin API; one error handler that turns
// every failure into the contract's JSON error shape.
import { Hono } from 'hono';
import { adminApi } from './admin';
import { browserRoutes } from './browser';
import { clickRoutes } from './click/route';
import { dashboardRoutes } from './dashboard';
import { integrationWebhooks } from './integrations';
import { errorAnswer } from './lib/error-response';
import { errorBody } from './lib/errors';
import { devReceiverRoutes } from './notify/dev-receiver';
import { apiDocsRoutes } from './openapi/routes';
import { portalRoutes } from './portal';
import { postbackRoutes } from './postback';

export const app = new Hono<{ Bindings: Env }>();

app.route('/', clickRoutes);
app.route('/', postbackRoutes);
app.route('/', integrationWebhooks);
// The tag, its beacon, pixels, impressions and TUNE's browser-side drop-ins (src/browser).
app.route('/', browserRoutes);
app.route('/api/v1', adminApi);
// The OpenAPI document (/api/openapi.json) and its HTML rendering (/api/docs); public.
app.route('/api', apiDocsRoutes);
app.route('/dashboard', dashboardRoutes);
// The partner portal: publishers, advertisers and operators sign in with email and password.
app.route('/portal', portalRoutes);
// Demo publisher server for `npm run dev`; answers 404 unless ALLOW_PRIVATE_DESTINATIONS is "true".
app.route('/dev', devReceiverRoutes);

app.get('/', (c) => c.json({ service: 'clickhop', docs: '/api/docs' }));

app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}`), 404));

// c.json keeps headers a handler set before throwing (WWW-Authenticate on a 401).
app.onError((error, c) => {
  const { body, status } = errorAnswer(error, c.req.raw, c.env);
  return c.json(body, status);
});
