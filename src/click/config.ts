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
    if (result) {
      // KV allows about one write per second per key: the first clicks on a new offer in many
      // places at once may be refused, which is harmless (the next miss writes it again).
      ctx.waitUntil(
        env.CONFIG.put(KV_PREFIX + key, JSON.stringify(result)).catch((error: unknown) =>
          log('warn', 'config.kv_write_failed', { key, ...errorFields(error) }),
        ),
      );
    }
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

/** Re-reads offers from D1 and writes them to KV and this isolate's cache (admin writes). */
export async function publishOfferConfigs(env: Env, offerIds: number[]): Promise<void> {
  const now = Date.now();
  await Promise.all(
    offerIds.map(async (id) => {
      const value = await loadOfferConfig(env, id);
      await env.CONFIG.put(`${KV_PREFIX}offer:${id}`, JSON.stringify(value ?? { missing: true }));
      remember(`offer:${id}`, value, now);
    }),
  );
}

export async function publishPublisherConfig(env: Env, publisherId: number): Promise<void> {
  const value = await loadPublisherConfig(env.DB, publisherId);
  await env.CONFIG.put(`${KV_PREFIX}publisher:${publisherId}`, JSON.stringify(value ?? { missing: true }));
  remember(`publisher:${publisherId}`, value, Date.now());
}

export async function publishSmartLinkConfig(env: Env, smartLinkId: number): Promise<void> {
  const value = await loadSmartLinkConfig(env.DB, smartLinkId);
  await env.CONFIG.put(`${KV_PREFIX}smartlink:${smartLinkId}`, JSON.stringify(value ?? { missing: true }));
  remember(`smartlink:${smartLinkId}`, value, Date.now());
}
