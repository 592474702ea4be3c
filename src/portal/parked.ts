// The operator's retry of a parked queue message from the portal's overview: the admin API's
// operation as the signed-in operator (audited there; the session's CSRF token was checked by
// the guard), then back to the overview with the outcome or the error code.
import type { Context } from 'hono';
import { retryNoticeCode } from '../dashboard/parked';
import { callApi } from './api';
import type { PortalEnv } from './env';

export async function retryParkedAction(c: Context<PortalEnv>): Promise<Response> {
  const answer = await callApi<{ outcome?: string }>(
    c,
    'POST',
    `/parked/${encodeURIComponent(c.req.param('id') ?? '')}/retry`,
  );
  const code = retryNoticeCode(answer.status === 202 ? answer.body.outcome : answer.body.error?.code);
  return c.redirect(`/portal?parked=${code}#parked`, 303);
}
