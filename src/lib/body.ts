// Request bodies read as bytes, counted as they arrive. Content-Length is only a hint: a chunked
// body has none and a sender may lie, so the limit is enforced on the bytes actually read, and
// reading stops (the rest is cancelled, never buffered) as soon as it is passed.
import { ApiError } from './errors';

export const tooLarge = (limit: number) =>
  new ApiError(413, 'payload_too_large', `Body is larger than ${Math.round(limit / 1024)} KiB`);

/** The whole body, at most `limit` bytes, or a 413 once more than that has arrived. */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limit) {
    await request.body?.cancel().catch(() => undefined);
    throw tooLarge(limit);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * The body as UTF-8 text (invalid sequences become U+FFFD, as `Request.text()` does). Decoding
 * bytes ourselves also keeps workerd from warning that `.text()` was called on a binary body.
 */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  return new TextDecoder().decode(await readBodyBytes(request, limit));
}
