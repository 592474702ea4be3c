// Signed, self-describing click IDs. 36 bytes, base64url = exactly 48 characters:
//   version(1) key id(1) click time ms(6) offer id(4) publisher id(4) random(8) HMAC(12)
// The HMAC-SHA256 (truncated to 96 bits) covers the first 24 bytes, so a postback can reject a
// forged or altered ID, and learn the click's time, offer and publisher, without a storage read.
import {
  fromBase64UrlStrict,
  type HmacSigner,
  hmacSigner,
  randomBytes,
  timingSafeEqualBytes,
  toBase64Url,
} from '../lib/crypto';

export const CLICK_ID_LENGTH = 48;
const VERSION = 1;
const SIGNED_LENGTH = 24;
const MAC_LENGTH = 12;

export interface ClickIdParts {
  keyId: number;
  clickedAt: number;
  offerId: number;
  publisherId: number;
}

export interface ClickIdKeys {
  current: { keyId: number; key: HmacSigner };
  byKeyId: Map<number, HmacSigner>;
}

interface KeyEnv {
  CLICK_ID_SECRET?: string;
  CLICK_ID_KEY_ID?: string;
  CLICK_ID_PREVIOUS_SECRETS?: string;
}

let cached: { source: string; keys: Promise<ClickIdKeys> } | undefined;

/**
 * Keys from the Worker's secrets, imported once per isolate. CLICK_ID_PREVIOUS_SECRETS holds
 * retired keys ("kid:secret,kid:secret") that still verify IDs minted before a rotation.
 */
export function clickIdKeys(env: KeyEnv): Promise<ClickIdKeys> {
  const secret = env.CLICK_ID_SECRET;
  if (!secret || secret.length < 16) {
    throw new Error('CLICK_ID_SECRET must be set to at least 16 characters');
  }
  const source = `${env.CLICK_ID_KEY_ID ?? '1'}\n${secret}\n${env.CLICK_ID_PREVIOUS_SECRETS ?? ''}`;
  if (cached?.source !== source) cached = { source, keys: Promise.resolve().then(() => loadKeys(env, secret)) };
  return cached.keys;
}

function loadKeys(env: KeyEnv, secret: string): ClickIdKeys {
  const keyId = Number(env.CLICK_ID_KEY_ID ?? '1');
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) throw new Error('CLICK_ID_KEY_ID must be 0-255');
  const byKeyId = new Map<number, HmacSigner>();
  for (const entry of (env.CLICK_ID_PREVIOUS_SECRETS ?? '').split(',')) {
    const colon = entry.indexOf(':');
    if (colon < 1) continue;
    const previousId = Number(entry.slice(0, colon).trim());
    if (Number.isInteger(previousId) && previousId >= 0 && previousId <= 255) {
      byKeyId.set(previousId, hmacSigner(entry.slice(colon + 1).trim()));
    }
  }
  const key = hmacSigner(secret);
  byKeyId.set(keyId, key);
  return { current: { keyId, key }, byKeyId };
}

export async function mintClickId(
  keys: ClickIdKeys,
  parts: { clickedAt: number; offerId: number; publisherId: number },
): Promise<string> {
  const bytes = new Uint8Array(SIGNED_LENGTH + MAC_LENGTH);
  const view = new DataView(bytes.buffer);
  bytes[0] = VERSION;
  bytes[1] = keys.current.keyId;
  view.setUint16(2, Math.floor(parts.clickedAt / 2 ** 32));
  view.setUint32(4, parts.clickedAt >>> 0);
  view.setUint32(8, parts.offerId);
  view.setUint32(12, parts.publisherId);
  bytes.set(randomBytes(8), 16);
  const mac = keys.current.key.sign(bytes.subarray(0, SIGNED_LENGTH));
  bytes.set(mac.subarray(0, MAC_LENGTH), SIGNED_LENGTH);
  return toBase64Url(bytes);
}

/** The parts of a genuine click ID, or null for anything malformed, forged or altered. */
export async function verifyClickId(keys: ClickIdKeys, clickId: string): Promise<ClickIdParts | null> {
  if (clickId.length !== CLICK_ID_LENGTH) return null;
  const bytes = fromBase64UrlStrict(clickId);
  if (!bytes || bytes[0] !== VERSION) return null;
  const key = keys.byKeyId.get(bytes[1] as number);
  if (!key) return null;
  const mac = key.sign(bytes.subarray(0, SIGNED_LENGTH));
  if (!timingSafeEqualBytes(mac.subarray(0, MAC_LENGTH), bytes.subarray(SIGNED_LENGTH))) return null;
  const view = new DataView(bytes.buffer);
  return {
    keyId: bytes[1] as number,
    clickedAt: view.getUint16(2) * 2 ** 32 + view.getUint32(4),
    offerId: view.getUint32(8),
    publisherId: view.getUint32(12),
  };
}
