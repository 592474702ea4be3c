// Portal form bodies go through the counted reader /postback uses (src/lib/body.ts) before
// anything parses them: the sign-in, invitation, reset and second-step forms are open to anyone
// (or to a sign-in under way), and a signed-in form is read to find its CSRF token before that
// token is checked. Past 64 KiB reading stops and the person gets a page saying so; no portal
// form comes near that size.
import type { Context } from 'hono';
import { html } from '../dashboard/html';
import { readBodyBytes } from '../lib/body';
import { ApiError } from '../lib/errors';
import { notice, publicPage } from './layout';

export const MAX_FORM_BYTES = 64 * 1024;

const FORM_TYPE = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i;

/** Whether the request carries a form (other bodies are never read by the portal). */
export const isForm = (c: Context): boolean => FORM_TYPE.test(c.req.header('content-type') ?? '');

/**
 * Reads a form's body, counted, and makes those bytes the request's body, so Hono's
 * parseBody() parses only what was counted. Null when it fits; otherwise the 413 page to answer.
 */
export async function boundFormBody(c: Context): Promise<Response | null> {
  if (!isForm(c)) return null;
  try {
    const bytes = await readBodyBytes(c.req.raw, MAX_FORM_BYTES);
    c.req.raw = new Request(c.req.raw, { body: bytes });
    return null;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 413) throw error;
    const body = html`<section aria-labelledby="too-large-title">
<h2 id="too-large-title">Form too large</h2>
${notice(`That form was larger than ${MAX_FORM_BYTES / 1024} KiB, so it was not read and nothing was changed.`, 'error')}
<p><a href="/portal">Back to the portal</a></p>
</section>`;
    c.header('Cache-Control', 'no-store');
    return c.html(publicPage('Form too large', body), 413);
  }
}

/**
 * A form posted without a session (reset link, code step, enrolment at sign-in), read through
 * boundFormBody: its text fields, or the 413 page to answer. A body that is not a form is not
 * read and has no fields.
 */
export async function readBoundForm(c: Context): Promise<Record<string, string> | Response> {
  const tooLarge = await boundFormBody(c);
  if (tooLarge) return tooLarge;
  if (!isForm(c)) return {};
  const fields = await c.req.parseBody();
  return Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
