// What an attempt's outcome means for the delivery: delivered, retried later (and when), or
// dead. Pure, so the schedule can be tested exhaustively.
import type { SendOutcome } from './send';

/**
 * Sends per queue message: the first plus wrangler.jsonc's `max_retries: 20` for the
 * notifications consumer. The schedule counts the message's own attempts, so the failure that
 * marks a delivery dead is the one after which the Queue moves the message to the DLQ.
 */
export const MAX_ATTEMPTS = 21;
export const FIRST_RETRY_DELAY_S = 15;
export const MAX_RETRY_DELAY_S = 2 * 3600;
/** Cloudflare Queues refuse longer retry delays (12 h). */
export const MAX_QUEUE_DELAY_S = 43_200;

/**
 * Delay after the `attempt`-th failed send (1-based): 15 s doubling to a 2 h cap, i.e. 15 s,
 * 30 s, 1 m, 2 m, 4 m, 8 m, 16 m, 32 m, 64 m, then every 2 h. The 20 delays add up to
 * 86,865 s (about 24 h 8 m) between the first and the 21st attempt.
 */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(MAX_RETRY_DELAY_S, FIRST_RETRY_DELAY_S * 2 ** Math.max(0, attempt - 1));
}

/** Retry-After as seconds from now (delta-seconds or an HTTP date), or null if absent/invalid. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // Otherwise an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone would take "-5".
  if (!/^[A-Za-z]{3}, /.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

export type Verdict =
  | { kind: 'delivered' }
  | { kind: 'retry'; delaySeconds: number; error: string }
  /** deadLetter: hand the message to the Queue's DLQ (retry budget spent), else acknowledge it. */
  | { kind: 'dead'; error: string; deadLetter: boolean; disableEndpoint: boolean };

function describe(outcome: SendOutcome): string {
  if (outcome.status === null) return outcome.error ?? 'no answer';
  const status = outcome.status;
  if (status >= 300 && status < 400) {
    return `HTTP ${status}: redirect not followed${outcome.location ? ` (Location: ${outcome.location.slice(0, 300)})` : ''}`;
  }
  if (status === 410) return 'HTTP 410: endpoint gone, endpoint disabled';
  if ((status === 429 || status === 503) && outcome.retryAfter) {
    return `HTTP ${status} (Retry-After: ${outcome.retryAfter.slice(0, 100)})`;
  }
  return `HTTP ${status}`;
}

/**
 * 2xx is success. 410 disables the endpoint and ends the delivery. Anything else (3xx, 4xx,
 * 5xx, timeout, connection error) is retried on the schedule; on 429/503 no sooner than
 * Retry-After says (capped at 12 h). After the last attempt the delivery is dead.
 */
export function classify(outcome: SendOutcome, messageAttempt: number, nowMs: number): Verdict {
  const status = outcome.status;
  if (status !== null && status >= 200 && status < 300) return { kind: 'delivered' };
  const error = describe(outcome);
  if (status === 410) return { kind: 'dead', error, deadLetter: false, disableEndpoint: true };
  if (messageAttempt >= MAX_ATTEMPTS) {
    return {
      kind: 'dead',
      error: `${error}; gave up after ${messageAttempt} attempts`,
      deadLetter: true,
      disableEndpoint: false,
    };
  }
  let delaySeconds = retryDelaySeconds(messageAttempt);
  if (status === 429 || status === 503) {
    const retryAfter = parseRetryAfter(outcome.retryAfter, nowMs);
    if (retryAfter !== null) delaySeconds = Math.max(delaySeconds, Math.min(retryAfter, MAX_QUEUE_DELAY_S));
  }
  return { kind: 'retry', delaySeconds, error };
}
