// What the offers API answers: an offer with its goals and base payout rules, money as decimal
// text in the offer currency and percentages as numbers.
import * as z from 'zod';
import { browserSettingShape, presentBrowserSettings } from '../browser/offer-settings';
import type { CommissionGroupRow } from '../db/commission-groups';
import type { GoalWithRules, OfferRow, PayoutRuleRow } from '../db/offers';
import { formatAmount } from '../lib/money';
import { component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { offerAttributionShape, presentOfferAttribution } from './offer-attribution';
import { goalRuleShape, offerRuleShape, presentGoalRules, presentOfferRules } from './offer-rules';

export const offerShapes = lazy(() => {
  const { rowId, timestamp, money, currencyCode } = shapes();
  // An advertiser reads its offers without the payout side (src/auth/money-view.ts offerFor).
  const payoutRule = {
    revenue: money.describe('Fixed revenue per conversion, in the offer currency'),
    payout: money
      .optional()
      .describe('Fixed payout per conversion, in the offer currency. Never shown to an advertiser'),
    revenue_percent: z.number().describe('Revenue as a percentage of the sale amount'),
    payout_percent: z
      .number()
      .optional()
      .describe('Payout as a percentage of the sale amount. Never shown to an advertiser'),
  };
  const Goal = component(
    'Goal',
    z.strictObject({
      id: rowId,
      key: z.string().describe('Goal key postbacks name in event (lead, sale, ...)'),
      name: z.string(),
      default: z.boolean().describe('Used when a postback names no event'),
      allow_repeats: z.boolean().describe('Without an order ID, whether a click may convert more than once'),
      default_status: z
        .enum(['pending', 'approved'])
        .describe('Status of a new conversion when the postback sends none'),
      ...payoutRule,
      commission_groups: z
        .array(
          z.strictObject({
            id: rowId
              .nullable()
              .describe("The group's stable id (Awin's commissionGroups id and a product's cgId in notifications)"),
            key: z.string().describe("The group's code, as product lines name it (Awin's code)"),
            name: z.string().describe("Display name (Awin's name)"),
            description: z.string().nullable().describe("What the group covers (Awin's description)"),
            ...payoutRule,
          }),
        )
        .describe('Rules that price product lines of a named commission group, with the group itself'),
      ...goalRuleShape(money),
    }),
  );
  const Offer = component(
    'Offer',
    z.strictObject({
      id: rowId,
      advertiser_id: rowId,
      name: z.string(),
      status: z.enum(['active', 'paused', 'archived']),
      landing_url: z.string().describe('Where clicks land; may hold macros such as {click_id} and {sub1}'),
      click_param: z.string().describe('Query parameter carrying the click ID when landing_url has no {click_id}'),
      deep_link_hosts: z.array(z.string()).describe('Hosts the url parameter of a tracking link may point to'),
      fallback_url: z.string().nullable().describe('Where clicks go while the offer or publisher is unavailable'),
      visibility: z.enum(['public', 'private']).describe('private: only approved publishers may send traffic'),
      fallback_offer_id: rowId.nullable().describe('Where refused (private or capped) clicks go first'),
      currency: currencyCode,
      attribution_window_days: z.int().describe('Days after a click within which a conversion is attributed'),
      allow_publisher_postback: z
        .boolean()
        .describe('Whether postbacks may use offer_id + publisher_id instead of a click ID'),
      tracking_link: z.string().describe('The tracking link; replace {publisher_id} with a publisher id'),
      goals: z.array(Goal),
      ...offerRuleShape,
      ...offerAttributionShape,
      ...browserSettingShape,
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );
  return { Goal, Offer, OfferPage: pageOf('Offer', Offer) };
});

type Offer = z.input<ReturnType<typeof offerShapes>['Offer']>;

function presentRule(rule: PayoutRuleRow | undefined, offerCurrency: string) {
  return {
    revenue: formatAmount(rule?.revenue_fixed ?? 0, offerCurrency),
    payout: formatAmount(rule?.payout_fixed ?? 0, offerCurrency),
    revenue_percent: (rule?.revenue_percent_bp ?? 0) / 100,
    payout_percent: (rule?.payout_percent_bp ?? 0) / 100,
  };
}

export function presentOffer(
  row: OfferRow,
  goals: GoalWithRules[],
  origin: string,
  groups: readonly CommissionGroupRow[] = [],
): Offer {
  const groupOf = new Map(groups.map((g) => [g.code, g]));
  return {
    id: row.id,
    advertiser_id: row.advertiser_id,
    name: row.name,
    status: row.status,
    landing_url: row.landing_url,
    click_param: row.click_param,
    deep_link_hosts: JSON.parse(row.deep_link_hosts) as string[],
    fallback_url: row.fallback_url,
    visibility: row.visibility,
    // Column of migration 0009 (program terms); SELECT * reads it.
    fallback_offer_id: (row as OfferRow & { fallback_offer_id?: number | null }).fallback_offer_id ?? null,
    currency: row.currency,
    attribution_window_days: row.attribution_window_days,
    allow_publisher_postback: row.allow_publisher_postback === 1,
    tracking_link: `${origin}/c/${row.id}/{publisher_id}`,
    goals: goals.map(({ goal, rules }) => {
      const base = rules.find((r) => r.publisher_id === null && r.commission_group === null);
      return {
        id: goal.id,
        key: goal.key,
        name: goal.name,
        default: goal.is_default === 1,
        allow_repeats: goal.allow_repeats === 1,
        default_status: goal.default_status,
        ...presentRule(base, row.currency),
        commission_groups: rules.flatMap((r) =>
          r.publisher_id === null && r.commission_group !== null
            ? [
                {
                  // Every code a rule names has its row (a trigger of migration 0007 writes it).
                  id: groupOf.get(r.commission_group)?.id ?? null,
                  key: r.commission_group,
                  name: groupOf.get(r.commission_group)?.name ?? r.commission_group,
                  description: groupOf.get(r.commission_group)?.description ?? null,
                  ...presentRule(r, row.currency),
                },
              ]
            : [],
        ),
        ...presentGoalRules(goal, row.currency),
      };
    }),
    ...presentOfferRules(row),
    ...presentOfferAttribution(row),
    ...presentBrowserSettings(row),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
