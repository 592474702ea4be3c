// GET /api/openapi.json and GET /api/docs: the OpenAPI document and the same document rendered
// as one HTML page. Both are public: they describe the API's shapes, never data or secrets.
// Only these two routes build the document (once per isolate and origin).
import { Hono } from 'hono';
import { pageSecurity } from '../dashboard/page-headers';
import { openApiDocument } from './document';
import { renderApiDocs } from './render';

const CACHE = 'public, max-age=300';

export const apiDocsRoutes = new Hono<{ Bindings: Env }>();

// Each rendering is kept for the last origin only: enough for one deployment, and bounded
// whatever Host header a client sends.
let lastJson: { origin: string; text: string } | undefined;
let lastPage: { origin: string; html: string } | undefined;

apiDocsRoutes.get('/openapi.json', (c) => {
  const origin = new URL(c.req.url).origin;
  if (lastJson?.origin !== origin) lastJson = { origin, text: JSON.stringify(openApiDocument(origin)) };
  return c.body(lastJson.text, 200, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Cache-Control': CACHE,
    // Any origin may read it, so browser-based OpenAPI tools can load it by URL.
    'Access-Control-Allow-Origin': '*',
  });
});

apiDocsRoutes.get(
  '/docs',
  pageSecurity(() => "'unsafe-inline'"),
  (c) => {
    const origin = new URL(c.req.url).origin;
    if (lastPage?.origin !== origin) lastPage = { origin, html: renderApiDocs(openApiDocument(origin)) };
    return c.html(lastPage.html, 200, { 'Cache-Control': CACHE });
  },
);
