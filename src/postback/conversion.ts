// From an attributed postback to a stored conversion: pick the goal, price the sale, then
// create, recognise a replay, or apply a status change. Deduplication is the database's job
// (UNIQUE (offer_id, goal_id, dedupe_key)); reads before the write only choose the answer.
import type { ConversionRow, ConversionStatus, ConversionWithGoal } from '../db/conversions';
import type { GoalRow, GoalWithRules } from '../db/offers';
import { randomId } from '../lib/crypto';
import { ApiError, badRequest, type FieldErrors } from '../lib/errors';
import { formatAmount, parseAmount } from '../lib/money';
import { iso, nowIso } from '../lib/time';
import type { ProductLine } from '../notify/snapshot';
import type { Target } from './attribution';
import type { PostbackInput } from './input';
import { INITIAL_STATUSES } from './lifecycle';
import { type PricedLine, priceConversion, selectRules, usesPercent } from './payout';
import type { MappedParams, ProfileName } from './profiles';
import type { PostbackReads } from './reads';
import { type Committed, changeConversionStatus, insertConversion } from './record';

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

const MAX_ATTEMPTS = 4;

export async function recordPostback(
  reads: PostbackReads,
  target: Target,
  input: PostbackInput,
  names: Names,
  source: ProfileName,
  /** The postback log statement for a conversion this request creates (same batch). */
  createdLog?: (row: ConversionRow) => D1PreparedStatement,
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

  // A status update may omit the goal: the order ID finds the conversion whatever its goal.
  if (input.order_id !== undefined && !explicitGoal) {
    const existing = await existingByOrder(reads, target.offer.id, input.order_id, null, names);
    if (existing) return updateExisting(db, existing, input);
  }

  const entry = explicitGoal ?? defaultGoal(goals);
  if (!entry) throw new ApiError(404, 'goal_not_found', 'The offer has no goals');
  const key = dedupeKey(target, entry.goal, input, names);
  let row: ConversionRow | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // A replay or status update is recognised by its key before the sale is checked and priced.
    if (!key.startsWith('r:')) {
      const existing = (await reads.conversionsByKey(target.offer.id, key)).find((cv) => cv.goal_id === entry.goal.id);
      if (existing) return updateExisting(db, existing, input);
    }
    row ??= buildConversion(target, entry, input, names, source, key);
    const context = {
      offerName: target.offer.name,
      goalKey: entry.goal.key,
      click: target.kind === 'click' ? target.click : null,
    };
    const committed = await insertConversion(db, row, context, 'postback', createdLog ? [createdLog(row)] : []);
    if (committed) {
      return {
        outcome: 'created',
        conversion: { ...row, goal_key: entry.goal.key },
        committed,
        logged: createdLog !== undefined,
      };
    }
    // Another request took the key between our read and our insert: answer as its replay.
    reads.forgetConversions();
  }
  throw new ApiError(409, 'conflict', 'The conversion is being written concurrently; retry the request');
}

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
  const found = await reads.conversionsByKey(offerId, `o:${orderId}`);
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

function dedupeKey(target: Target, goal: GoalRow, input: PostbackInput, names: Names): string {
  if (input.order_id !== undefined) return `o:${input.order_id}`;
  if (goal.allow_repeats === 1) return `r:${randomId('', 12)}`;
  if (target.kind === 'click') return `c:${target.clickId}`;
  throw badRequest('order_id is required for offer_id + publisher_id postbacks of a goal that converts once', {
    [names.order_id ?? 'order_id']: 'is required without a click ID',
  });
}

function buildConversion(
  target: Exclude<Target, { kind: 'order' }>,
  entry: GoalEntry,
  input: PostbackInput,
  names: Names,
  source: ProfileName,
  key: string,
): ConversionRow {
  const status = input.status ?? entry.goal.default_status;
  if (!INITIAL_STATUSES.includes(status)) {
    throw new ApiError(409, 'illegal_status_change', `A new conversion cannot start as ${status}`, {
      [names.status ?? 'status']: `must be one of ${INITIAL_STATUSES.join(', ')} for a new conversion`,
    });
  }
  const sale = priceSale(target, entry, input, names);
  const subs =
    target.kind === 'click'
      ? [target.click?.sub1, target.click?.sub2, target.click?.sub3, target.click?.sub4, target.click?.sub5]
      : [input.sub1, input.sub2, input.sub3, input.sub4, input.sub5];
  const now = nowIso();
  return {
    id: randomId('cv_'),
    offer_id: target.offer.id,
    goal_id: entry.goal.id,
    advertiser_id: target.offer.advertiser_id,
    publisher_id: target.publisherId,
    click_id: target.kind === 'click' ? target.clickId : null,
    click_time: target.kind === 'click' ? iso(target.clickedAt) : null,
    order_id: input.order_id ?? null,
    dedupe_key: key,
    status,
    ...sale,
    voucher: input.voucher ?? null,
    description: input.description ?? null,
    sub1: subs[0] ?? null,
    sub2: subs[1] ?? null,
    sub3: subs[2] ?? null,
    sub4: subs[3] ?? null,
    sub5: subs[4] ?? null,
    source,
    flags: null,
    created_at: now,
    updated_at: now,
  };
}

type Sale = Pick<ConversionRow, 'currency' | 'amount' | 'payout_currency' | 'revenue' | 'payout' | 'products'>;

/**
 * Amounts in minor units. The sale currency defaults to the offer's; a percentage of a sale in
 * another currency would need an exchange rate, which Clickhop does not have, so it is refused.
 */
function priceSale(
  target: Exclude<Target, { kind: 'order' }>,
  entry: GoalEntry,
  input: PostbackInput,
  names: Names,
): Sale {
  const errors: FieldErrors = {};
  const name = (field: keyof Names) => names[field] ?? field;
  const currency = input.currency ?? target.offer.currency;
  let lines: PricedLine[] | null = null;
  let products: ProductLine[] | null = null;
  if (input.products) {
    lines = [];
    products = [];
    input.products.forEach((product, i) => {
      const price = parseAmount(product.unit_price, currency);
      if (!price.ok) {
        errors[`${name('products')}.${i}.unit_price`] = price.reason;
        return;
      }
      const total = price.minor * product.quantity;
      if (!Number.isSafeInteger(total)) errors[`${name('products')}.${i}.quantity`] = 'makes the line total too large';
      lines?.push({ total, quantity: product.quantity, commission_group: product.commission_group });
      products?.push({
        sku: product.sku,
        name: product.name,
        unit_price: formatAmount(price.minor, currency),
        quantity: product.quantity,
        category: product.category,
        commission_group: product.commission_group,
      });
    });
  }
  let amount = lines ? lines.reduce((sum, line) => sum + line.total, 0) : 0;
  if (input.amount !== undefined) {
    const parsed = parseAmount(input.amount, currency);
    if (parsed.ok) amount = parsed.minor;
    else errors[name('amount')] = parsed.reason;
  }
  const rules = selectRules(entry.rules, target.publisherId);
  if (currency !== target.offer.currency && usesPercent(rules)) {
    errors[name('currency')] =
      `must be ${target.offer.currency}: goal ${entry.goal.key} pays a percentage and sales in other currencies are not converted`;
  }
  if (Object.keys(errors).length > 0) throw badRequest(`Invalid ${Object.keys(errors).join(', ')}`, errors);
  const price = priceConversion(rules, { amount, lines });
  if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(price.revenue) || !Number.isSafeInteger(price.payout)) {
    throw badRequest('Amounts are too large', { [name('amount')]: 'is too large' });
  }
  return {
    currency,
    amount,
    payout_currency: target.offer.currency,
    revenue: price.revenue,
    payout: price.payout,
    products: products ? JSON.stringify(products) : null,
  };
}
