// Advertiser authentication for postbacks: the postback key (parameter `key` or
// `Authorization: Bearer`), stored only as its SHA-256, and the advertiser's optional IP
// allow-list (CIDRs, IPv4 and IPv6) checked against cf-connecting-ip. An allow-list narrows who
// may send with the key; it replaces the key only where the advertiser says so explicitly
// (`keyless_ip_auth`), because a list alone used to switch keys off without anyone deciding it.
import type { AdvertiserRow } from '../db/advertisers';
import { BoundedMap } from '../lib/bounded-map';
import { sha256Hex, timingSafeEqualString } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { type Cidr, cidrContains, parseCidr, parseIp } from '../lib/ip';
import { log } from '../lib/log';
import type { PostbackReads } from './reads';

/**
 * Without a key, an advertiser is still identified when it has opted into keyless postbacks
 * (`keyless_ip_auth`), the postback carries a genuine click ID of one of its offers and comes
 * from an address on its non-empty IP allow-list: integrations that cannot add a key, like
 * TradeTracker's callback URL, are authenticated by address instead.
 */
// The hashes of postback keys seen lately in this isolate: a key is hashed once, not on every
// postback. Bounded; the oldest entry goes first. Only a hit skips the digest; what is compared
// with the stored hash is the same either way.
const KEY_HASHES_KEPT = 256;
const keyHashes = new BoundedMap<string, string>(KEY_HASHES_KEPT);

export async function postbackKeyHash(key: string): Promise<string> {
  const known = keyHashes.get(key);
  if (known !== undefined) return known;
  const hash = await sha256Hex(key);
  keyHashes.set(key, hash);
  return hash;
}

async function advertiserByAllowList(reads: PostbackReads, clickId: string | undefined, ip: string | null) {
  if (!clickId || !ip) return null;
  const parts = await reads.verifiedClick(clickId);
  if (!parts) return null;
  const row = await reads.advertiserOfOffer(parts.offerId);
  if (row?.keyless_ip_auth !== 1) return null;
  const list = row ? allowList(row) : null;
  const address = parseIp(ip);
  if (!row || !list || list.length === 0 || !address || !list.some((cidr) => cidrContains(cidr, address))) return null;
  return row;
}

export async function authenticateAdvertiser(
  reads: PostbackReads,
  key: string | undefined,
  clickId: string | undefined,
  ip: string | null,
): Promise<AdvertiserRow> {
  if (!key) {
    const byAddress = await advertiserByAllowList(reads, clickId, ip);
    if (byAddress) return byAddress;
    throw new ApiError(401, 'unauthorized', 'Missing postback key: send key=<postback key> or Authorization: Bearer', {
      key: 'is required',
    });
  }
  // The key is 192 random bits, so its hash can be looked up directly; the stored hash is then
  // compared in constant time before the advertiser is trusted.
  const hash = await postbackKeyHash(key);
  const row = await reads.advertiserByKeyHash(hash);
  if (!row || !(await timingSafeEqualString(hash, row.postback_key_hash))) {
    throw new ApiError(401, 'unauthorized', 'Unknown postback key', { key: 'is not a valid postback key' });
  }
  return row;
}

/** Refuses the request when the advertiser has an allow-list that does not hold `ip`. */
export function checkIpAllowed(advertiser: AdvertiserRow, ip: string | null): void {
  const list = allowList(advertiser);
  if (list !== null && list.length === 0) return;
  const address = ip ? parseIp(ip) : null;
  if (address && list?.some((cidr) => cidrContains(cidr, address))) return;
  throw new ApiError(403, 'ip_not_allowed', 'This address may not send postbacks for this advertiser');
}

/** The allow-list; [] allows any address; null (a list that cannot be read) allows none. */
function allowList(advertiser: AdvertiserRow): Cidr[] | null {
  if (!advertiser.ip_allowlist) return [];
  try {
    const value: unknown = JSON.parse(advertiser.ip_allowlist);
    if (Array.isArray(value)) {
      const cidrs = value.map((v) => (typeof v === 'string' ? parseCidr(v) : null));
      if (cidrs.every((c) => c !== null)) return cidrs;
    }
  } catch {
    // reported below
  }
  log('error', 'postback.bad_ip_allowlist', { advertiser_id: advertiser.id });
  return null;
}
