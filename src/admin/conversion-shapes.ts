// What the admin API answers about conversions: the conversion, its events with the snapshot
// each carried, and the product lines. Shared by /conversions and the click dispute view, which
// cut each answer for the caller with conversionFor (src/auth/money-view.ts).
import * as z from 'zod';
import { parseTerms } from '../conversions/terms';
import type { ConversionEventRow, ConversionWithGoal } from '../db/conversions';
import { formatAmount } from '../lib/money';
import { component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';

// Who sees which money is decided in one place (src/auth/money-view.ts); the shapes say so.
const REVENUE = 'What the advertiser owes, in payout_currency. Never shown to a publisher';
const PAYOUT = "The publisher's commission, in payout_currency. Never shown to an advertiser";

export const conversionShapes = lazy(() => {
  const { rowId, timestamp, money, currencyCode, conversionStatus, eventType, subIds, creativeIds } = shapes();
  const ProductLine = component(
    'ProductLine',
    z.strictObject({
      sku: z.string().nullable(),
      name: z.string().nullable(),
      unit_price: money,
      quantity: z.int().min(1),
      category: z.string().nullable(),
      commission_group: z.string().nullable(),
    }),
  );
  const conversionShape = {
    id: z.string().describe('Conversion id (cv_...)'),
    offer_id: rowId,
    goal_id: rowId,
    event: z.string().describe('Goal key'),
    advertiser_id: rowId,
    publisher_id: rowId,
    click_id: z.string().nullable().describe('Null for affiliate-ID postbacks'),
    click_time: timestamp.nullable(),
    order_id: z.string().nullable(),
    status: conversionStatus,
    amount: money.describe('Sale amount as reported, in currency'),
    currency: currencyCode,
    revenue: money.optional().describe(REVENUE),
    payout: money.optional().describe(PAYOUT),
    payout_currency: currencyCode,
    voucher: z.string().nullable(),
    description: z.string().nullable(),
    products: z.array(ProductLine),
    ...subIds,
    ...creativeIds,
    source: z
      .enum(['server', 'browser', 'claim'])
      .describe(
        "Where it came from: the advertiser's server (postbacks and store integrations), the browser (tag or pixel), a claim",
      ),
    profile: z
      .enum(['canonical', 'hasoffers', 'tradetracker', 'admin', 'browser', 'pixel', 'claim', 'stripe', 'shopify'])
      .describe(
        'Which entry recorded it: a postback profile, the tag (browser), the pixel, the admin API, a claim, a store integration',
      ),
    integration: z
      .enum(['stripe', 'shopify'])
      .nullable()
      .describe('The store integration (webhook) that reported it, else null'),
    attribution: z
      .enum(['click', 'affiliate', 'coupon', 'view_through'])
      .describe('How the publisher was chosen: click ID, offer_id + publisher_id, coupon code, or a view'),
    attribution_note: z
      .string()
      .nullable()
      .describe('The claim that lost a click-vs-coupon conflict and the coupon_policy that decided, else null'),
    flags: z.array(z.string()).describe('Fraud and time-rule signals: bot_click, datacenter_asn, too_fast, too_slow'),
    reason: z.string().nullable().describe('Why a rule set the status (too_fast, too_slow, cap_reached), else null'),
    cap_id: rowId.nullable().describe('The cap that refused the conversion (reason cap_reached), else null'),
    payout_rule: z
      .string()
      .nullable()
      .optional()
      .describe(
        "The rule that set the payout, decided at creation: 'goal', 'publisher:<rule id>' or 'tier:<min_conversions>'. Not shown to an advertiser",
      ),
    exchange_rate: z
      .string()
      .nullable()
      .describe('Units of payout_currency per unit of currency used for a sale in another currency, else null'),
    created_at: timestamp,
    updated_at: timestamp,
  };
  const Conversion = component('Conversion', z.strictObject(conversionShape));
  const ConversionSnapshot = component(
    'ConversionSnapshot',
    z
      .strictObject({
        event: eventType,
        event_time: timestamp,
        conversion_id: z.string(),
        status: conversionStatus,
        goal: z.string(),
        offer_id: z.int(),
        offer_name: z.string(),
        advertiser_id: z.int(),
        publisher_id: z.int(),
        click_id: z.string().nullable(),
        click_time: timestamp.nullable(),
        conversion_time: timestamp,
        order_id: z.string().nullable(),
        amount: money,
        currency: currencyCode,
        revenue: money.optional().describe(REVENUE),
        payout: money.optional().describe(PAYOUT),
        payout_currency: currencyCode,
        voucher: z.string().nullable(),
        description: z.string().nullable(),
        ...subIds,
        // Snapshots written before six sub IDs and creative ids carry none of these.
        sub6: z.string().nullable().optional(),
        creative_id: z.int().nullable().optional(),
        creative_group_id: z.int().nullable().optional(),
        products: z.array(ProductLine),
        click: z
          .strictObject({
            referrer: z.string().nullable(),
            search_engine: z.string().nullable(),
            search_phrase: z.string().nullable(),
            country: z.string().nullable(),
            device: z.string().nullable(),
            deep_link: z.string().nullable(),
          })
          .nullable(),
        flags: z.array(z.string()).optional().describe('Fraud and time-rule signals, when any'),
        reason: z.string().optional().describe('Why a rule set the status, when one did'),
        exchange_rate: z.string().optional().describe('Rate used for a sale in another currency'),
        converted_amount: money.optional().describe('The sale amount in payout_currency, when converted'),
        previous: z
          .strictObject({
            amount: money,
            revenue: money.optional().describe(REVENUE),
            payout: money.optional().describe(PAYOUT),
            products: z.array(ProductLine),
          })
          .optional()
          .describe('On conversion.modified: the values before the adjustment'),
        test: z.literal(true).optional().describe('Present only on samples sent by the endpoint test'),
      })
      .describe('The conversion as it was when the event happened; what notifications carry'),
  );
  const ConversionEvent = component(
    'ConversionEvent',
    z.strictObject({
      id: z.string(),
      type: eventType,
      from_status: conversionStatus.nullable(),
      to_status: conversionStatus,
      actor: z.enum(['postback', 'admin', 'advertiser', 'system']),
      reason: z.string().nullable(),
      created_at: timestamp,
      snapshot: ConversionSnapshot,
    }),
  );
  const ConversionDetail = component(
    'ConversionDetail',
    z.strictObject({ ...conversionShape, events: z.array(ConversionEvent).describe('Oldest first') }),
  );
  const ConversionStatusResult = component(
    'ConversionStatusResult',
    z.strictObject({
      ...conversionShape,
      changed: z.boolean().describe('False when the conversion already had the asked status (nothing happened)'),
      previous_status: conversionStatus,
    }),
  );
  const ConversionAdjustResult = component(
    'ConversionAdjustResult',
    z.strictObject({ ...conversionShape, previous: Conversion.describe('The conversion before the adjustment') }),
  );
  return {
    conversionShape,
    ConversionAdjustResult,
    ProductLine,
    Conversion,
    ConversionPage: pageOf('Conversion', Conversion),
    ConversionSnapshot,
    ConversionEvent,
    ConversionDetail,
    ConversionStatusResult,
  };
});

type Shapes = ReturnType<typeof conversionShapes>;
type Conversion = z.input<Shapes['Conversion']>;
type ConversionEvent = z.input<Shapes['ConversionEvent']>;

export function presentConversion(cv: ConversionWithGoal): Conversion {
  return {
    id: cv.id,
    offer_id: cv.offer_id,
    goal_id: cv.goal_id,
    event: cv.goal_key,
    advertiser_id: cv.advertiser_id,
    publisher_id: cv.publisher_id,
    click_id: cv.click_id,
    click_time: cv.click_time,
    order_id: cv.order_id,
    status: cv.status,
    amount: formatAmount(cv.amount, cv.currency),
    currency: cv.currency,
    revenue: formatAmount(cv.revenue, cv.payout_currency),
    payout: formatAmount(cv.payout, cv.payout_currency),
    payout_currency: cv.payout_currency,
    voucher: cv.voucher,
    description: cv.description,
    products: cv.products ? (JSON.parse(cv.products) as Conversion['products']) : [],
    sub1: cv.sub1,
    sub2: cv.sub2,
    sub3: cv.sub3,
    sub4: cv.sub4,
    sub5: cv.sub5,
    sub6: cv.sub6 ?? null,
    creative_id: cv.creative_id ?? null,
    creative_group_id: cv.creative_group_id ?? null,
    // The columns hold only what the write paths put there.
    source: (cv.source ?? 'server') as Conversion['source'],
    profile: cv.profile as Conversion['profile'],
    integration: cv.profile === 'stripe' || cv.profile === 'shopify' ? cv.profile : null,
    attribution: (cv.attribution ?? (cv.click_id ? 'click' : 'affiliate')) as Conversion['attribution'],
    attribution_note: cv.attribution_note ?? null,
    flags: cv.flags ? (JSON.parse(cv.flags) as string[]) : [],
    reason: cv.reason ?? null,
    cap_id: cv.cap_id ?? null,
    payout_rule: parseTerms(cv.pricing)?.rule ?? null,
    exchange_rate: cv.exchange_rate ?? null,
    created_at: cv.created_at,
    updated_at: cv.updated_at,
  };
}

export const presentEvent = (event: ConversionEventRow): ConversionEvent => ({
  id: event.id,
  type: event.type,
  from_status: event.from_status,
  to_status: event.to_status,
  actor: event.actor,
  reason: event.reason,
  created_at: event.created_at,
  snapshot: JSON.parse(event.snapshot) as ConversionEvent['snapshot'],
});
