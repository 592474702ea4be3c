// GET /t.js: the tag an advertiser puts on its landing and conversion pages. Plain ES2017, no
// dependencies, under 3 KB gzipped (tested). On a landing page it keeps the click ID from the
// URL in a first-party cookie `ch_cid` on the advertiser's own domain (and localStorage, for
// browsers that cut script-set cookies short); `clickhop('conversion', {...})` sends it to
// POST /b/conversion with navigator.sendBeacon (fetch keepalive as fallback). The body is a
// form (URLSearchParams), a CORS-safelisted type, so the beacon needs no preflight.
//
// Script attributes: data-param (the offer's click_param, default click_id), data-days (the
// attribution window, default 30), data-domain (a parent domain for the cookie, optional).

const SOURCE = `(function (w, d) {
  var s = d.currentScript || d.querySelector('script[src*="/t.js"]');
  var at = function (n, v) { return (s && s.getAttribute('data-' + n)) || v; };
  var base = s ? new URL(s.src, location.href).origin : '';
  var param = at('param', 'click_id');
  var days = +at('days', 30) || 30;
  var domain = at('domain', '');
  var K = 'ch_cid';
  var ok = /^[A-Za-z0-9_.~-]{1,255}$/;
  function read() {
    var m = d.cookie.match(/(?:^|; )ch_cid=([^;]*)/);
    if (m && ok.test(m[1])) return m[1];
    try {
      var v = (localStorage.getItem(K) || '').split(' ');
      if (ok.test(v[0]) && +v[1] > Date.now()) return v[0];
    } catch (e) {}
    return null;
  }
  function keep(id) {
    d.cookie = K + '=' + id + '; Max-Age=' + days * 86400 + '; Path=/; SameSite=Lax' +
      (domain ? '; Domain=' + domain : '') + (location.protocol === 'https:' ? '; Secure' : '');
    try { localStorage.setItem(K, id + ' ' + (Date.now() + days * 86400000)); } catch (e) {}
  }
  var landed = new URLSearchParams(location.search).get(param);
  if (landed && ok.test(landed)) keep(landed);
  function send(data) {
    var body = new URLSearchParams();
    for (var k in data) if (data[k] != null && data[k] !== '') body.append(k, String(data[k]));
    var cid = read();
    if (cid && !body.has('click_id')) body.append('click_id', cid);
    var url = base + '/b/conversion';
    try { if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return; } catch (e) {}
    try { fetch(url, { method: 'POST', body: body, keepalive: true, mode: 'no-cors', credentials: 'include' }); } catch (e) {}
  }
  function clickhop(command, data) {
    if (command === 'conversion') send(data || {});
    else if (command === 'click_id') return read();
  }
  var queued = (w.clickhop && w.clickhop.q) || [];
  w.clickhop = clickhop;
  for (var i = 0; i < queued.length; i++) clickhop.apply(null, queued[i]);
})(window, document);
`;

/** A short, stable name for this build of the tag (FNV-1a of its source): its ?v= and ETag. */
function versionOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

export const TAG_SOURCE = SOURCE;
export const TAG_VERSION = versionOf(SOURCE);
const ETAG = `"t-${TAG_VERSION}"`;

/** Browsers and CDNs revalidate /t.js hourly; /t.js?v=<this version> never changes. */
const SHORT_CACHE = 'public, max-age=3600';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The tag, or 304 when the browser holds this version. No storage is read. */
export function serveTag(request: Request): Response {
  const url = new URL(request.url);
  const pinned = url.searchParams.get('v') === TAG_VERSION;
  const headers = {
    'Content-Type': 'text/javascript; charset=UTF-8',
    'Cache-Control': pinned ? IMMUTABLE : SHORT_CACHE,
    ETag: ETAG,
    'Access-Control-Allow-Origin': '*',
    'X-Content-Type-Options': 'nosniff',
  };
  const match = request.headers.get('if-none-match');
  if (match?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === ETAG)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === 'HEAD' ? null : SOURCE, { status: 200, headers });
}
