// What the click path needs to know about an offer and a publisher, read through two caches:
// an in-isolate Map (short TTL, bounded size) in front of KV, with D1 as the source of truth.
// The admin API republishes an entry to KV (and this isolate's Map) whenever it changes, and so
// do the conversion write (a cap reached) and the click-cap checker. A change reaches every
// isolate within ISOLATE_TTL_MS + KV_CACHE_TTL_S (under 60 s) with no storage read on the way.
import { approvedPublishersStatement } from '../db/applications';
import { type CapRow, reachedCapsStatement } from '../db/caps';
import { type OfferTermsRow, offerTermsStatement } from '../db/offer-terms';
import { getOfferClickRow } from '../db/offers';
import { getPublisher } from '../db/publishers';
import { getSmartLink, smartLinkRules } from '../db/smart-links';
import { BoundedMap } from '../lib/bounded-map';
import { errorFields, log } from '../lib/log';
import { operatorTimeZone } from '../lib/timezone';
import { type OfferTerms, offerTerms } from '../terms/access';
import { periodBounds, periodKeys } from '../terms/periods';
import type { SmartLinkConfig } from '../terms/smart-links';

export interface OfferConfig {
  id: number;
  advertiserId: number;
  /** False when the offer or its advertiser is not active. */
  active: boolean;
  landingUrl: string;
  clickParam: string;
  deepLinkHosts: string[];
  fallbackUrl: string | null;
  /** Browser tracking (migration 0028); absent in entries cached before it, which means off. */
  attributionWindowDays?: number;
  browserTracking?: boolean;
  viewThroughHours?: number;
  /** Private offer, fallback offer, caps reached; absent when no terms are in force. */
  terms?: OfferTerms;
}

export interface PublisherConfig {
  id: number;
  active: boolean;
}

/** How long an isolate trusts its copy before asking KV again. */
export const ISOLATE_TTL_MS = 25_000;
/** How long a KV location may serve its cached copy (30 s is KV's minimum). */
export const KV_CACHE_TTL_S = 30;
/** Upper bound on entries held per isolate (offers and publishers together). */
export const ISOLATE_MAX_ENTRIES = 10_000;
const KV_PREFIX = 'cfg:v1:';

/** The part of an execution context the caches need (Hono's and workerd's types differ). */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

type Entry = { value: unknown; expires: number };
// The least recently stored entry goes first when the cache is full.
const isolateCache = new BoundedMap<string, Entry>(ISOLATE_MAX_ENTRIES);

export function isolateCacheSize(): number {
  return isolateCache.size;
}

export function clearIsolateCache(): void {
  isolateCache.clear();
}

function remember(key: string, value: unknown, now: number): void {
  isolateCache.set(key, { value, expires: now + ISOLATE_TTL_MS });
}

async function readThrough<T>(env: Env, ctx: WaitUntil, key: string, load: () => Promise<T | null>): Promise<T | null> {
  const now = Date.now();
  const hit = isolateCache.get(key);
  if (hit && hit.expires > now) return hit.value as T | null;
  const stored = await env.CONFIG.get<object>(KV_PREFIX + key, { type: 'json', cacheTtl: KV_CACHE_TTL_S });
  let result: T | null;
  if (stored === null) {
    result = await load();
    // A known id is published to KV for every location. An unknown one is remembered only in
    // this isolate (below): links with random ids must not turn into KV writes.
    if (result) fillKv(env, ctx, key, result);
  } else {
    result = 'missing' in stored ? null : (stored as T);
  }
  remember(key, result, now);
  return result;
}

export function offerConfig(env: Env, ctx: WaitUntil, offerId: number) {
  return readThrough(env, ctx, `offer:${offerId}`, () => loadOfferConfig(env, offerId));
}

export function smartLinkConfig(env: Env, ctx: WaitUntil, smartLinkId: number) {
  return readThrough(env, ctx, `smartlink:${smartLinkId}`, () => loadSmartLinkConfig(env.DB, smartLinkId));
}

export function publisherConfig(env: Env, ctx: WaitUntil, publisherId: number) {
  return readThrough(env, ctx, `publisher:${publisherId}`, () => loadPublisherConfig(env.DB, publisherId));
}

async function loadOfferConfig(env: Env, offerId: number): Promise<OfferConfig | null> {
  const [row, terms] = await Promise.all([getOfferClickRow(env.DB, offerId), loadOfferTerms(env, offerId)]);
  if (!row) return null;
  return {
    id: row.id,
    advertiserId: row.advertiser_id,
    active: row.status === 'active' && row.advertiser_status === 'active',
    landingUrl: row.landing_url,
    clickParam: row.click_param,
    deepLinkHosts: JSON.parse(row.deep_link_hosts) as string[],
    fallbackUrl: row.fallback_url,
    attributionWindowDays: row.attribution_window_days,
    browserTracking: row.browser_tracking === 1,
    viewThroughHours: row.view_through_hours,
    ...(terms ? { terms } : {}),
  };
}

/** Visibility, approved publishers and caps reached now, in one D1 batch. */
async function loadOfferTerms(env: Env, offerId: number): Promise<OfferTerms | undefined> {
  const now = Date.now();
  const zone = operatorTimeZone(env);
  const db = env.DB;
  const [offer, approved, reached] = await db.batch([
    offerTermsStatement(db, offerId),
    approvedPublishersStatement(db, offerId),
    reachedCapsStatement(db, offerId, periodKeys(now, zone)),
  ]);
  const row = offer?.results[0] as OfferTermsRow | undefined;
  if (!row) return undefined;
  const approvedRows = (approved?.results ?? []) as { publisher_id: number }[];
  const reachedRows = (reached?.results ?? []) as Pick<CapRow, 'id' | 'publisher_id' | 'period'>[];
  return offerTerms(
    row.visibility,
    approvedRows.map((r) => r.publisher_id),
    row.fallback_offer_id,
    reachedRows.map((cap) => ({
      capId: cap.id,
      publisherId: cap.publisher_id,
      period: cap.period,
      until: periodBounds(cap.period, now, zone).end,
    })),
  );
}

async function loadSmartLinkConfig(db: D1Database, id: number): Promise<SmartLinkConfig | null> {
  const [link, rules] = await Promise.all([getSmartLink(db, id), smartLinkRules(db, [id])]);
  if (!link) return null;
  return {
    id,
    rules: rules.map((r) => ({
      offerId: r.offer_id,
      weight: r.weight,
      countries: r.countries ? (JSON.parse(r.countries) as string[]) : null,
      devices: r.devices ? (JSON.parse(r.devices) as string[]) : null,
    })),
  };
}

async function loadPublisherConfig(db: D1Database, publisherId: number): Promise<PublisherConfig | null> {
  const row = await getPublisher(db, publisherId);
  return row ? { id: row.id, active: row.status === 'active' } : null;
}

/**
 * KV refuses a second write to the same key within a second (429; KV limits page: "writes to
 * same key: 1 per second"). Writes from this isolate keep this far apart; the margin covers the
 * time between our clock and KV's.
 */
export const KV_KEY_WRITE_INTERVAL_MS = 1_100;
/** A write another isolate's write refused is tried again this many times, a second apart. */
const KV_WRITE_ATTEMPTS = 3;

interface KeyWrites {
  /** When this isolate last sent, or will next send, a write of the key. */
  last: number;
  /** A write waiting for the key's next turn: a caller now joins it. */
  queued?: Promise<void>;
}
const keyWrites = new BoundedMap<string, KeyWrites>(ISOLATE_MAX_ENTRIES);

const tooManyWrites = (error: unknown) => error instanceof Error && error.message.includes('429');

/**
 * Publishes `key` to KV (and this isolate's cache) with the value `load` reads from D1 at write
 * time. Writes of one key are spaced by KV_KEY_WRITE_INTERVAL_MS: a publish asked for while an
 * earlier one waits for its turn joins it, since the value is read only when the turn comes and
 * so includes both changes. A refusal caused by another isolate's write is retried.
 */
function publish(env: Env, key: string, load: () => Promise<unknown>): Promise<void> {
  const state = keyWrites.get(key) ?? { last: Number.NEGATIVE_INFINITY };
  if (state.queued) return state.queued;
  const now = Date.now();
  const turn = Math.max(now, state.last + KV_KEY_WRITE_INTERVAL_MS);
  state.last = turn;
  const write = async () => {
    if (turn > now) {
      await scheduler.wait(turn - now);
      // From here a change may commit after the read below: its publish queues a new write.
      state.queued = undefined;
    }
    for (let attempt = 1; ; attempt++) {
      const value = await load();
      try {
        await env.CONFIG.put(KV_PREFIX + key, JSON.stringify(value ?? { missing: true }));
        remember(key, value, Date.now());
        return;
      } catch (error) {
        if (!tooManyWrites(error) || attempt >= KV_WRITE_ATTEMPTS) throw error;
        log('warn', 'config.kv_write_refused', { key, attempt, ...errorFields(error) });
        state.last = Date.now() + KV_KEY_WRITE_INTERVAL_MS;
        await scheduler.wait(KV_KEY_WRITE_INTERVAL_MS);
      }
    }
  };
  const pending = write();
  if (turn > now) state.queued = pending;
  keyWrites.set(key, state);
  return pending;
}

/**
 * A location's first read of a known entry writes it back to KV for the others, at this key's
 * next turn; skipped when a write of the key is under way or due (a concurrent miss, a publish).
 * Another isolate's concurrent fill may be refused; harmless, the next miss writes it again.
 */
function fillKv(env: Env, ctx: WaitUntil, key: string, value: unknown): void {
  const state = keyWrites.get(key) ?? { last: Number.NEGATIVE_INFINITY };
  const now = Date.now();
  if (state.last >= now) return;
  const turn = Math.max(now, state.last + KV_KEY_WRITE_INTERVAL_MS);
  state.last = turn;
  keyWrites.set(key, state);
  ctx.waitUntil(
    (async () => {
      if (turn > now) await scheduler.wait(turn - now);
      await env.CONFIG.put(KV_PREFIX + key, JSON.stringify(value));
    })().catch((error: unknown) => log('warn', 'config.kv_write_failed', { key, ...errorFields(error) })),
  );
}

/**
 * Offers republished at once; the next group starts when these are written. Each costs two D1
 * queries and one KV write, and an invocation may make at most 1,000 of each (D1 and KV limits
 * pages): about 330 offers fit one call (docs/capacity.md).
 */
export const REPUBLISH_GROUP = 50;

/** Re-reads offers from D1 and writes them to KV and this isolate's cache (admin writes). */
export async function publishOfferConfigs(env: Env, offerIds: number[]): Promise<void> {
  const ids = [...new Set(offerIds)];
  for (let i = 0; i < ids.length; i += REPUBLISH_GROUP) {
    await Promise.all(
      ids.slice(i, i + REPUBLISH_GROUP).map((id) => publish(env, `offer:${id}`, () => loadOfferConfig(env, id))),
    );
  }
}

export function publishPublisherConfig(env: Env, publisherId: number): Promise<void> {
  return publish(env, `publisher:${publisherId}`, () => loadPublisherConfig(env.DB, publisherId));
}

export function publishSmartLinkConfig(env: Env, smartLinkId: number): Promise<void> {
  return publish(env, `smartlink:${smartLinkId}`, () => loadSmartLinkConfig(env.DB, smartLinkId));
}
