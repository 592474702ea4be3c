// From an attributed postback to a stored conversion: pick the goal named by the request, then
// create, recognise a replay, or apply a status change, using the conversion domain
// (src/conversions/) for keys, pricing and the write. Deduplication is the database's job
// (UNIQUE (offer_id, goal_id, dedupe_key)); reads before the write only choose the answer.
import {
  buildConversion,
  type Committed,
  changeConversionStatus,
  checkInitialStatus,
  dedupeKey,
  insertConversion,
  isRepeatKey,
  orderKey,
  priceSale,
  type WriteCondition,
} from '../conversions';
import { OTHER_CHANNEL, parseAffiliateChannels, wonByOtherChannel } from '../conversions/attribution-policy';
import type { RuleFacts } from '../conversions/facts';
import { decideNewConversion } from '../conversions/rules';
import { parseTiers } from '../conversions/tiers';
import { holdForClickStatements } from '../db/click-completion';
import type { ConversionRow, ConversionStatus, ConversionWithGoal } from '../db/conversions';
import type { GoalWithRules } from '../db/offers';
import type { TermedGoal, TermedOffer } from '../db/payout-rules';
import { ApiError, badRequest } from '../lib/errors';
import { nowIso } from '../lib/time';
import { capScopeAt } from '../terms/cap-guard';
import type { Target } from './attribution';
import { isRecentConversionKey, noteConversionKey } from './config-cache';
import type { PostbackInput } from './input';
import type { MappedParams, ProfileName } from './profiles';
import type { PostbackReads } from './reads';

export type PostbackOutcome = 'created' | 'duplicate' | 'updated';

export interface PostbackResult {
  outcome: PostbackOutcome;
  conversion: ConversionWithGoal;
  /** For 'updated': the status before this postback. */
  previousStatus?: ConversionStatus;
  /** What this request wrote (its deliveries still have to be handed to the Queue), or null. */
  committed: Committed | null;
  /** True when the postback log entry was written in the same batch as the conversion. */
  logged: boolean;
}

type GoalEntry = GoalWithRules;

type Names = MappedParams['names'];

/** A conversion reported by a browser (src/browser/convert.ts) rather than the advertiser's server. */
export interface BrowserOrigin {
  attribution: 'click' | 'view_through';
  /** The offer's hold_browser: the conversion never starts approved. */
  hold: boolean;
}

/** Who reported a conversion: a postback profile, or the tag ('browser') or pixel ('pixel'). */
export type ReporterName = ProfileName | 'browser' | 'pixel';

const MAX_ATTEMPTS = 4;

export async function recordPostback(
  reads: PostbackReads,
  target: Target,
  input: PostbackInput,
  names: Names,
  /** The profile or integration recording it ('canonical', 'browser', 'stripe', ...). */
  profile: ReporterName | 'stripe' | 'shopify',
  /** The postback log statement for a conversion this request creates (same batch). */
  createdLog?: (row: ConversionRow) => D1PreparedStatement,
  browser?: BrowserOrigin,
): Promise<PostbackResult> {
  const db = reads.env.DB;
  const goals = await reads.goals(target.offer.id);
  const explicitGoal = input.event === undefined ? null : findGoal(goals, input.event, names);

  if (target.kind === 'order') {
    const existing = await existingByOrder(reads, target.offer.id, target.orderId, explicitGoal, names);
    if (!existing) {
      throw new ApiError(404, 'conversion_not_found', `No conversion with order ID ${target.orderId} for this offer`, {
        [names.order_id ?? 'order_id']: 'no such conversion',
      });
    }
    return updateExisting(db, existing, input);
  }

  // From memory, a key this isolate saw lately is most likely a replay: read before deciding.
  const likelyEntry = explicitGoal ?? defaultGoal(goals);
  if (reads.optimisticEpoch !== null && likelyEntry) {
    const keys = consultedKeys(conversionKey(target, likelyEntry, input, names), input, explicitGoal);
    if (keys.some((k) => isRecentConversionKey(target.offer.id, k))) await reads.settleFromD1(target.offer.id, keys);
  }

  // A status update may omit the goal: the order ID finds the conversion whatever its goal.
  if (input.order_id !== undefined && !explicitGoal) {
    const existing = await existingByOrder(reads, target.offer.id, input.order_id, null, names);
    if (existing) {
      noteConversionKey(target.offer.id, orderKey(input.order_id));
      return updateExisting(db, existing, input);
    }
  }

  const entry = explicitGoal ?? defaultGoal(goals);
  if (!entry) throw new ApiError(404, 'goal_not_found', 'The offer has no goals');
  const key = conversionKey(target, entry, input, names);
  let row: ConversionRow | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // A replay or status update is recognised by its key before the sale is checked and priced.
    if (!isRepeatKey(key)) {
      const existing = (await reads.conversionsByKey(target.offer.id, key)).find((cv) => cv.goal_id === entry.goal.id);
      if (existing) {
        noteConversionKey(target.offer.id, key);
        return updateExisting(db, existing, input);
      }
    }
    row ??= buildPostbackConversion(
      target,
      entry,
      input,
      names,
      profile,
      key,
      await reads.ruleFacts(target.offer.id, target.publisherId, input.currency),
      browser,
    );
    const context = {
      offerName: target.offer.name,
      goalKey: entry.goal.key,
      click: target.kind === 'click' ? target.click : null,
    };
    // The click has not landed yet: the conversion waits for its sub IDs and click data, its
    // deliveries held until then (src/clicks/completion.ts).
    const waits = target.kind === 'click' && target.click === null;
    const also = [
      ...(createdLog ? [createdLog(row)] : []),
      ...(waits ? holdForClickStatements(db, row.id, row.created_at) : []),
    ];
    const condition = writeCondition(reads, input, explicitGoal);
    const committed = await insertConversion(
      db,
      row,
      context,
      'postback',
      also,
      // View-through conversions do not count towards caps (docs/browser-tracking.md).
      browser?.attribution === 'view_through' ? null : capScopeAt(reads.env, row.created_at),
      0,
      condition,
    );
    if (!committed && condition) {
      // Priced from memory and not written: a changed config (StaleConfig), or a conversion
      // already there, which the reading path finds next.
      await reads.settleFromD1(target.offer.id, consultedKeys(key, input, explicitGoal));
      return recordPostback(reads, target, input, names, profile, createdLog, browser);
    }
    if (committed) {
      noteConversionKey(target.offer.id, key);
      return {
        outcome: 'created',
        conversion: { ...(committed.stored ?? row), goal_key: entry.goal.key },
        committed: waits ? { ...committed, deliveryIds: [], waitingForClick: [row.id] } : committed,
        logged: createdLog !== undefined,
      };
    }
    // Another request took the key between our read and our insert: answer as its replay.
    reads.forgetConversions();
  }
  throw new ApiError(409, 'conflict', 'The conversion is being written concurrently; retry the request');
}

/**
 * For a request priced from memory: the conditions under which its insert may be written (its
 * own key is the UNIQUE constraint's business; an order ID sent without a goal would have
 * updated that order's conversion under any goal).
 */
function writeCondition(
  reads: PostbackReads,
  input: PostbackInput,
  explicitGoal: GoalEntry | null,
): WriteCondition | null {
  if (reads.optimisticEpoch === null) return null;
  return { epoch: reads.optimisticEpoch, anyGoalKeys: anyGoalKeys(input, explicitGoal) };
}

/** An order ID sent without a goal names its conversion under any goal. */
const anyGoalKeys = (input: PostbackInput, explicitGoal: GoalEntry | null): string[] =>
  input.order_id !== undefined && !explicitGoal ? [orderKey(input.order_id)] : [];

const consultedKeys = (key: string, input: PostbackInput, explicitGoal: GoalEntry | null): string[] => [
  ...new Set([key, ...anyGoalKeys(input, explicitGoal)]),
];

/** A replay (same or no status) changes nothing; another status is a status change. */
async function updateExisting(db: D1Database, cv: ConversionWithGoal, input: PostbackInput): Promise<PostbackResult> {
  if (input.status === undefined || input.status === cv.status) {
    return { outcome: 'duplicate', conversion: cv, committed: null, logged: false };
  }
  const result = await changeConversionStatus(db, cv, input.status, 'postback', input.reason ?? null, nowIso);
  if (!result.committed) return { outcome: 'duplicate', conversion: result.conversion, committed: null, logged: false };
  return {
    outcome: 'updated',
    conversion: result.conversion,
    previousStatus: result.previousStatus,
    committed: result.committed,
    logged: false,
  };
}

async function existingByOrder(
  reads: PostbackReads,
  offerId: number,
  orderId: string,
  goal: GoalEntry | null,
  names: Names,
): Promise<ConversionWithGoal | null> {
  const found = await reads.conversionsByKey(offerId, orderKey(orderId));
  const matching = goal ? found.filter((cv) => cv.goal_id === goal.goal.id) : found;
  if (matching.length <= 1) return matching[0] ?? null;
  throw badRequest(`Order ${orderId} has conversions for several goals; send event to choose one`, {
    [names.event ?? 'event']: `is required: one of ${[...new Set(matching.map((cv) => cv.goal_key))].join(', ')}`,
  });
}

/** `event` names a goal by key; HasOffers-style numeric goal IDs are accepted too. */
function findGoal(goals: GoalEntry[], event: string, names: Names): GoalEntry {
  const found =
    goals.find((g) => g.goal.key === event) ??
    (/^\d+$/.test(event) ? goals.find((g) => g.goal.id === Number(event)) : undefined);
  if (found) return found;
  const field = names.event ?? 'event';
  throw badRequest(`Unknown goal ${event} for this offer`, {
    [field]: `must be one of ${goals.map((g) => g.goal.key).join(', ')}`,
  });
}

function defaultGoal(goals: GoalEntry[]): GoalEntry | undefined {
  return goals.find((g) => g.goal.is_default === 1) ?? goals[0];
}

function conversionKey(target: Target, entry: GoalEntry, input: PostbackInput, names: Names): string {
  const key = dedupeKey(entry.goal, {
    orderId: input.order_id,
    clickId: target.kind === 'click' ? target.clickId : undefined,
  });
  if (key !== null) return key;
  throw badRequest('order_id is required for offer_id + publisher_id postbacks of a goal that converts once', {
    [names.order_id ?? 'order_id']: 'is required without a click ID',
  });
}

function buildPostbackConversion(
  target: Exclude<Target, { kind: 'order' }>,
  entry: GoalEntry,
  input: PostbackInput,
  names: Names,
  profile: ReporterName | 'stripe' | 'shopify',
  key: string,
  facts: RuleFacts,
  browser?: BrowserOrigin,
): ConversionRow {
  const requested = input.status ?? entry.goal.default_status;
  checkInitialStatus(requested, names.status ?? 'status');
  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  const goal: TermedGoal = entry.goal;
  const sale = priceSale(
    input,
    {
      offerCurrency: target.offer.currency,
      goalKey: entry.goal.key,
      rules: entry.rules,
      publisherId: target.publisherId,
      at: now,
      tiers: parseTiers(goal.tiers),
      before: facts.tierCounts.get(entry.goal.id) ?? 0,
      exchangeRate: facts.exchangeRate?.rate ?? null,
    },
    (field) => names[field] ?? field,
  );
  const click = target.kind === 'click' ? target.click : null;
  const otherChannel = wonByOtherChannel(input.channel, parseAffiliateChannels(target.offer.affiliate_channels));
  const verdict = decideNewConversion({
    offer: target.offer as TermedOffer,
    status: requested,
    click: target.kind === 'click' ? { clickedAt: target.clickedAt, row: click } : null,
    now: nowMs,
  });
  return buildConversion({
    offer: target.offer,
    goal: entry.goal,
    publisherId: target.publisherId,
    click: target.kind === 'click' ? { id: target.clickId, clickedAt: target.clickedAt } : null,
    orderId: input.order_id ?? null,
    dedupeKey: key,
    // Another channel won the sale: kept for the advertiser, neither billed nor paid (docs/coupons.md).
    // A browser conversion on an offer with hold_browser is never approved on arrival.
    status: otherChannel ? 'rejected' : browser?.hold && verdict.status === 'approved' ? 'pending' : verdict.status,
    reason: otherChannel ? OTHER_CHANNEL : verdict.reason,
    flags: verdict.flags,
    sale: otherChannel ? { ...sale, revenue: 0, payout: 0 } : sale,
    voucher: input.voucher ?? null,
    description: input.description ?? null,
    subs:
      target.kind === 'click'
        ? [click?.sub1, click?.sub2, click?.sub3, click?.sub4, click?.sub5, click?.sub6]
        : target.kind === 'coupon'
          ? []
          : [input.sub1, input.sub2, input.sub3, input.sub4, input.sub5, input.sub6],
    creative: click ? { id: click.creative_id, groupId: click.creative_group_id } : undefined,
    profile,
    attribution: browser?.attribution === 'view_through' ? 'view_through' : target.kind,
    attributionNote: target.kind === 'affiliate' ? null : (target.attributionNote ?? null),
    ...(browser ? { source: 'browser' } : {}),
    now,
  });
}
