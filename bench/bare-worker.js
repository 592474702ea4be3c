// The baseline for `npm run bench`: the least a Worker can do for the same requests, so the
// ratio ours/bare prices Clickhop's own work on the same runtime, machine and load generator.
//   GET /c/:offer/:publisher -> the same 302 Clickhop answers (same headers, a Location of the
//                               same shape and length), with no config lookup, no click ID
//                               signing and no click recording.
//   GET /s/:offer/:publisher -> the same 302 with a real signed click ID (HMAC-SHA256 through
//                               WebCrypto, as Clickhop mints it), and nothing else: the least a
//                               tracker with unforgeable click IDs can do.
//   GET /postback?order_id=  -> one D1 INSERT (duplicates ignored by the primary key), 200 JSON.
//   GET /page?bytes=N        -> 200 text/html of exactly N bytes (a fixed table, built once per size),
//                               no I/O: the baseline of the portal section, as large as the page it
//                               measures, so the ratio prices the page's work and not its transfer.
// It is plain module-Worker code with no dependencies, run from the file as is.

const LANDING = 'https://shop.example.com/landing?utm_source=clickhop';
// A fixed 48-character stand-in for a click ID: no randomness, no HMAC.
const PLACEHOLDER_CLICK_ID = 'AQEAAAGbench000000000000000000000000000000000000';
const HEADERS = {
  Location: `${LANDING}&click_id=${PLACEHOLDER_CLICK_ID}`,
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

const SIGNING_SECRET = 'bench-signing-secret-0123456789';
let signingKey;

function base64Url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** version, key id, time, offer, publisher, 8 random bytes, then 12 bytes of HMAC: 48 characters. */
async function signedClickId(offer, publisher) {
  signingKey ??= crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(SIGNING_SECRET),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const bytes = new Uint8Array(36);
  const view = new DataView(bytes.buffer);
  const now = Date.now();
  bytes[0] = 1;
  bytes[1] = 1;
  view.setUint16(2, Math.floor(now / 2 ** 32));
  view.setUint32(4, now >>> 0);
  view.setUint32(8, offer);
  view.setUint32(12, publisher);
  crypto.getRandomValues(bytes.subarray(16, 24));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await signingKey, bytes.subarray(0, 24)));
  bytes.set(mac.subarray(0, 12), 24);
  return base64Url(bytes);
}

const MAX_PAGE_BYTES = 4_000_000;
const pages = new Map();

function htmlPage(bytes) {
  let page = pages.get(bytes);
  if (page === undefined) {
    const head = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Bare</title><table>';
    const row = '<tr><td>offer 1</td><td class="num">1,234</td><td class="num">987</td><td>12.34 EUR</td></tr>\n';
    const tail = '</table></html>\n';
    const body = head + row.repeat(Math.ceil(bytes / row.length)) + tail;
    page = body.slice(0, Math.max(0, bytes - tail.length)) + tail.slice(Math.max(0, tail.length - bytes));
    pages.set(bytes, page);
  }
  return page;
}

export default {
  async fetch(request, env) {
    const url = request.url;
    const pathStart = url.indexOf('/', url.indexOf('//') + 2);
    const query = url.indexOf('?', pathStart);
    const path = query < 0 ? url.slice(pathStart) : url.slice(pathStart, query);

    if (path.startsWith('/c/')) return new Response(null, { status: 302, headers: HEADERS });
    if (path.startsWith('/s/')) {
      const [offer, publisher] = path.slice(3).split('/').map(Number);
      const clickId = await signedClickId(offer >>> 0, publisher >>> 0);
      return new Response(null, {
        status: 302,
        headers: { ...HEADERS, Location: `${LANDING}&click_id=${clickId}` },
      });
    }

    if (path === '/postback') {
      const orderId = new URLSearchParams(query < 0 ? '' : url.slice(query + 1)).get('order_id');
      if (!orderId) return Response.json({ error: { code: 'invalid_request' } }, { status: 400 });
      const result = await env.DB.prepare('INSERT OR IGNORE INTO bare_conversions (order_id, created_at) VALUES (?, ?)')
        .bind(orderId, new Date().toISOString())
        .run();
      return Response.json({ status: 'ok', duplicate: result.meta.changes === 0 });
    }
    if (path === '/page') {
      const bytes = Number(new URLSearchParams(query < 0 ? '' : url.slice(query + 1)).get('bytes'));
      if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_PAGE_BYTES)
        return new Response('bad bytes', { status: 400 });
      return new Response(htmlPage(bytes), {
        headers: { 'Content-Type': 'text/html; charset=UTF-8', 'Cache-Control': 'no-store' },
      });
    }
    return new Response('not found', { status: 404 });
  },
};
