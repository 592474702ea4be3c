// Reads a postback's raw parameters from the query string and the body (JSON, form or
// multipart). Both places count equally: a parameter may appear in either or both, but if it
// carries two different values (query vs body, or repeated) the request is refused rather than
// one value silently winning. Empty values count as absent (TradeTracker sends `tgi=`).
import type { Context } from 'hono';
import { readBodyBytes } from '../lib/body';
import { ApiError, badRequest } from '../lib/errors';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_PARAMS = 100;

export interface RawParams {
  /** Every non-empty value of each parameter, query first, then body. */
  values: Map<string, string[]>;
  bearer: string | null;
  /** True when an Authorization header was present (it is redacted in the log). */
  hasAuthorization: boolean;
}

/** Parameters of the query string alone: available even when the body cannot be read. */
export function queryParams(url: string): RawParams['values'] {
  const values = new Map<string, string[]>();
  const q = url.indexOf('?');
  if (q >= 0) for (const [name, value] of new URLSearchParams(url.slice(q + 1))) addParam(values, name, value);
  return values;
}

/** Adds a non-empty value of a parameter (empty values count as absent); the beacon reads the same way. */
export function addParam(values: Map<string, string[]>, name: string, value: string) {
  if (value === '') return;
  const list = values.get(name);
  if (list) list.push(value);
  else values.set(name, [value]);
}

export async function readParams(c: Context, into: RawParams['values']): Promise<RawParams> {
  const header = c.req.header('authorization') ?? null;
  const bearer = header ? (/^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null) : null;
  if (c.req.method === 'POST') await readBody(c, into);
  if (into.size > MAX_PARAMS) throw badRequest(`At most ${MAX_PARAMS} parameters`);
  return { values: into, bearer, hasAuthorization: header !== null };
}

/**
 * Bounded by the bytes actually read, whatever the encoding: a chunked or mislabelled body, or a
 * multipart one, stops at 64 KiB like any other (it used to be checked from Content-Length only,
 * and multipart not at all).
 */
async function readBody(c: Context, values: Map<string, string[]>) {
  const contentType = c.req.header('content-type') ?? '';
  const type = contentType.toLowerCase();
  const bytes = await readBodyBytes(c.req.raw, MAX_BODY_BYTES);
  const multipart = type.startsWith('multipart/form-data');
  const text = multipart ? null : new TextDecoder().decode(bytes);
  if (type.startsWith('application/json')) {
    readJson(text ?? '', values);
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(text ?? '')) addParam(values, name, value);
  } else if (multipart) {
    // Parsed from the bytes already read and counted, never from the stream again.
    const form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData().catch(() => {
      throw badRequest('Body is not valid multipart/form-data');
    });
    for (const [name, value] of form) {
      if (typeof value !== 'string')
        throw badRequest(`${name} must be a text field, not a file`, { [name]: 'is a file' });
      addParam(values, name, value);
    }
  } else if (text !== null && text.trim() !== '') {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'Send the body as application/json, application/x-www-form-urlencoded or multipart/form-data',
    );
  }
}

/** A JSON object of scalars; `products` may also be the array itself. */
function readJson(text: string, values: Map<string, string[]>) {
  if (text.trim() === '') return;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('Body is not valid JSON', { _: 'is not valid JSON' });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Body must be a JSON object', { _: 'must be a JSON object' });
  }
  for (const [name, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') addParam(values, name, value);
    else if (typeof value === 'number' || typeof value === 'boolean') addParam(values, name, String(value));
    else if (name === 'products') addParam(values, name, JSON.stringify(value));
    else throw badRequest(`${name} must be a string or a number`, { [name]: 'must be a string or a number' });
  }
}
