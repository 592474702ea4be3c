// The offers API as a publisher sees it (GET /api/v1/offers?publisher_id=, implied for publisher
// keys): the offers it may promote, each goal with the payout it pays that publisher. What a
// publisher may see is decided here: its payout, the landing page and its own tracking link;
// never revenue, the advertiser, caps, fallbacks or other publishers' rates.
import * as z from 'zod';
import { groupPromotable, type PromotableGoalRow, promotableOffersStatement } from '../db/portal';
import { formatAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { encodeCursor } from './pagination';

export const publisherOfferShapes = lazy(() => {
  const { rowId, money, currencyCode } = shapes();
  const PublisherGoal = component(
    'PublisherGoal',
    z.strictObject({
      key: z.string().describe('Goal key (lead, sale, ...)'),
      name: z.string(),
      payout: money.describe('Fixed payout to this publisher per conversion, in the offer currency'),
      payout_percent: z.number().describe('Payout to this publisher as a percentage of the sale amount'),
      payout_rule: z
        .enum(['own', 'goal'])
        .describe("own: the publisher's own rate in force now; goal: the goal's payout for every publisher"),
    }),
  );
  const PublisherOffer = component(
    'PublisherOffer',
    z.strictObject({
      id: rowId,
      name: z.string(),
      visibility: z.enum(['public', 'private']).describe('private: listed because the application is approved'),
      currency: currencyCode,
      landing_url: z.string(),
      deep_link_hosts: z.array(z.string()).describe('Hosts the url parameter of a tracking link may point to'),
      attribution_window_days: z.int().describe('Days after a click within which a conversion is attributed'),
      tracking_link: z.string().describe("The publisher's tracking link (add sub1..sub6 and url as query parameters)"),
      goals: z.array(PublisherGoal),
    }),
  );
  return { PublisherGoal, PublisherOffer, PublisherOfferPage: pageOf('PublisherOffer', PublisherOffer) };
});

type PublisherOffer = z.input<ReturnType<typeof publisherOfferShapes>['PublisherOffer']>;

export function presentPublisherOffer(goals: PromotableGoalRow[], publisherId: number, origin: string) {
  const first = goals[0] as PromotableGoalRow;
  return {
    id: first.offer_id,
    name: first.offer_name,
    visibility: first.visibility,
    currency: first.currency,
    landing_url: first.landing_url,
    deep_link_hosts: JSON.parse(first.deep_link_hosts) as string[],
    attribution_window_days: first.attribution_window_days,
    tracking_link: `${origin}/c/${first.offer_id}/${publisherId}`,
    goals: goals.map((g) => ({
      key: g.goal_key,
      name: g.goal_name,
      payout: formatAmount(g.payout_fixed, g.currency),
      payout_percent: g.payout_percent_bp / 100,
      payout_rule: g.payout_rule,
    })),
  } satisfies PublisherOffer;
}

/** One page of the offers a publisher may promote (oldest first, cursor = last offer id). */
export async function promotableOfferPage(
  db: D1Database,
  publisherId: number,
  page: { afterOfferId: number; limit: number },
  origin: string,
): Promise<{ data: PublisherOffer[]; next_cursor: string | null }> {
  const { results } = await promotableOffersStatement(db, publisherId, page.limit + 1, {
    afterOfferId: page.afterOfferId,
    now: nowIso(),
  }).all<PromotableGoalRow>();
  const offers = groupPromotable(results);
  const kept = offers.slice(0, page.limit);
  const last = kept.at(-1)?.[0];
  return {
    data: kept.map((goals) => presentPublisherOffer(goals, publisherId, origin)),
    next_cursor: offers.length > page.limit && last ? encodeCursor(last.offer_id) : null,
  };
}

/** One offer as the publisher sees it, or null when it may not promote it. */
export async function promotableOffer(
  db: D1Database,
  publisherId: number,
  offerId: number,
  origin: string,
): Promise<PublisherOffer | null> {
  const { results } = await promotableOffersStatement(db, publisherId, 1, {
    afterOfferId: offerId - 1,
    now: nowIso(),
  }).all<PromotableGoalRow>();
  const goals = results.filter((row) => row.offer_id === offerId);
  return goals.length > 0 ? presentPublisherOffer(goals, publisherId, origin) : null;
}
