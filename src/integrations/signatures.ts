// Webhook signatures exactly as each provider documents them (docs/store-integrations.md).
// Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, each v1 the hex
// HMAC-SHA256 of `${t}.${raw body}` keyed with the endpoint secret string (whsec_... as shown);
// any v1 may match (several during a secret roll), the timestamp within a tolerance of 300 s.
// Shopify: `X-Shopify-Hmac-Sha256: <base64>`, the HMAC-SHA256 of the raw body keyed with the
// app's secret. Every comparison is in constant time.
import { hmacSha256, importHmacKey, timingSafeEqualBytes } from '../lib/crypto';

export const STRIPE_TOLERANCE_SECONDS = 300;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

const encoder = new TextEncoder();

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function hexBytes(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The bytes of standard base64 text; none when it is not base64. */
function base64Bytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return new Uint8Array(0);
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    return new Uint8Array(0);
  }
}

export async function verifyStripeSignature(
  header: string | undefined,
  rawBody: Uint8Array,
  secret: string,
  nowSeconds: number,
  tolerance = STRIPE_TOLERANCE_SECONDS,
): Promise<SignatureCheck> {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing Stripe-Signature header' };
  let timestamp: string | undefined;
  const signatures: Uint8Array[] = [];
  // Elements other than t and v1 (v0, test-mode extras) are ignored, as Stripe says to.
  for (const element of header.split(',')) {
    const at = element.indexOf('=');
    if (at < 0) continue;
    const name = element.slice(0, at).trim();
    const value = element.slice(at + 1).trim();
    if (name === 't') timestamp ??= value;
    else if (name === 'v1') {
      const bytes = hexBytes(value);
      if (bytes) signatures.push(bytes);
    }
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: 'no timestamp in Stripe-Signature' };
  }
  if (signatures.length === 0) return { ok: false, reason: 'no v1 signature in Stripe-Signature' };
  const key = await importHmacKey(secret);
  const expected = await hmacSha256(key, concat(encoder.encode(`${timestamp}.`), rawBody));
  // Every candidate is compared, so the time taken says nothing about which one matched.
  let matched = false;
  for (const candidate of signatures) matched = timingSafeEqualBytes(candidate, expected) || matched;
  if (!matched) return { ok: false, reason: 'no v1 signature matches the body' };
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) {
    return { ok: false, reason: `timestamp outside the ${tolerance} s tolerance` };
  }
  return { ok: true };
}

export async function verifyShopifyHmac(
  header: string | undefined,
  rawBody: Uint8Array,
  secret: string,
): Promise<SignatureCheck> {
  if (header === undefined || header.trim() === '')
    return { ok: false, reason: 'missing X-Shopify-Hmac-Sha256 header' };
  const given = base64Bytes(header.trim());
  if (given.length !== 32) return { ok: false, reason: 'X-Shopify-Hmac-Sha256 is not a base64 SHA-256 HMAC' };
  const expected = await hmacSha256(await importHmacKey(secret), rawBody);
  return timingSafeEqualBytes(given, expected) ? { ok: true } : { ok: false, reason: 'HMAC does not match the body' };
}
