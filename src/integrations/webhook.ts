// What the store integrations share: the bounded body, the advertiser's sealed secret, the
// signature check, the postback log row of every request (a bad signature included, nothing
// else stored), and the JSON answer. Sales and refunds go through the postback path
// (sale.ts, refund.ts), so dedup, terms, caps, notifications and rollups apply as to /postback.
import type { Context } from 'hono';
import { openIntegrationSecret } from '../auth/secret-box';
import { type AdvertiserRow, getAdvertiser } from '../db/advertisers';
import { getIntegration, type Provider, secretBinding } from '../db/integrations';
import type { PostbackOutcome } from '../db/postback-log';
import { readBodyBytes } from '../lib/body';
import { ApiError, badRequest } from '../lib/errors';
import { logRefusal, type PostbackLogEntry, startLogEntry, writeLogEntry } from '../postback/log';
import type { SignatureCheck } from './signatures';

export type WebhookEnv = { Bindings: Env };

/**
 * Stripe and Shopify events are larger than postbacks (an order with its line items, addresses
 * and discounts): 256 KiB, four times /postback's 64 KiB, counted as the bytes arrive.
 */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

export interface WebhookAnswer {
  outcome: PostbackOutcome;
  body: Record<string, unknown>;
  /** True when the conversion's own batch wrote the log row already. */
  logged?: boolean;
  /** An event acknowledged (200) without a change: why, for the log. */
  note?: { code: string; message: string };
}

export interface VerifiedWebhook {
  c: Context<WebhookEnv>;
  advertiser: AdvertiserRow;
  entry: PostbackLogEntry;
  /** The body parsed, integers too large for a double kept as their digits. */
  payload: Record<string, unknown>;
}

const numericId = (text: string | undefined): number | null =>
  text !== undefined && /^[1-9]\d{0,9}$/.test(text) && Number(text) <= 0xffffffff ? Number(text) : null;

const unsigned = (reason: string) => new ApiError(401, 'invalid_signature', `Signature not verified: ${reason}`);

/**
 * JSON whose big integers (Shopify's order ids can pass 2^53) keep every digit: the parser's
 * source text of such a number is kept as a string.
 */
export function parseWebhookJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text, (_key, v: unknown, context?: { source?: string }) =>
      typeof v === 'number' && !Number.isSafeInteger(v) && context?.source && /^-?\d+$/.test(context.source)
        ? context.source
        : v,
    );
  } catch {
    throw badRequest('Body is not valid JSON', { _: 'is not valid JSON' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('Body must be a JSON object', { _: 'must be a JSON object' });
  }
  return value as Record<string, unknown>;
}

export async function handleWebhook(
  c: Context<WebhookEnv>,
  provider: Provider,
  /** Request headers worth keeping in the log (never a signature). */
  logged: Record<string, string | undefined>,
  verify: (raw: Uint8Array, secret: string) => Promise<SignatureCheck>,
  process: (hook: VerifiedWebhook) => Promise<WebhookAnswer>,
): Promise<Response> {
  const entry = startLogEntry(c, provider);
  for (const [name, value] of Object.entries(logged)) if (value !== undefined) entry.params[name] = value;
  try {
    const advertiserId = numericId(c.req.param('advertiserId'));
    const [advertiser, integration] =
      advertiserId === null
        ? [null, null]
        : await Promise.all([getAdvertiser(c.env.DB, advertiserId), getIntegration(c.env.DB, advertiserId, provider)]);
    // The advertiser sees refusals of its own endpoint (a wrong secret, an oversized event) in its log.
    if (advertiser && integration) entry.advertiser_id = advertiser.id;
    const raw = await readBodyBytes(c.req.raw, MAX_WEBHOOK_BYTES);
    if (!advertiser || !integration) throw unsigned(`no ${provider} secret is set for this advertiser`);
    const secret = await openIntegrationSecret(
      c.env,
      secretBinding(advertiser.id, provider),
      integration.sealed_secret,
    );
    if (secret === null) throw unsigned(`the stored ${provider} secret cannot be opened; set it again`);
    const check = await verify(raw, secret);
    if (!check.ok) throw unsigned(check.reason);
    const payload = parseWebhookJson(new TextDecoder().decode(raw));
    const answer: WebhookAnswer = await process({ c, advertiser, entry, payload }).catch((error: unknown) => {
      if (!(error instanceof ApiError) || !final(error)) throw error;
      const note = { code: error.code, message: error.message };
      return { outcome: 'refused' as const, body: { error: error.toJSON().error }, note };
    });
    if (!answer.logged) await writeLogEntry(c.env.DB, c.executionCtx, entry, answer.outcome, 200, answer.note);
    return c.json({ status: answer.outcome === 'refused' ? 'refused' : 'ok', outcome: answer.outcome, ...answer.body });
  } catch (error) {
    const refused = await logRefusal(c.env.DB, c.executionCtx, entry, error);
    return c.json(refused.toJSON(), refused.status);
  }
}

/**
 * A signed event that can never be attributed (an unknown, forged or expired click ID, an
 * unknown coupon, a bad amount): acknowledged with 200 and logged as refused, so the provider
 * does not retry it for days and flag the endpoint as failing. A conflict (409: written
 * concurrently) and server errors are answered as such, so the provider retries.
 */
const final = (error: ApiError) => error.status >= 400 && error.status < 500 && error.status !== 409;

/** A text field of a JSON object, or undefined. */
export const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;

export const object = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
