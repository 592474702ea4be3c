// The D1 reads of one postback, made together. From the mapped (not yet validated) parameters
// it is known which advertiser, offer, publisher, click, goals and existing conversions the
// request will ask about, so they are read in ONE D1 batch before anything is decided. Every
// later step asks this object; a question the batch did not cover (a parameter that validation
// reads differently, a re-read after losing a race) goes to D1 and is remembered.
import { type ClickIdParts, clickIdKeys, clickIdPlacement, verifyClickId } from '../click/click-id';
import { findClick } from '../clicks/reads';
import { clickKey, orderKey } from '../conversions/dedup';
import { factsKey, loadRuleFacts, type RuleFacts, type RuleFactsQuery, ruleFactReads } from '../conversions/facts';
import {
  type AdvertiserRow,
  advertiserByKeyHashStatement,
  advertiserOfOfferStatement,
  getAdvertiserByKeyHash,
  getAdvertiserOfOffer,
} from '../db/advertisers';
import { type ClickRow, selectClickStatement } from '../db/clicks';
import { configEpochStatement, type EpochRow } from '../db/config-epoch';
import { type ConversionWithGoal, conversionsByKeysStatement, findConversionsByKeys } from '../db/conversions';
import {
  type GoalRow,
  type GoalWithRules,
  getOffer,
  goalsWithRules,
  goalsWithRulesStatements,
  groupGoals,
  type OfferRow,
  type PayoutRuleRow,
  selectOfferStatement,
} from '../db/offers';
import { getPublisher, type PublisherRow, selectPublisherStatement } from '../db/publishers';
import { operatorTimeZone } from '../lib/timezone';
import { postbackKeyHash } from './auth';
import { type ConfigKey, cachedConfig, rememberConfig } from './config-cache';
import type { CanonicalParams } from './profiles';
import { StaleConfig } from './stale-config';

const positiveId = (text: string | undefined): number | null =>
  text !== undefined && /^[1-9]\d{0,9}$/.test(text) && Number(text) <= 0xffffffff ? Number(text) : null;

/** Memoised lookups by key: a value once read (or prefetched) is answered from memory. */
class Memo<K, V> {
  private readonly values = new Map<K, V>();
  async get(key: K, load: () => Promise<V>): Promise<V> {
    if (this.values.has(key)) return this.values.get(key) as V;
    const value = await load();
    this.values.set(key, value);
    return value;
  }
  set(key: K, value: V): void {
    this.values.set(key, value);
  }
  has(key: K): boolean {
    return this.values.has(key);
  }
  clear(): void {
    this.values.clear();
  }
}

export class PostbackReads {
  private readonly advertisersByKeyHash = new Memo<string, AdvertiserRow | null>();
  private readonly advertisersOfOffer = new Memo<number, AdvertiserRow | null>();
  private readonly offers = new Memo<number, OfferRow | null>();
  private readonly publishers = new Memo<number, PublisherRow | null>();
  private readonly clicks = new Memo<string, ClickRow | null>();
  private readonly goalLists = new Memo<number, GoalWithRules[]>();
  /** Conversions by `${offerId}\n${dedupeKey}`. */
  private readonly conversions = new Memo<string, ConversionWithGoal[]>();
  /** Program-term facts (tier counts, exchange rate) by factsKey. */
  private readonly facts = new Memo<string, RuleFacts>();

  /**
   * Set when this request starts from an isolate's memory (config-cache.ts) instead of a read
   * batch: the epoch token that memory was read under. A conversion is then written only while
   * the token is unchanged, and conversions are not read before the write (the write reads what
   * it ran into). Null once the request reads D1 like any other.
   */
  optimisticEpoch: string | null = null;
  /** The config epoch token the read batch saw (null: not read). */
  epoch: string | null = null;

  private constructor(
    readonly env: Env,
    /** Click IDs whose HMAC was checked: once per request, whichever way it reads. */
    private readonly verified = new Memo<string, ClickIdParts | null>(),
  ) {}

  /**
   * The reads of a postback whose key, offer, publisher and currency an earlier postback in this
   * isolate read already, from memory (optimisticEpoch set); without such memory (or no key and
   * genuine click ID to find it by), reads that hold only the click ID check, for prefetch to
   * start from. From memory, only the click itself is read, from its partition.
   */
  static async fromMemory(env: Env, params: CanonicalParams): Promise<PostbackReads> {
    const reads = new PostbackReads(env);
    if (!params.key || params.click_id === undefined) return reads;
    const parts = await reads.verifiedClick(params.click_id);
    if (!parts) return reads;
    const key = reads.configKey(await postbackKeyHash(params.key), parts.offerId, parts.publisherId, params.currency);
    const now = Date.now();
    const config = cachedConfig(key, now);
    if (!config) return reads;
    reads.advertisersByKeyHash.set(key.keyHash, config.advertiser);
    reads.offers.set(key.offerId, config.offer);
    reads.goalLists.set(key.offerId, config.goals);
    reads.publishers.set(key.publisherId, config.publisher);
    const query = reads.factsQuery(key.offerId, key.publisherId, params.currency, now);
    reads.facts.set(factsKey(query), { tierCounts: new Map(), exchangeRate: config.exchangeRate });
    reads.optimisticEpoch = config.epoch;
    return reads;
  }

  /** What was read of the conversions holding `keys` is the truth; from now on D1 as usual. */
  private settle(offerId: number, keys: string[], found: ConversionWithGoal[]): void {
    this.optimisticEpoch = null;
    for (const key of keys) {
      this.conversions.set(
        `${offerId}\n${key}`,
        found.filter((cv) => cv.dedupe_key === key),
      );
    }
  }

  /**
   * Leaves memory for D1 before deciding: reads the epoch and the conversions holding `keys` in
   * one small batch. Throws StaleConfig when the config changed since memory was read.
   */
  async settleFromD1(offerId: number, keys: string[]): Promise<void> {
    const epoch = this.optimisticEpoch;
    if (epoch === null) return;
    const db = this.env.DB;
    const [epochRead, found] = await db.batch([
      configEpochStatement(db),
      conversionsByKeysStatement(db, offerId, keys),
    ]);
    if (((epochRead?.results ?? []) as EpochRow[])[0]?.token !== epoch) throw new StaleConfig();
    this.settle(offerId, keys, (found?.results ?? []) as ConversionWithGoal[]);
  }

  private configKey(keyHash: string, offerId: number, publisherId: number, currency: string | undefined): ConfigKey {
    return { keyHash, offerId, publisherId, currency: currency?.trim().toUpperCase() || null };
  }

  /** Reads everything the parameters (and the sender's address, for keyless postbacks) point at, in one D1 batch. */
  static async prefetch(
    env: Env,
    params: CanonicalParams,
    ip: string | null,
    /** An earlier attempt of the same request, whose click ID checks are kept. */
    before?: PostbackReads,
  ): Promise<PostbackReads> {
    const reads = new PostbackReads(env, before?.verified);
    const db = env.DB;
    const parts = params.click_id === undefined ? null : await reads.verifiedClick(params.click_id);
    const offerId = parts?.offerId ?? positiveId(params.offer_id);
    const publisherId = parts?.publisherId ?? positiveId(params.publisher_id);
    const keyHash = params.key ? await postbackKeyHash(params.key) : null;
    const dedupeKeys = [
      ...(params.order_id !== undefined ? [orderKey(params.order_id)] : []),
      ...(parts && params.click_id !== undefined ? [clickKey(params.click_id)] : []),
    ];

    const statements: D1PreparedStatement[] = [];
    const fill: ((result: D1Result) => void)[] = [];
    const read = (statement: D1PreparedStatement, take: (rows: unknown[]) => void) => {
      statements.push(statement);
      fill.push((result) => take(result.results ?? []));
    };
    const first = <T>(rows: unknown[]) => (rows[0] as T | undefined) ?? null;

    read(configEpochStatement(db), (rows) => {
      reads.epoch = first<EpochRow>(rows)?.token ?? null;
    });
    if (keyHash !== null) {
      read(advertiserByKeyHashStatement(db, keyHash), (rows) =>
        reads.advertisersByKeyHash.set(keyHash, first<AdvertiserRow>(rows)),
      );
    } else if (parts && ip) {
      read(advertiserOfOfferStatement(db, parts.offerId), (rows) =>
        reads.advertisersOfOffer.set(parts.offerId, first<AdvertiserRow>(rows)),
      );
    }
    if (offerId !== null) {
      read(selectOfferStatement(db, offerId), (rows) => reads.offers.set(offerId, first<OfferRow>(rows)));
      const [goals, rules] = goalsWithRulesStatements(db, [offerId]);
      let goalRows: GoalRow[] = [];
      read(goals, (rows) => {
        goalRows = rows as GoalRow[];
      });
      read(rules, (rows) =>
        reads.goalLists.set(offerId, groupGoals(goalRows, rows as PayoutRuleRow[]).get(offerId) ?? []),
      );
      if (dedupeKeys.length > 0) {
        read(conversionsByKeysStatement(db, offerId, dedupeKeys), (rows) => {
          for (const key of dedupeKeys) {
            reads.conversions.set(
              `${offerId}\n${key}`,
              (rows as ConversionWithGoal[]).filter((cv) => cv.dedupe_key === key),
            );
          }
        });
      }
    }
    if (offerId !== null && publisherId !== null) {
      // Tier counts and the exchange rate, so pricing needs no read of its own.
      const query = reads.factsQuery(offerId, publisherId, params.currency);
      const { reads: factReads, facts } = ruleFactReads(db, query);
      for (const fact of factReads) read(fact.statement, fact.take);
      reads.facts.set(factsKey(query), facts);
    }
    if (publisherId !== null) {
      read(selectPublisherStatement(db, publisherId), (rows) =>
        reads.publishers.set(publisherId, first<PublisherRow>(rows)),
      );
    }
    // A partitioned click (v2 ID) is read from its partition alongside the D1 batch, not after it.
    let partitionRead: Promise<void> | undefined;
    if (parts && params.click_id !== undefined) {
      const clickId = params.click_id;
      if (clickIdPlacement(clickId)) {
        partitionRead = findClick(env, clickId).then((row) => reads.clicks.set(clickId, row));
      } else {
        read(selectClickStatement(db, clickId), (rows) => reads.clicks.set(clickId, first<ClickRow>(rows)));
      }
    }
    const batch = async () => {
      if (statements.length === 0) return;
      const results = await db.batch(statements);
      results.forEach((result, i) => {
        fill[i]?.(result);
      });
    };
    await Promise.all([batch(), partitionRead]);
    if (keyHash !== null && offerId !== null && publisherId !== null)
      reads.remember(keyHash, offerId, publisherId, params);
    return reads;
  }

  /** Keeps what the batch read about this key, offer and publisher for the next postback (config-cache.ts). */
  private async remember(keyHash: string, offerId: number, publisherId: number, params: CanonicalParams) {
    const [advertiser, offer, goals, publisher] = await Promise.all([
      this.advertiserByKeyHash(keyHash),
      this.offer(offerId),
      this.goals(offerId),
      this.publisher(publisherId),
    ]);
    const now = Date.now();
    const facts = await this.ruleFacts(offerId, publisherId, params.currency);
    rememberConfig(
      this.configKey(keyHash, offerId, publisherId, params.currency),
      this.epoch && advertiser && offer && publisher
        ? { epoch: this.epoch, advertiser, offer, goals, publisher, exchangeRate: facts.exchangeRate }
        : null,
      now,
    );
  }

  /** The parts of a genuine click ID (HMAC checked once per request), or null. */
  async verifiedClick(clickId: string): Promise<ClickIdParts | null> {
    return this.verified.get(clickId, async () => verifyClickId(await clickIdKeys(this.env), clickId));
  }

  advertiserByKeyHash(hash: string): Promise<AdvertiserRow | null> {
    return this.advertisersByKeyHash.get(hash, () => getAdvertiserByKeyHash(this.env.DB, hash));
  }

  advertiserOfOffer(offerId: number): Promise<AdvertiserRow | null> {
    return this.advertisersOfOffer.get(offerId, () => getAdvertiserOfOffer(this.env.DB, offerId));
  }

  offer(id: number): Promise<OfferRow | null> {
    return this.offers.get(id, () => getOffer(this.env.DB, id));
  }

  publisher(id: number): Promise<PublisherRow | null> {
    return this.publishers.get(id, () => getPublisher(this.env.DB, id));
  }

  click(clickId: string): Promise<ClickRow | null> {
    return this.clicks.get(clickId, () => findClick(this.env, clickId));
  }

  goals(offerId: number): Promise<GoalWithRules[]> {
    return this.goalLists.get(offerId, async () => (await goalsWithRules(this.env.DB, [offerId])).get(offerId) ?? []);
  }

  /** Conversions of the offer (any goal) holding this deduplication key. */
  conversionsByKey(offerId: number, dedupeKey: string): Promise<ConversionWithGoal[]> {
    // Optimistic: none assumed; the write itself finds out (see settle).
    if (this.optimisticEpoch !== null && !this.conversions.has(`${offerId}\n${dedupeKey}`)) return Promise.resolve([]);
    return this.conversions.get(`${offerId}\n${dedupeKey}`, () =>
      findConversionsByKeys(this.env.DB, offerId, [dedupeKey]),
    );
  }

  /** The program-term facts a new conversion of this offer and publisher is priced with. */
  ruleFacts(offerId: number, publisherId: number, currency: string | undefined): Promise<RuleFacts> {
    const query = this.factsQuery(offerId, publisherId, currency);
    return this.facts.get(factsKey(query), () => loadRuleFacts(this.env.DB, query));
  }

  private factsQuery(
    offerId: number,
    publisherId: number,
    currency: string | undefined,
    now = Date.now(),
  ): RuleFactsQuery {
    const code = currency?.trim().toUpperCase() || null;
    return { offerId, publisherId, currency: code, now, timeZone: operatorTimeZone(this.env) };
  }

  /** After losing an insert race: what was read about conversions is out of date. */
  forgetConversions(): void {
    this.conversions.clear();
  }
}
