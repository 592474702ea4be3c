// A demo publisher server for local development: point an endpoint at
// http://localhost:8787/dev/receiver and watch notifications arrive at /dev/receiver/log.
// Exists only when ALLOW_PRIVATE_DESTINATIONS is "true" (never in production): 404 otherwise.
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { privateDestinationsAllowed } from './destination';

// One key per notification (KV takes one write a second per key: a shared log key would refuse
// a burst), named so that KV's key order is newest first.
const LOG_PREFIX = 'dev:receiver:log:';
let received = 0;
const logKey = () =>
  `${LOG_PREFIX}${String(9_999_999_999_999 - Date.now()).padStart(13, '0')}:${String(999_999_999 - (received++ % 999_999_999)).padStart(9, '0')}`;
export const DEV_RECEIVER_KEEP = 50;
const TTL_SECONDS = 86_400;
const BODY_MAX_CHARS = 8_192;
const HEADERS_KEPT = [
  'content-type',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'clickhop-test',
];

export interface ReceivedNotification {
  received_at: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const devOnly = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  if (!privateDestinationsAllowed(c.env)) {
    return c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` } }, 404);
  }
  await next();
});

async function readLog(kv: KVNamespace): Promise<ReceivedNotification[]> {
  const { keys } = await kv.list({ prefix: LOG_PREFIX, limit: DEV_RECEIVER_KEEP });
  const entries = await Promise.all(keys.map((key) => kv.get<ReceivedNotification>(key.name, 'json')));
  return entries.filter((entry): entry is ReceivedNotification => entry !== null);
}

export const devReceiverRoutes = new Hono<{ Bindings: Env }>();

devReceiverRoutes.use('*', devOnly);

devReceiverRoutes.get('/receiver/log', async (c) => c.json({ data: await readLog(c.env.CONFIG) }));

devReceiverRoutes.on(['GET', 'POST'], '/receiver', async (c) => {
  const headers: Record<string, string> = {};
  for (const name of HEADERS_KEPT) {
    const value = c.req.header(name);
    if (value !== undefined) headers[name] = value;
  }
  const url = new URL(c.req.url);
  const entry: ReceivedNotification = {
    received_at: new Date().toISOString(),
    method: c.req.method,
    url: url.pathname + url.search,
    headers,
    body: c.req.method === 'POST' ? (await c.req.text()).slice(0, BODY_MAX_CHARS) : '',
  };
  // The log shows the newest 50; older entries expire with their TTL.
  await c.env.CONFIG.put(logKey(), JSON.stringify(entry), { expirationTtl: TTL_SECONDS });
  // ?status=500 (or 410, 429...) lets a developer watch retries and endpoint disabling.
  const status = Number(c.req.query('status') ?? 200);
  const answer =
    Number.isInteger(status) && status >= 200 && status <= 599 && ![204, 205, 304].includes(status) ? status : 200;
  return c.json({ received: true }, answer as 200);
});
