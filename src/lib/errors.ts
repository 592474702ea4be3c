// Errors are values with an HTTP status and a stable code; app.onError turns them into the
// contract's JSON shape {"error":{"code","message","fields"}}.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type * as z from 'zod';
import { redactKeys } from './redact';

export type FieldErrors = Record<string, string>;

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldErrors };
}

/** The contract's error body; every JSON error answer is built here. */
export function errorBody(code: string, message: string, fields?: FieldErrors): ErrorBody {
  return { error: { code, message, ...(fields && Object.keys(fields).length > 0 ? { fields } : {}) } };
}

/**
 * Messages and field names often quote what the client sent; a credential sent in the wrong
 * field must not come back in an answer or land in the postback log, so credential-shaped text
 * is redacted here, where every error is made (the ADMIN_TOKEN, which has no shape, where the
 * answer is made: answerBody).
 */
export class ApiError extends Error {
  readonly fields?: FieldErrors;

  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    fields?: FieldErrors,
  ) {
    super(redactKeys(message));
    this.name = 'ApiError';
    if (fields) {
      const redacted: FieldErrors = {};
      for (const [name, text] of Object.entries(fields)) setField(redacted, redactKeys(name), redactKeys(text));
      this.fields = redacted;
    }
  }

  toJSON(): ErrorBody {
    return errorBody(this.code, this.message, this.fields);
  }

  /** The answer's body with the deployment's `secrets` (redact.ts) removed by value too. */
  answerBody(secrets: readonly string[]): ErrorBody {
    if (secrets.length === 0) return this.toJSON();
    const fields: FieldErrors = {};
    for (const [name, text] of Object.entries(this.fields ?? {})) {
      setField(fields, redactKeys(name, secrets), redactKeys(text, secrets));
    }
    return errorBody(this.code, redactKeys(this.message, secrets), fields);
  }
}

export const badRequest = (message: string, fields?: FieldErrors) =>
  new ApiError(400, 'invalid_request', message, fields);

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/**
 * Sets the first message of a field. A field may be named `__proto__` (a JSON body can hold that
 * key): plain assignment would set the object's prototype and lose the field, so it is defined.
 */
function setField(fields: FieldErrors, name: string, message: string): void {
  if (Object.hasOwn(fields, name)) return;
  Object.defineProperty(fields, name, { value: message, enumerable: true, writable: true, configurable: true });
}

/** One message per field path, e.g. {"goals.0.payout": "Invalid decimal amount"}. */
export function zodFieldErrors(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      // Name each unexpected key as the field, not the object that holds it.
      for (const key of issue.keys) setField(fields, [...base, key].join('.'), 'is not a field of this resource');
      continue;
    }
    setField(fields, base.join('.') || '_', issue.message);
  }
  return fields;
}

export function invalidFields(error: z.ZodError): ApiError {
  const fields = zodFieldErrors(error);
  return badRequest(`Invalid ${Object.keys(fields).join(', ')}`, fields);
}
