// The browser-facing routes (issue 23, docs/browser-tracking.md): the tag /t.js and its beacon
// POST /b/conversion, the pixel /px (and /px.html, TUNE's /aff_l), impressions /i/ and TUNE's
// /aff_i, and TUNE's publisher link /aff_c. None of them ever answers an error to a browser: a
// tag or pixel must never break a page. What happened is in the postback log.
import { type Context, Hono } from 'hono';
import { handleClick } from '../click/route';
import { readBodyBytes } from '../lib/body';
import { ApiError } from '../lib/errors';
import { addParam, queryParams } from '../postback/params';
import {
  BROWSER_FIELDS,
  type BrowserConversionRequest,
  type FieldNames,
  recordBrowserConversion,
  TUNE_PIXEL_FIELDS,
} from './convert';
import { gifResponse } from './gif';
import { handleImpression } from './impressions';
import { serveTag } from './tag';

type BrowserEnv = { Bindings: Env };

export const browserRoutes = new Hono<BrowserEnv>();

/** As /postback: 64 KiB of body, 100 parameters. */
export const MAX_BEACON_BYTES = 64 * 1024;
const MAX_PARAMS = 100;

// A beacon's answer is never read: any origin may send, no credentials are granted to a reader.
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
};
const noContent = () => new Response(null, { status: 204, headers: { ...CORS, 'Cache-Control': 'no-store' } });

browserRoutes.get('/t.js', (c) => serveTag(c.req.raw));

/** The CORS preflight of a JSON fetch to the beacon (src/index.ts answers it before the app). */
export const isBeaconPreflight = (request: Request) =>
  request.method === 'OPTIONS' && new URL(request.url).pathname === '/b/conversion';
export const beaconPreflight = () => noContent();

browserRoutes.post('/b/conversion', async (c) => {
  const values = queryParams(c.req.url);
  const request: BrowserConversionRequest = {
    request: c.req.raw,
    reporter: 'browser',
    values,
    fields: BROWSER_FIELDS,
    answerStatus: 204,
  };
  try {
    await readBeaconBody(c.req.raw, values);
  } catch (error) {
    // Too large or not parseable: logged as refused like any other browser conversion.
    const refusal = error instanceof ApiError ? error : new ApiError(400, 'invalid_request', 'Unreadable body');
    request.refusal = refusal;
  }
  await recordBrowserConversion(c.env, c.executionCtx, request);
  return noContent();
});

// The pixel records before it answers: the browser cannot retry, so a conversion handed to
// waitUntil after the answer could be lost with its isolate (docs/browser-tracking.md).
async function recordPixel(c: Context<BrowserEnv>, fields: FieldNames): Promise<void> {
  if (c.req.method !== 'GET') return; // HEAD (link checkers) records nothing
  await recordBrowserConversion(c.env, c.executionCtx, {
    request: c.req.raw,
    reporter: 'pixel',
    values: queryParams(c.req.url),
    fields,
    answerStatus: 200,
  });
}

browserRoutes.get('/px', async (c) => {
  await recordPixel(c, BROWSER_FIELDS);
  return gifResponse();
});

browserRoutes.get('/aff_l', async (c) => {
  await recordPixel(c, TUNE_PIXEL_FIELDS);
  return gifResponse();
});

// The iframe form of the pixel: the same recording, an empty page.
browserRoutes.get('/px.html', async (c) => {
  await recordPixel(c, BROWSER_FIELDS);
  return new Response('<!doctype html><title></title>', {
    status: 200,
    headers: {
      'Content-Type': 'text/html; charset=UTF-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    },
  });
});

browserRoutes.get('/i/:offerId/:publisherId', (c) =>
  handleImpression(c.req.raw, c.env, c.executionCtx, c.req.param('offerId'), c.req.param('publisherId')),
);

browserRoutes.get('/aff_i', (c) =>
  handleImpression(c.req.raw, c.env, c.executionCtx, c.req.query('offer_id') ?? null, c.req.query('aff_id') ?? null),
);

// TUNE's publisher link: /aff_c?offer_id=&aff_id=&aff_sub..aff_sub5=&url= answers as /c/.
browserRoutes.get('/aff_c', (c) =>
  handleClick(c.req.raw, c.env, c.executionCtx, c.req.query('offer_id') ?? '', c.req.query('aff_id') ?? ''),
);

/**
 * The beacon's body: a form (what the tag sends), multipart (a FormData beacon), JSON, or JSON
 * sent as text/plain (what sendBeacon makes of a string). Counted as it arrives, at most 64 KiB
 * and 100 parameters; file parts are ignored.
 */
async function readBeaconBody(request: Request, values: Map<string, string[]>): Promise<void> {
  const contentType = request.headers.get('content-type') ?? '';
  const type = contentType.toLowerCase();
  const bytes = await readBodyBytes(request, MAX_BEACON_BYTES);
  if (type.startsWith('multipart/form-data')) {
    // Parsed from the bytes already read and counted (a FormData beacon), never from the stream.
    const form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData().catch(() => {
      throw new ApiError(400, 'invalid_request', 'Body is not valid multipart/form-data');
    });
    for (const [name, value] of form) if (typeof value === 'string') addParam(values, name, value);
    if (values.size > MAX_PARAMS) throw new ApiError(400, 'invalid_request', `At most ${MAX_PARAMS} parameters`);
    return;
  }
  const text = new TextDecoder().decode(bytes).trim();
  if (text !== '') {
    if (
      type.startsWith('application/json') ||
      (!type.startsWith('application/x-www-form-urlencoded') && text.startsWith('{'))
    ) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiError(400, 'invalid_request', 'Body is not valid JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new ApiError(400, 'invalid_request', 'Body must be a JSON object');
      }
      for (const [name, value] of Object.entries(body)) {
        if (typeof value === 'string') addParam(values, name, value);
        else if (typeof value === 'number' && Number.isFinite(value)) addParam(values, name, String(value));
        else if (value !== null && value !== undefined) {
          throw new ApiError(400, 'invalid_request', `${name.slice(0, 64)} must be a string or a number`);
        }
      }
    } else {
      for (const [name, value] of new URLSearchParams(text)) addParam(values, name, value);
    }
  }
  if (values.size > MAX_PARAMS) throw new ApiError(400, 'invalid_request', `At most ${MAX_PARAMS} parameters`);
}
