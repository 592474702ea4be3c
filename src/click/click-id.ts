// Signed, self-describing click IDs. 36 bytes, base64url = exactly 48 characters:
//   v1: version(1) key id(1) click time ms(6) offer id(4) publisher id(4) random(8) HMAC(12)
//   v2: version(1) key id(1) click time ms(6) offer id(4) publisher id(4) shard(1) random(7) HMAC(12)
// The HMAC-SHA256 (truncated to 96 bits) covers the first 24 bytes, so a postback can reject a
// forged or altered ID, and learn the click's time, offer, publisher and (v2) storage partition,
// without a storage read. v1 IDs (stored in D1) keep verifying; new clicks get v2.
import { fromBase64UrlStrict, type HmacSigner, hmacSigner, randomInto, toBase64Url } from '../lib/crypto';

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

// The redirect mints into one buffer per isolate and the MAC is written into it in place: a
// click allocates only its ID string (no DataView, no subarray views, no copies).
const minted = new Uint8Array(SIGNED_LENGTH + MAC_LENGTH);
const check = new Uint8Array(MAC_LENGTH);

/** Big-endian unsigned integer of `length` bytes at `offset`. */
function readUint(bytes: Uint8Array, offset: number, length: number): number {
  let n = 0;
  for (let i = 0; i < length; i++) n = n * 256 + (bytes[offset + i] as number);
  return n;
}

function writeUint(bytes: Uint8Array, offset: number, length: number, value: number): void {
  for (let i = length - 1; i >= 0; i--) {
    bytes[offset + i] = value % 256;
    value = Math.floor(value / 256);
  }
}

export async function mintClickId(
  keys: ClickIdKeys,
  parts: { clickedAt: number; offerId: number; publisherId: number; shard?: number },
): Promise<string> {
  const bytes = minted;
  // Without a shard the ID is v1 (kept for clicks stored in D1 and for tests of old IDs).
  const shard = parts.shard;
  if (shard !== undefined && (!Number.isInteger(shard) || shard < 0 || shard > 255)) {
    throw new Error('shard must be 0-255');
  }
  bytes[0] = shard === undefined ? V1 : V2;
  bytes[1] = keys.current.keyId;
  writeUint(bytes, 2, 6, parts.clickedAt);
  writeUint(bytes, 8, 4, parts.offerId);
  writeUint(bytes, 12, 4, parts.publisherId);
  if (shard === undefined) randomInto(bytes, 16, 8);
  else {
    bytes[16] = shard;
    randomInto(bytes, 17, 7);
  }
  keys.current.key.macInto(bytes, SIGNED_LENGTH, bytes, SIGNED_LENGTH, MAC_LENGTH);
  return toBase64Url(bytes);
}

/** The parts of a genuine click ID, or null for anything malformed, forged or altered. */
export async function verifyClickId(keys: ClickIdKeys, clickId: string): Promise<ClickIdParts | null> {
  if (clickId.length !== CLICK_ID_LENGTH) return null;
  const bytes = fromBase64UrlStrict(clickId);
  if (!bytes || (bytes[0] !== V1 && bytes[0] !== V2)) return null;
  const key = keys.byKeyId.get(bytes[1] as number);
  if (!key) return null;
  key.macInto(bytes, SIGNED_LENGTH, check, 0, MAC_LENGTH);
  // Constant time: every byte is compared whatever the first difference.
  let diff = 0;
  for (let i = 0; i < MAC_LENGTH; i++) diff |= (check[i] as number) ^ (bytes[SIGNED_LENGTH + i] as number);
  if (diff !== 0) return null;
  const parts: ClickIdParts = {
    keyId: bytes[1] as number,
    clickedAt: readUint(bytes, 2, 6),
    offerId: readUint(bytes, 8, 4),
    publisherId: readUint(bytes, 12, 4),
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
  return { clickedAt: readUint(bytes, 2, 6), shard: bytes[16] as number };
}
