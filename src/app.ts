// The Hono app: click redirect, advertiser postbacks, admin API; one error handler that turns
// every failure into the contract's JSON error shape.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { adminApi } from './admin';
import { clickRoutes } from './click/route';
import { ApiError } from './lib/errors';
import { errorFields, log } from './lib/log';
import { devReceiverRoutes } from './notify/dev-receiver';
import { postbackRoutes } from './postback';

export const app = new Hono<{ Bindings: Env }>();

app.route('/', clickRoutes);
app.route('/', postbackRoutes);
app.route('/api/v1', adminApi);
// Demo publisher server for `npm run dev`; answers 404 unless ALLOW_PRIVATE_DESTINATIONS is "true".
app.route('/dev', devReceiverRoutes);

app.get('/', (c) => c.json({ service: 'clickhop', docs: '/api/docs' }));

app.notFound((c) =>
  c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` } }, 404),
);

app.onError((error, c) => {
  if (error instanceof ApiError) return c.json(error.toJSON(), error.status);
  if (error instanceof HTTPException) {
    return c.json({ error: { code: 'http_error', message: error.message || 'Request refused' } }, error.status);
  }
  log('error', 'http.unhandled', { method: c.req.method, path: c.req.path, ...errorFields(error) });
  return c.json({ error: { code: 'internal_error', message: 'Internal error' } }, 500);
});
