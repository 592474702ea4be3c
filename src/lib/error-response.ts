// The contract's JSON error answer for anything thrown while handling a request: the status and
// code of an ApiError, or a logged 500 that reveals nothing about the failure.
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, type ErrorBody, errorBody } from './errors';
import { errorFields, log } from './log';
import { deploymentSecrets } from './redact';

export function errorAnswer(
  error: unknown,
  request: Request,
  env: Partial<Pick<Env, 'ADMIN_TOKEN'>>,
): { body: ErrorBody; status: ContentfulStatusCode } {
  if (error instanceof ApiError) return { body: error.answerBody(deploymentSecrets(env)), status: error.status };
  if (error instanceof HTTPException) {
    return {
      body: errorBody('http_error', error.message || 'Request refused'),
      status: error.status as ContentfulStatusCode,
    };
  }
  const path = new URL(request.url).pathname;
  log('error', 'http.unhandled', { method: request.method, path, ...errorFields(error) });
  return { body: errorBody('internal_error', 'Internal error'), status: 500 };
}

/** errorAnswer as a Response, for requests answered outside the Hono app. */
export function errorResponse(error: unknown, request: Request, env: Partial<Pick<Env, 'ADMIN_TOKEN'>>): Response {
  const { body, status } = errorAnswer(error, request, env);
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=UTF-8' },
  });
}
