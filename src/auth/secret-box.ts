// Encryption at rest for TOTP secrets: AES-256-GCM under a key derived (HKDF-SHA256) from
// CLICK_ID_SECRET, so a copy of the database alone does not yield anyone's second factor. The
// stored form names the key id ("v1:<kid>:<base64url iv+ciphertext>"), so a rotation of
// CLICK_ID_SECRET keeps old secrets readable while the old one stays in
// CLICK_ID_PREVIOUS_SECRETS; the user id is bound in as associated data (a secret copied onto
// another row does not decrypt).
import { fromBase64UrlStrict, randomBytes, toBase64Url } from '../lib/crypto';

interface BoxEnv {
  CLICK_ID_SECRET?: string;
  CLICK_ID_KEY_ID?: string;
  CLICK_ID_PREVIOUS_SECRETS?: string;
}

const encoder = new TextEncoder();
const INFO = encoder.encode('clickhop totp secret v1');
const IV_BYTES = 12;

/** The raw secrets by key id: the current one and any retired ones still configured. */
function secretsByKeyId(env: BoxEnv): { current: number; secrets: Map<number, string> } {
  const secret = env.CLICK_ID_SECRET;
  if (!secret || secret.length < 16) throw new Error('CLICK_ID_SECRET must be set to at least 16 characters');
  const current = Number(env.CLICK_ID_KEY_ID ?? '1');
  const secrets = new Map<number, string>();
  for (const entry of (env.CLICK_ID_PREVIOUS_SECRETS ?? '').split(',')) {
    const colon = entry.indexOf(':');
    const id = Number(entry.slice(0, colon).trim());
    if (colon > 0 && Number.isInteger(id)) secrets.set(id, entry.slice(colon + 1).trim());
  }
  secrets.set(current, secret);
  return { current, secrets };
}

async function boxKey(secret: string, info: Uint8Array = INFO): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

const associated = (userId: number) => encoder.encode(`user:${userId}`);

export async function sealTotpSecret(env: BoxEnv, userId: number, plain: Uint8Array): Promise<string> {
  const { current, secrets } = secretsByKeyId(env);
  const iv = randomBytes(IV_BYTES);
  const key = await boxKey(secrets.get(current) as string);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: associated(userId) }, key, plain),
  );
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return `v1:${current}:${toBase64Url(out)}`;
}

/** The secret, and whether it was sealed under an older key (then it is worth sealing again). */
export async function openTotpSecret(
  env: BoxEnv,
  userId: number,
  stored: string,
): Promise<{ secret: Uint8Array; stale: boolean } | null> {
  const [version, kidText, body] = stored.split(':');
  const { current, secrets } = secretsByKeyId(env);
  const secret = secrets.get(Number(kidText));
  if (version !== 'v1' || !secret || !body) return null;
  const bytes = fromBase64UrlLoose(body);
  if (!bytes || bytes.length <= IV_BYTES) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: associated(userId) },
      await boxKey(secret),
      bytes.subarray(IV_BYTES),
    );
    return { secret: new Uint8Array(plain), stale: Number(kidText) !== current };
  } catch {
    return null;
  }
}

// Store integrations' webhook secrets (src/db/integrations.ts) are sealed the same way under
// their own derived key, bound to the advertiser and provider.
const INTEGRATION_INFO = encoder.encode('clickhop integration secret v1');

export async function sealIntegrationSecret(env: BoxEnv, binding: string, plain: string): Promise<string> {
  const { current, secrets } = secretsByKeyId(env);
  const iv = randomBytes(IV_BYTES);
  const key = await boxKey(secrets.get(current) as string, INTEGRATION_INFO);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: encoder.encode(binding) },
      key,
      encoder.encode(plain),
    ),
  );
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return `v1:${current}:${toBase64Url(out)}`;
}

export async function openIntegrationSecret(env: BoxEnv, binding: string, stored: string): Promise<string | null> {
  const [version, kidText, body] = stored.split(':');
  const secret = secretsByKeyId(env).secrets.get(Number(kidText));
  if (version !== 'v1' || !secret || !body) return null;
  const bytes = fromBase64UrlLoose(body);
  if (!bytes || bytes.length <= IV_BYTES) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: encoder.encode(binding) },
      await boxKey(secret, INTEGRATION_INFO),
      bytes.subarray(IV_BYTES),
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

/** base64url of any length (toBase64Url leaves no padding, so the length need not be a multiple of 4). */
function fromBase64UrlLoose(text: string): Uint8Array | null {
  const rest = text.length % 4;
  if (rest === 1) return null;
  const padded = rest === 0 ? text : text + 'A'.repeat(4 - rest);
  const bytes = fromBase64UrlStrict(padded);
  return bytes ? bytes.subarray(0, bytes.length - (rest === 0 ? 0 : 4 - rest === 1 ? 1 : 2)) : null;
}
