// Standard Webhooks signing: secrets are `whsec_` + base64 of 32 random bytes, and
// webhook-signature is `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the
// decoded secret. Several signatures are space-separated (during a secret rotation).
import { decodeBase64, encodeBase64 } from 'hono/utils/encode';
import type { EndpointRow } from '../db/endpoints';
import { hmacSha256, importHmacKey, randomBytes } from '../lib/crypto';

const PREFIX = 'whsec_';

// hono's base64 helpers take an ArrayBuffer: every Uint8Array passed below spans its whole buffer.

/** A new signing secret, shown to the operator once (at creation or rotation). */
export function newSigningSecret(): string {
  return PREFIX + encodeBase64(randomBytes(32).buffer);
}

/** The HMAC key inside a secret (the base64 after `whsec_`). */
export function signingKey(secret: string): Uint8Array {
  return decodeBase64(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
}

/** One `v1,<base64>` per secret, space-separated, for the webhook-signature header. */
export async function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): Promise<string> {
  const content = `${id}.${timestamp}.${body}`;
  const signatures = await Promise.all(
    secrets.map(
      async (secret) =>
        `v1,${encodeBase64((await hmacSha256(await importHmacKey(signingKey(secret)), content)).buffer)}`,
    ),
  );
  return signatures.join(' ');
}

/** Signing secrets in force at `now`: the current one, plus the previous one during its grace. */
export function activeSecrets(
  endpoint: Pick<EndpointRow, 'signing_secret' | 'previous_signing_secret' | 'previous_secret_expires_at'>,
  now: string,
): string[] {
  const secrets = [endpoint.signing_secret];
  if (
    endpoint.previous_signing_secret &&
    endpoint.previous_secret_expires_at &&
    endpoint.previous_secret_expires_at > now
  ) {
    secrets.push(endpoint.previous_signing_secret);
  }
  return secrets;
}
