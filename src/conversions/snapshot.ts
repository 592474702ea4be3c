// The data of one conversion event as publishers receive it, frozen when the event happens so
// every attempt of every delivery of that event sends the same values.
import type { ClickRow } from '../db/clicks';
import type { ConversionEventRow, ConversionRow } from '../db/conversions';
import { randomId } from '../lib/crypto';
import { formatAmount } from '../lib/money';
import { convertAmount, parseRate } from './exchange';
import { parseFlags } from './fraud';
import type { ConversionActor, ConversionEventType, ConversionStatus } from './status';

export interface ProductLine {
  sku: string | null;
  name: string | null;
  unit_price: string;
  quantity: number;
  category: string | null;
  commission_group: string | null;
}

export interface ConversionSnapshot {
  event: ConversionEventType;
  event_time: string;
  conversion_id: string;
  status: ConversionRow['status'];
  goal: string;
  offer_id: number;
  offer_name: string;
  advertiser_id: number;
  publisher_id: number;
  click_id: string | null;
  click_time: string | null;
  conversion_time: string;
  order_id: string | null;
  /** Sale amount as decimal text in `currency`. */
  amount: string;
  currency: string;
  /**
   * Revenue and payout as decimal text in `payout_currency` (the offer's currency). Revenue is
   * always frozen, and absent from a publisher's view of the snapshot (src/auth/money-view.ts).
   */
  revenue?: string;
  payout: string;
  payout_currency: string;
  voucher: string | null;
  description: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  // Present only when set (snapshots frozen before them lack them too; see notify/snapshot-fields.ts).
  sub6?: string;
  /** The click link's creative_id and creative_group_id (Awin's bannerId and groupId). */
  creative_id?: number;
  creative_group_id?: number;
  products: ProductLine[];
  /** Click source data (null when the click row had not landed, or for affiliate-ID postbacks). */
  click: {
    referrer: string | null;
    search_engine: string | null;
    search_phrase: string | null;
    country: string | null;
    device: string | null;
    deep_link: string | null;
  } | null;
  /**
   * "missing": the conversion came before its click was stored and the click never landed
   * within the wait (src/clicks/completion.ts), so sub IDs and click are empty for that reason.
   */
  click_data?: 'missing';
  /** Fraud and time-rule flags (src/conversions/fraud.ts); absent when none. */
  flags?: string[];
  /** Why a rule set the status ('too_fast', 'too_slow', ...); absent when a party decided. */
  reason?: string;
  /**
   * For a sale in another currency than the offer's: the rate used (units of payout_currency
   * per unit of currency) and the amount in payout_currency (Awin's transactionAmount, while
   * amount/currency are the tracked ones).
   */
  exchange_rate?: string;
  converted_amount?: string;
  /** On conversion.modified: the values before the adjustment (the snapshot holds the new ones). */
  previous?: { amount: string; revenue?: string; payout: string; products: ProductLine[] };
  /** Set only on the synthetic sample sent by POST /api/v1/endpoints/:id/test. */
  test?: true;
}

/** The click fields a snapshot copies (a stored click, or the click object of an earlier snapshot). */
export type SnapshotClick = Pick<
  ClickRow,
  'referrer' | 'search_engine' | 'search_phrase' | 'country' | 'device' | 'deep_link'
>;

export function buildSnapshot(input: {
  event: ConversionEventType;
  eventTime: string;
  conversion: ConversionRow;
  goalKey: string;
  offerName: string;
  click: SnapshotClick | null;
}): ConversionSnapshot {
  const { conversion: cv, click } = input;
  const flags = parseFlags(cv.flags);
  const rate = cv.exchange_rate ? parseRate(cv.exchange_rate) : null;
  return {
    event: input.event,
    event_time: input.eventTime,
    conversion_id: cv.id,
    status: cv.status,
    goal: input.goalKey,
    offer_id: cv.offer_id,
    offer_name: input.offerName,
    advertiser_id: cv.advertiser_id,
    publisher_id: cv.publisher_id,
    click_id: cv.click_id,
    click_time: cv.click_time,
    conversion_time: cv.created_at,
    order_id: cv.order_id,
    amount: formatAmount(cv.amount, cv.currency),
    currency: cv.currency,
    revenue: formatAmount(cv.revenue, cv.payout_currency),
    payout: formatAmount(cv.payout, cv.payout_currency),
    payout_currency: cv.payout_currency,
    voucher: cv.voucher,
    description: cv.description,
    sub1: cv.sub1,
    sub2: cv.sub2,
    sub3: cv.sub3,
    sub4: cv.sub4,
    sub5: cv.sub5,
    ...(cv.sub6 != null ? { sub6: cv.sub6 } : {}),
    ...(cv.creative_id != null ? { creative_id: cv.creative_id } : {}),
    ...(cv.creative_group_id != null ? { creative_group_id: cv.creative_group_id } : {}),
    products: cv.products ? (JSON.parse(cv.products) as ProductLine[]) : [],
    click: click
      ? {
          referrer: click.referrer,
          search_engine: click.search_engine,
          search_phrase: click.search_phrase,
          country: click.country,
          device: click.device,
          deep_link: click.deep_link,
        }
      : null,
    ...(flags.length > 0 ? { flags } : {}),
    ...(cv.reason ? { reason: cv.reason } : {}),
    ...(rate?.ok && cv.exchange_rate
      ? {
          exchange_rate: cv.exchange_rate,
          converted_amount: formatAmount(
            convertAmount(cv.amount, cv.currency, cv.payout_currency, rate.rate),
            cv.payout_currency,
          ),
        }
      : {}),
  };
}

/** The `previous` block of a conversion.modified snapshot. */
export function previousValues(cv: ConversionRow): NonNullable<ConversionSnapshot['previous']> {
  return {
    amount: formatAmount(cv.amount, cv.currency),
    revenue: formatAmount(cv.revenue, cv.payout_currency),
    payout: formatAmount(cv.payout, cv.payout_currency),
    products: cv.products ? (JSON.parse(cv.products) as ProductLine[]) : [],
  };
}

/** What a snapshot needs besides the conversion row. */
export interface SnapshotContext {
  offerName: string;
  goalKey: string;
  click: SnapshotClick | null;
}

/** The conversion_events row of `cv` entering its status, with its frozen snapshot. */
export function buildEvent(
  cv: ConversionRow,
  type: ConversionEventType,
  from: ConversionStatus | null,
  actor: ConversionActor,
  reason: string | null,
  context: SnapshotContext,
  now: string,
  previous?: ConversionSnapshot['previous'],
): ConversionEventRow {
  const snapshot = buildSnapshot({
    event: type,
    eventTime: now,
    conversion: cv,
    goalKey: context.goalKey,
    offerName: context.offerName,
    click: context.click,
  });
  if (previous) snapshot.previous = previous;
  return {
    id: randomId('evt_'),
    conversion_id: cv.id,
    type,
    from_status: from,
    to_status: cv.status,
    actor,
    reason,
    snapshot: JSON.stringify(snapshot),
    created_at: now,
  };
}
