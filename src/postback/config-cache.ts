// What one postback's read batch learned about an advertiser (by key), an offer with its goals
// and payout rules, a publisher and the exchange rate in force, kept in the isolate with the
// config epoch token it was read under (src/db/config-epoch.ts). The next postback for the same
// key, offer, publisher and currency starts from this memory instead of a read round trip, and
// writes its conversion only on condition that the token has not changed (in the write's own
// transaction), so it never acts on config that changed meanwhile: a rotated key, a new payout
// or a paused offer changes the token and sends the postback down the reading path again.
import type { AdvertiserRow } from '../db/advertisers';
import type { RateInForce } from '../db/exchange-rates';
import type { GoalWithRules, OfferRow } from '../db/offers';
import type { TermedGoal } from '../db/payout-rules';
import type { PublisherRow } from '../db/publishers';
import { BoundedMap } from '../lib/bounded-map';

export interface CachedConfig {
  epoch: string;
  advertiser: AdvertiserRow;
  offer: OfferRow;
  goals: GoalWithRules[];
  publisher: PublisherRow;
  /** The rate from the sale currency into the offer's, when they differ. */
  exchangeRate: RateInForce | null;
  /** Kept until then (ms): a bounded age, or sooner when a dated rate takes over. */
  until: number;
}

export interface ConfigKey {
  keyHash: string;
  offerId: number;
  publisherId: number;
  /** The sale currency as sent, upper case (null: none sent). */
  currency: string | null;
}

const KEEP_MS = 60_000;
const MAX_ENTRIES = 500;
const entries = new BoundedMap<string, CachedConfig>(MAX_ENTRIES);

const keyOf = (k: ConfigKey) => `${k.keyHash}\n${k.offerId}\n${k.publisherId}\n${k.currency ?? ''}`;

export function cachedConfig(key: ConfigKey, now: number): CachedConfig | null {
  const id = keyOf(key);
  const entry = entries.get(id);
  if (!entry) return null;
  if (now >= entry.until) {
    entries.delete(id);
    return null;
  }
  return entry;
}

/**
 * Keeps what a read batch found, when it is enough to price a conversion without reading:
 * every row present, no volume tiers (their counts move with every conversion) and, for a sale
 * in another currency, a rate in force.
 */
export function rememberConfig(key: ConfigKey, found: Omit<CachedConfig, 'until'> | null, now: number): void {
  if (!found) return;
  if (found.goals.length === 0 || found.goals.some((g) => (g.goal as TermedGoal).tiers !== null)) return;
  let until = now + KEEP_MS;
  if (key.currency !== null && key.currency !== found.offer.currency) {
    if (!found.exchangeRate) return;
    const next = found.exchangeRate.next_valid_from;
    if (next !== null) until = Math.min(until, Date.parse(next));
  }
  if (until <= now) return;
  entries.set(keyOf(key), { ...found, until });
}

// The conversion keys (offer and deduplication key) this isolate wrote or answered lately: a
// postback with one of them is most likely a replay or a status update, so it reads the
// conversion first (a small batch) rather than attempting a write that would find it there.
const MAX_KEYS = 5_000;
const recentKeys = new BoundedMap<string, true>(MAX_KEYS);

export function noteConversionKey(offerId: number, dedupeKey: string): void {
  recentKeys.set(`${offerId}\n${dedupeKey}`, true);
}

export const isRecentConversionKey = (offerId: number, dedupeKey: string): boolean =>
  recentKeys.has(`${offerId}\n${dedupeKey}`);

/** Forgets the conversion keys, as an isolate that never saw them (tests). */
export function forgetConversionKeys(): void {
  recentKeys.clear();
}
