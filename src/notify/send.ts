// One HTTP attempt: a time limit over the whole exchange, redirects never followed (a 3xx is
// answered as is, so a redirect cannot lead around the destination checks), and only the first
// bytes of the answer kept for the log.
import type { OutboundRequest } from './payload';

/** Time limit of one attempt (connect, headers and the snippet), within the 15-30 s guidance. */
export const SEND_TIMEOUT_MS = 20_000;
/** Bytes of the response body kept in the delivery log. */
export const SNIPPET_BYTES = 1024;

export interface SendOutcome {
  /** HTTP status, or null when no response arrived (timeout, connection error). */
  status: number | null;
  latencyMs: number;
  snippet: string | null;
  /** Why no response arrived. */
  error: string | null;
  retryAfter: string | null;
  location: string | null;
}

async function readSnippet(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // Stop downloading whatever is left of a large answer.
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    if (offset >= bytes.length) break;
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(bytes);
}

export async function sendRequest(request: OutboundRequest, timeoutMs = SEND_TIMEOUT_MS): Promise<SendOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const started = Date.now();
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: controller.signal,
    });
    let snippet: string | null = null;
    let error: string | null = null;
    try {
      snippet = await readSnippet(response, SNIPPET_BYTES);
    } catch (readError) {
      // The status line arrived, so the answer still counts; only the snippet is missing.
      error = timedOut
        ? `timeout while reading the answer (${timeoutMs} ms)`
        : `answer cut off: ${messageOf(readError)}`;
    }
    return {
      status: response.status,
      latencyMs: Date.now() - started,
      snippet,
      error,
      retryAfter: response.headers.get('retry-after'),
      location: response.headers.get('location'),
    };
  } catch (error) {
    const message = messageOf(error);
    return {
      status: null,
      latencyMs: Date.now() - started,
      snippet: null,
      error: timedOut ? `timeout: no complete answer within ${timeoutMs} ms` : `connection failed: ${message}`,
      retryAfter: null,
      location: null,
    };
  } finally {
    clearTimeout(timer);
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
