// Errors are values with an HTTP status and a stable code; app.onError turns them into the
// contract's JSON shape {"error":{"code","message","fields"}}.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type * as z from 'zod';

export type FieldErrors = Record<string, string>;

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldErrors };
}

/** The contract's error body; every JSON error answer is built here. */
export function errorBody(code: string, message: string, fields?: FieldErrors): ErrorBody {
  return { error: { code, message, ...(fields && Object.keys(fields).length > 0 ? { fields } : {}) } };
}

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly fields?: FieldErrors,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): ErrorBody {
    return errorBody(this.code, this.message, this.fields);
  }
}

export const badRequest = (message: string, fields?: FieldErrors) =>
  new ApiError(400, 'invalid_request', message, fields);

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/** One message per field path, e.g. {"goals.0.payout": "Invalid decimal amount"}. */
export function zodFieldErrors(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      // Name each unexpected key as the field, not the object that holds it.
      for (const key of issue.keys) fields[[...base, key].join('.')] ??= 'is not a field of this resource';
      continue;
    }
    fields[base.join('.') || '_'] ??= issue.message;
  }
  return fields;
}

export function invalidFields(error: z.ZodError): ApiError {
  const fields = zodFieldErrors(error);
  return badRequest(`Invalid ${Object.keys(fields).join(', ')}`, fields);
}
