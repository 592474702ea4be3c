// A cheap brake on unauthenticated requests filling the postback log: refused requests are
// logged at most BURST at once per sender network (IPv4 /24, IPv6 /48), then one per REFILL_MS.
// The answer to the sender is unchanged; only the row is skipped. The buckets live in the
// isolate's memory (no storage, no round trip), so the brake is per isolate: it bounds what one
// sender can write through one isolate, which is where a flood lands.
import { BoundedMap } from '../lib/bounded-map';

const BURST = 20;
const REFILL_MS = 3_000;
/** Networks remembered at once; the oldest is forgotten first (a Map keeps insertion order). */
const MAX_NETWORKS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
  skipped: number;
}

const buckets = new BoundedMap<string, Bucket>(MAX_NETWORKS);

export interface RefusalDecision {
  log: boolean;
  /** Rows skipped for this network since its bucket last had a token, this one included. */
  skipped: number;
}

/** Whether a refused request from `network` gets its log row; takes a token if so. */
export function takeRefusalToken(network: string, now = Date.now()): RefusalDecision {
  let bucket = buckets.get(network);
  if (!bucket) {
    bucket = { tokens: BURST, at: now, skipped: 0 };
    buckets.set(network, bucket);
  }
  const refilled = Math.floor((now - bucket.at) / REFILL_MS);
  if (refilled > 0) {
    bucket.tokens = Math.min(BURST, bucket.tokens + refilled);
    bucket.at += refilled * REFILL_MS;
  }
  if (bucket.tokens > 0) {
    bucket.tokens--;
    bucket.skipped = 0;
    return { log: true, skipped: 0 };
  }
  bucket.skipped++;
  return { log: false, skipped: bucket.skipped };
}

/** For tests: forget every network. */
export function resetRefusalThrottle(): void {
  buckets.clear();
}

export const REFUSAL_THROTTLE = { BURST, REFILL_MS } as const;
