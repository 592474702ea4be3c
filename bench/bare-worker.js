// The baseline for `npm run bench`: the least a Worker can do for the same requests, so the
// ratio ours/bare prices Clickhop's own work on the same runtime, machine and load generator.
//   GET /c/:offer/:publisher -> the same 302 Clickhop answers (same headers, a Location of the
//                               same shape and length), with no config lookup, no click ID
//                               signing and no click recording.
//   GET /postback?order_id=  -> one D1 INSERT (duplicates ignored by the primary key), 200 JSON.
// It is plain module-Worker code with no dependencies, run from the file as is.

const LANDING = 'https://shop.example.com/landing?utm_source=clickhop';
// A fixed 48-character stand-in for a click ID: no randomness, no HMAC.
const PLACEHOLDER_CLICK_ID = 'AQEAAAGbench000000000000000000000000000000000000';
const HEADERS = {
  Location: `${LANDING}&click_id=${PLACEHOLDER_CLICK_ID}`,
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

export default {
  async fetch(request, env) {
    const url = request.url;
    const pathStart = url.indexOf('/', url.indexOf('//') + 2);
    const query = url.indexOf('?', pathStart);
    const path = query < 0 ? url.slice(pathStart) : url.slice(pathStart, query);

    if (path.startsWith('/c/')) return new Response(null, { status: 302, headers: HEADERS });

    if (path === '/postback') {
      const orderId = new URLSearchParams(query < 0 ? '' : url.slice(query + 1)).get('order_id');
      if (!orderId) return Response.json({ error: { code: 'invalid_request' } }, { status: 400 });
      const result = await env.DB.prepare('INSERT OR IGNORE INTO bare_conversions (order_id, created_at) VALUES (?, ?)')
        .bind(orderId, new Date().toISOString())
        .run();
      return Response.json({ status: 'ok', duplicate: result.meta.changes === 0 });
    }
    return new Response('not found', { status: 404 });
  },
};
