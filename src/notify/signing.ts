// Standard Webhooks signing: secrets are `whsec_` + base64 of 32 random bytes, and
// webhook-signature is `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the
// decoded secret. Several signatures are space-separated (during a secret rotation).
import { hmacSha256, importHmacKey, randomBytes } from '../lib/crypto';

const PREFIX = 'whsec_';

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** A new signing secret, shown to the operator once (at creation or rotation). */
export function newSigningSecret(): string {
  return PREFIX + toBase64(randomBytes(32));
}

/** The HMAC key inside a secret (the base64 after `whsec_`). */
export function signingKey(secret: string): Uint8Array {
  return fromBase64(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
}

/** One `v1,<base64>` per secret, space-separated, for the webhook-signature header. */
export async function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): Promise<string> {
  const content = `${id}.${timestamp}.${body}`;
  const signatures = await Promise.all(
    secrets.map(async (secret) => `v1,${toBase64(await hmacSha256(await importHmacKey(signingKey(secret)), content))}`),
  );
  return signatures.join(' ');
}
