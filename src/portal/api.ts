// Portal actions go through the same /api/v1 operations as API keys, called in-process as the
// signed-in person: scope, validation and the audit log are enforced in one place (the API),
// and the portal only turns answers into pages. The principal travels with the Request object
// (see auth/internal.ts), never in a header a client could send.
import type { Context } from 'hono';
import { asPrincipal } from '../auth/internal';
import type { PortalEnv } from './env';

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

export interface ApiProblem {
  error?: { code?: string; message?: string; fields?: Record<string, string> };
}

/** Loaded lazily: the app imports the portal, so importing it back must wait for first use. */
const appFetch = async (request: Request, env: Env, ctx: ExecutionContext) =>
  (await import('../app')).app.fetch(request, env, ctx);

function executionContext(c: Context): ExecutionContext {
  try {
    return c.executionCtx as ExecutionContext;
  } catch {
    return { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
  }
}

export async function callApi<T = Record<string, unknown>>(
  c: Context<PortalEnv>,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  /** Sends `body` (text) as it is with this type instead of as JSON (a CSV file). */
  contentType?: string,
): Promise<ApiAnswer<T & ApiProblem>> {
  const request = new Request(new URL(`/api/v1${path}`, c.req.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType ?? 'application/json' },
    body: body === undefined ? undefined : contentType ? String(body) : JSON.stringify(body),
  });
  asPrincipal(request, c.get('principal'));
  const response = await appFetch(request, c.env, executionContext(c));
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T & ApiProblem };
}

/** An API refusal as one sentence for a notice: the message and each field's problem. */
export function problemText(answer: ApiAnswer<ApiProblem>): string {
  const error = answer.body.error;
  const fields = error?.fields ? Object.entries(error.fields).map(([name, problem]) => `${name}: ${problem}`) : [];
  return [error?.message ?? `Request failed (${answer.status})`, ...fields].join('. ');
}
