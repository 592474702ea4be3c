// The offers API as a publisher sees it (GET /api/v1/offers?publisher_id=, implied for publisher
// keys): the offers it may promote, or with available=apply the private ones it may apply to,
// each goal with the payout it pays that publisher. What a publisher may see is decided here: its
// payout, the terms that bind its traffic (attribution window, deep link hosts, conversion time,
// the caps counting its traffic), the landing page and its tracking link once it may promote;
// never revenue, the advertiser, fallbacks, revenue caps or other publishers' rates and caps.
import * as z from 'zod';
import {
  groupPromotable,
  type PromotableGoalRow,
  type PublisherCapRow,
  type PublisherListing,
  publisherOffersStatements,
} from '../db/portal';
import { badRequest } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { CAP_PERIODS } from '../terms/periods';
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
  const PublisherCap = component(
    'PublisherCap',
    z.strictObject({
      metric: z.enum(['clicks', 'conversions', 'payout']).describe('What the cap counts; payout in the offer currency'),
      period: z.enum(CAP_PERIODS).describe('Counting period in the operator TIMEZONE'),
      limit: z.union([z.int(), z.string()]).describe('Integer, or decimal text in the offer currency (payout)'),
      goal: z.string().nullable().describe('The goal whose conversions it counts; null = every goal'),
      applies_to: z
        .enum(['you', 'all_publishers'])
        .describe('you: your traffic alone; all_publishers: every publisher together'),
    }),
  );
  // The terms a publisher's traffic is held to, shown before applying and while promoting.
  const terms = {
    deep_link_hosts: z.array(z.string()).describe('Hosts the url parameter of a tracking link may point to'),
    attribution_window_days: z.int().describe('Days after a click within which a conversion is attributed'),
    min_seconds_to_convert: z.int().nullable().describe('A conversion sooner than this after its click is too_fast'),
    max_seconds_to_convert: z.int().nullable().describe('A conversion later than this after its click is too_slow'),
    time_rule: z
      .enum(['flag', 'reject'])
      .describe('What happens to a too_fast or too_slow conversion: flagged, or stored rejected'),
    caps: z
      .array(PublisherCap)
      .describe('Caps counting your traffic; past one, conversions are rejected (cap_reached) and clicks go elsewhere'),
  };
  const PublisherOffer = component(
    'PublisherOffer',
    z.strictObject({
      id: rowId,
      name: z.string(),
      visibility: z.enum(['public', 'private']).describe('private: listed because the application is approved'),
      access: z.enum(['open', 'approved']).describe('open: a public offer; approved: your application was approved'),
      currency: currencyCode,
      landing_url: z.string(),
      tracking_link: z.string().describe("The publisher's tracking link (add sub1..sub6 and url as query parameters)"),
      ...terms,
      goals: z.array(PublisherGoal),
    }),
  );
  const ApplicableOffer = component(
    'ApplicableOffer',
    z.strictObject({
      id: rowId,
      name: z.string(),
      visibility: z.enum(['private']),
      access: z
        .enum(['apply', 'pending', 'rejected'])
        .describe(
          'apply: no application yet; pending: awaiting the operator; rejected: refused or revoked (applying again reopens it)',
        ),
      application_id: rowId.nullable().describe('Your application (GET /api/v1/applications), null before applying'),
      currency: currencyCode,
      ...terms,
      goals: z.array(PublisherGoal),
    }),
  );
  return {
    PublisherGoal,
    PublisherCap,
    PublisherOffer,
    PublisherOfferPage: pageOf('PublisherOffer', PublisherOffer),
    ApplicableOffer,
    ApplicableOfferPage: pageOf('ApplicableOffer', ApplicableOffer),
  };
});

type Shapes = ReturnType<typeof publisherOfferShapes>;
export type PublisherOffer = z.input<Shapes['PublisherOffer']>;
export type ApplicableOffer = z.input<Shapes['ApplicableOffer']>;
type PublisherCap = z.input<Shapes['PublisherCap']>;

function presentCap(cap: PublisherCapRow, currency: string): PublisherCap {
  return {
    metric: cap.metric,
    period: cap.period,
    limit: cap.metric === 'payout' ? formatAmount(cap.cap_limit, currency) : cap.cap_limit,
    goal: cap.goal_key,
    applies_to: cap.publisher_id === null ? 'all_publishers' : 'you',
  };
}

function presentTerms(first: PromotableGoalRow, goals: PromotableGoalRow[], caps: PublisherCapRow[]) {
  return {
    deep_link_hosts: JSON.parse(first.deep_link_hosts) as string[],
    attribution_window_days: first.attribution_window_days,
    min_seconds_to_convert: first.min_seconds_to_convert,
    max_seconds_to_convert: first.max_seconds_to_convert,
    time_rule: first.time_rule,
    caps: caps.filter((cap) => cap.offer_id === first.offer_id).map((cap) => presentCap(cap, first.currency)),
    goals: goals.map((g) => ({
      key: g.goal_key,
      name: g.goal_name,
      payout: formatAmount(g.payout_fixed, g.currency),
      payout_percent: g.payout_percent_bp / 100,
      payout_rule: g.payout_rule,
    })),
  };
}

export function presentPublisherOffer(
  goals: PromotableGoalRow[],
  caps: PublisherCapRow[],
  publisherId: number,
  origin: string,
): PublisherOffer {
  const first = goals[0] as PromotableGoalRow;
  return {
    id: first.offer_id,
    name: first.offer_name,
    visibility: first.visibility,
    access: first.visibility === 'public' ? 'open' : 'approved',
    currency: first.currency,
    landing_url: first.landing_url,
    tracking_link: `${origin}/c/${first.offer_id}/${publisherId}`,
    ...presentTerms(first, goals, caps),
  };
}

export function presentApplicableOffer(goals: PromotableGoalRow[], caps: PublisherCapRow[]): ApplicableOffer {
  const first = goals[0] as PromotableGoalRow;
  const status = first.application_status;
  return {
    id: first.offer_id,
    name: first.offer_name,
    visibility: 'private',
    // An approved application is not in this listing (its offer is promotable).
    access: status === 'pending' || status === 'rejected' ? status : 'apply',
    application_id: first.application_id,
    currency: first.currency,
    ...presentTerms(first, goals, caps),
  };
}

type ListingOffer<L extends PublisherListing> = L extends 'promote' ? PublisherOffer : ApplicableOffer;

/** Reads one page of a publisher's listing (one batch) as offers with their goals and caps. */
async function readListing(
  db: D1Database,
  publisherId: number,
  listing: PublisherListing,
  limit: number,
  afterOfferId: number,
): Promise<{ offers: PromotableGoalRow[][]; caps: PublisherCapRow[] }> {
  const [goals, caps] = await db.batch<PromotableGoalRow | PublisherCapRow>(
    publisherOffersStatements(db, publisherId, listing, limit, { afterOfferId, now: nowIso() }),
  );
  return {
    offers: groupPromotable((goals?.results ?? []) as PromotableGoalRow[]),
    caps: (caps?.results ?? []) as PublisherCapRow[],
  };
}

const presenter =
  <L extends PublisherListing>(listing: L, publisherId: number, origin: string, caps: PublisherCapRow[]) =>
  (goals: PromotableGoalRow[]): ListingOffer<L> =>
    (listing === 'promote'
      ? presentPublisherOffer(goals, caps, publisherId, origin)
      : presentApplicableOffer(goals, caps)) as ListingOffer<L>;

/**
 * One page of a publisher's listing, oldest first (cursor = last offer id): the offers it may
 * promote, or the private ones it may apply to.
 */
export async function publisherOfferPage<L extends PublisherListing>(
  db: D1Database,
  publisherId: number,
  listing: L,
  page: { afterOfferId: number; limit: number },
  origin: string,
): Promise<{ data: ListingOffer<L>[]; next_cursor: string | null }> {
  const { offers, caps } = await readListing(db, publisherId, listing, page.limit + 1, page.afterOfferId);
  const kept = offers.slice(0, page.limit);
  const last = kept.at(-1)?.[0];
  return {
    data: kept.map(presenter(listing, publisherId, origin, caps)),
    next_cursor: offers.length > page.limit && last ? encodeCursor(last.offer_id) : null,
  };
}

/** The listOffers query field choosing a publisher's listing. */
export const availableListing = z
  .enum(['promote', 'apply'])
  .optional()
  .describe('With publisher_id: promote (default) lists what it may promote; apply the private offers it may apply to');

export const listingWithoutPublisher = () =>
  badRequest('available lists offers as a publisher sees them: give publisher_id', {
    available: 'needs publisher_id',
  });

/** The page of the listing `available` names (promote by default). */
export const publisherListing = async (
  db: D1Database,
  publisherId: number,
  available: 'promote' | 'apply' | undefined,
  page: { afterOfferId: number; limit: number },
  origin: string,
) =>
  available === 'apply'
    ? await publisherOfferPage(db, publisherId, 'apply', page, origin)
    : await publisherOfferPage(db, publisherId, 'promote', page, origin);

/** One offer as the publisher sees it, or null when it may not promote it. */
export async function promotableOffer(
  db: D1Database,
  publisherId: number,
  offerId: number,
  origin: string,
): Promise<PublisherOffer | null> {
  const { offers, caps } = await readListing(db, publisherId, 'promote', 1, offerId - 1);
  const goals = offers[0];
  return goals?.[0]?.offer_id === offerId ? presentPublisherOffer(goals, caps, publisherId, origin) : null;
}
