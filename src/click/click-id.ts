// Signed, self-describing click IDs. 36 bytes, base64url = exactly 48 characters:
//   v1: version(1) key id(1) click time ms(6) offer id(4) publisher id(4) random(8) HMAC(12)
//   v2: version(1) key id(1) click time ms(6) offer id(4) publisher id(4) shard(1) random(7) HMAC(12)
// The HMAC-SHA256 (truncated to 96 bits) covers the first 24 bytes, so a postback can reject a
// forged or altered ID, and learn the click's time, offer, publisher and (v2) storage partition,
// without a storage read. v1 IDs (stored in D1) keep verifying; new clicks get v2.
import {
  fromBase64UrlStrict,
  type HmacSigner,
  hmacSigner,
  randomBytes,
  timingSafeEqualBytes,
  toBase64Url,
} from '../lib/crypto';

export const CLICK_ID_LENGTH = 48;
const V1 = 1;
const V2 = 2;
const SIGNED_LENGTH = 24;
const MAC_LENGTH = 12;

export interface ClickIdParts {
  keyId: number;
  clickedAt: number;
  offerId: number;
  publisherId: number;
  /** The partition shard of a v2 ID (see src/clicks/partition-key.ts); absent for a v1 ID. */
  shard?: number;
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
  parts: { clickedAt: number; offerId: number; publisherId: number; shard?: number },
): Promise<string> {
  const bytes = new Uint8Array(SIGNED_LENGTH + MAC_LENGTH);
  const view = new DataView(bytes.buffer);
  // Without a shard the ID is v1 (kept for clicks stored in D1 and for tests of old IDs).
  const shard = parts.shard;
  bytes[0] = shard === undefined ? V1 : V2;
  bytes[1] = keys.current.keyId;
  view.setUint16(2, Math.floor(parts.clickedAt / 2 ** 32));
  view.setUint32(4, parts.clickedAt >>> 0);
  view.setUint32(8, parts.offerId);
  view.setUint32(12, parts.publisherId);
  if (shard === undefined) bytes.set(randomBytes(8), 16);
  else {
    if (!Number.isInteger(shard) || shard < 0 || shard > 255) throw new Error('shard must be 0-255');
    bytes[16] = shard;
    bytes.set(randomBytes(7), 17);
  }
  const mac = keys.current.key.sign(bytes.subarray(0, SIGNED_LENGTH));
  bytes.set(mac.subarray(0, MAC_LENGTH), SIGNED_LENGTH);
  return toBase64Url(bytes);
}

/** The parts of a genuine click ID, or null for anything malformed, forged or altered. */
export async function verifyClickId(keys: ClickIdKeys, clickId: string): Promise<ClickIdParts | null> {
  if (clickId.length !== CLICK_ID_LENGTH) return null;
  const bytes = fromBase64UrlStrict(clickId);
  if (!bytes || (bytes[0] !== V1 && bytes[0] !== V2)) return null;
  const key = keys.byKeyId.get(bytes[1] as number);
  if (!key) return null;
  const mac = key.sign(bytes.subarray(0, SIGNED_LENGTH));
  if (!timingSafeEqualBytes(mac.subarray(0, MAC_LENGTH), bytes.subarray(SIGNED_LENGTH))) return null;
  const view = new DataView(bytes.buffer);
  const parts: ClickIdParts = {
    keyId: bytes[1] as number,
    clickedAt: view.getUint16(2) * 2 ** 32 + view.getUint32(4),
    offerId: view.getUint32(8),
    publisherId: view.getUint32(12),
  };
  if (bytes[0] === V2) parts.shard = bytes[16] as number;
  return parts;
}

/**
 * Click time and shard of a v2 ID, read without checking its signature: for routing a click that
 * our own redirect or Queue produced (the consumer), never for trusting an ID from outside.
 * Null for a v1 or malformed ID.
 */
export function clickIdPlacement(clickId: string): { clickedAt: number; shard: number } | null {
  if (clickId.length !== CLICK_ID_LENGTH) return null;
  const bytes = fromBase64UrlStrict(clickId);
  if (!bytes || bytes[0] !== V2) return null;
  const view = new DataView(bytes.buffer);
  return { clickedAt: view.getUint16(2) * 2 ** 32 + view.getUint32(4), shard: bytes[16] as number };
}
