// Request validation with zod: one schema describes an input, and a failure becomes a 400
// naming every offending field.
import type { Context } from 'hono';
import type * as z from 'zod';
import { readBodyText } from './body';
import { ApiError, badRequest, invalidFields } from './errors';

export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw invalidFields(result.error);
  return result.data;
}

const MAX_JSON_BYTES = 64 * 1024;

/** The request's JSON object body, or a 400/413/415 that says what is wrong with it. */
export async function jsonBody(c: Context): Promise<unknown> {
  requireJson(c);
  return parseJsonObject(await readBodyText(c.req.raw, MAX_JSON_BYTES));
}

function requireJson(c: Context): void {
  if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, 'unsupported_media_type', 'Send a JSON body with Content-Type: application/json');
  }
}

function parseJsonObject(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw badRequest('Body must be a JSON object', { _: 'must be a JSON object' });
    }
    return value;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw badRequest('Body is not valid JSON', { _: 'is not valid JSON' });
  }
}

/** A JSON body that may be absent: an empty request without a Content-Type reads as {}. */
export async function optionalJsonBody(c: Context): Promise<unknown> {
  if (c.req.header('content-type')) return jsonBody(c);
  if ((await readBodyText(c.req.raw, MAX_JSON_BYTES)).trim() === '') return {};
  return jsonBody(c); // a body without a Content-Type: 415, without reading it again
}
