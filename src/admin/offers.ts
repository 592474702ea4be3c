// /api/v1/offers: an offer with its goals and payout rules. Money in requests is decimal text
// in the offer's currency; it is stored as integer minor units and percentages as basis points.
import * as z from 'zod';
import { offerFor } from '../auth/money-view';
import { browserSettingFields, browserSettingsStatement } from '../browser/offer-settings';
import { publishOfferConfigs } from '../click/config';
import { landingMacroInAuthority, unknownLandingMacros } from '../click/landing';
import { getAdvertiser } from '../db/advertisers';
import {
  type CommissionGroupValues,
  commissionGroupsOfOffers,
  upsertCommissionGroupStatement,
} from '../db/commission-groups';
import { type BaseRuleValues, type GoalPlan, upsertGoalsStatements } from '../db/goals';
import { updateOfferTermsStatement } from '../db/offer-terms';
import {
  getOffer,
  goalsWithRules,
  insertOfferStatement,
  listOffers,
  type OfferRow,
  updateOfferStatement,
} from '../db/offers';
import { ApiError, badRequest, type FieldErrors, notFound } from '../lib/errors';
import { parseAmount, percentToBasisPoints } from '../lib/money';
import { nowIso } from '../lib/time';
import { ApiRoutes } from '../openapi/operation';
import { collectGroups, commissionGroupFields, groupCode } from './commission-groups';
import { offerAttributionFields, offerAttributionStatement } from './offer-attribution';
import { goalRuleFields, goalRulesStatements, keptTiers, offerRuleFields, offerRulesStatement } from './offer-rules';
import { offerShapes, presentOffer } from './offer-shapes';
import { cursorAfterId, page, pageQuery } from './pagination';
import {
  availableListing,
  listingWithoutPublisher,
  promotableOffer,
  publisherListing,
  publisherOfferShapes,
} from './publisher-offers';
import { currency, decimal, filters, hostname, httpUrl, httpUrlTemplate, idPath, name, percent } from './schemas';

const ruleFields = (of: string) => ({
  revenue: decimal.optional().describe(`Fixed revenue per ${of}, decimal text in the offer currency`),
  payout: decimal.optional().describe(`Fixed payout per ${of}, decimal text in the offer currency`),
  revenue_percent: percent
    .optional()
    .describe(
      `Revenue as a percentage of the ${of === 'conversion' ? 'sale amount' : 'line total'} (at most 2 decimals)`,
    ),
  payout_percent: percent
    .optional()
    .describe(
      `Payout as a percentage of the ${of === 'conversion' ? 'sale amount' : 'line total'} (at most 2 decimals)`,
    ),
});

const goalKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1-32 of a-z, 0-9, _ and -')
  .describe('Goal key that postbacks name in event (1-32 of a-z, 0-9, _ and -)');

export const commissionGroupInput = z.strictObject({
  ...commissionGroupFields,
  ...ruleFields('product line of the group'),
});

export const goalInput = z.strictObject({
  key: goalKey,
  name: z.string().trim().min(1).max(100).optional().describe('Display name (default: the key)'),
  ...ruleFields('conversion'),
  commission_groups: z
    .array(commissionGroupInput)
    .max(50)
    .optional()
    .describe('Rules for product lines of a named commission group'),
  allow_repeats: z.boolean().optional().describe('Without an order ID, let a click convert more than once'),
  default: z.boolean().optional().describe('The goal used when a postback names no event (at most one)'),
  default_status: z
    .enum(['pending', 'approved'])
    .optional()
    .describe('Status of a new conversion when the postback sends none'),
  ...goalRuleFields,
});

const goals = z.array(goalInput).min(1).max(50).describe('Conversion goals with their revenue and payout rules');

const offerFields = {
  name,
  landing_url: httpUrlTemplate.describe(
    'http(s) URL where clicks land; macros {click_id}, {offer_id}, {publisher_id}, {sub1}..{sub5}',
  ),
  click_param: z
    .string()
    .regex(/^[A-Za-z0-9_.~-]{1,64}$/, 'must be 1-64 URL-safe characters')
    .describe('Query parameter for the click ID when landing_url has no {click_id} macro'),
  deep_link_hosts: z
    .array(hostname)
    .max(100)
    .describe('Hosts the url parameter of a tracking link may point to (*.example.com allowed)'),
  attribution_window_days: z
    .number()
    .int()
    .min(1)
    .max(365)
    .describe('Days after a click within which a conversion is attributed'),
  allow_publisher_postback: z.boolean().describe('Accept postbacks with offer_id + publisher_id instead of a click ID'),
  fallback_url: httpUrl.nullable().describe('Where clicks go while the offer or publisher is unavailable'),
  visibility: z
    .enum(['public', 'private'])
    .describe('private: only publishers whose application is approved may send traffic (docs/program-terms.md)'),
  fallback_offer_id: z
    .int()
    .positive()
    .max(0xffffffff)
    .nullable()
    .describe('Where refused clicks (private and not approved, or capped) go first: a real click on that offer'),
  status: z
    .enum(['active', 'paused', 'archived'])
    .describe('active, paused (clicks get the fallback or a 404) or archived'),
  ...offerRuleFields,
  ...offerAttributionFields,
  ...browserSettingFields,
};

export const offerCreate = z.strictObject({
  advertiser_id: z.number().int().positive().describe('The advertiser that owns the offer'),
  currency: currency.describe('ISO 4217 currency of revenue and payout (cannot be changed later)'),
  goals,
  ...offerFields,
  click_param: offerFields.click_param.default('click_id'),
  deep_link_hosts: offerFields.deep_link_hosts.default([]),
  attribution_window_days: offerFields.attribution_window_days.default(30),
  allow_publisher_postback: offerFields.allow_publisher_postback.default(false),
  fallback_url: offerFields.fallback_url.default(null),
  visibility: offerFields.visibility.default('public'),
  fallback_offer_id: offerFields.fallback_offer_id.default(null),
  status: offerFields.status.default('active'),
});

/** Goals in an update are matched by key: existing ones are changed, new keys are added. */
export const offerUpdate = z
  .object({
    ...(Object.fromEntries(Object.entries(offerFields).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof offerFields]: z.ZodOptional<(typeof offerFields)[K]>;
    }),
    goals: goals.optional(),
  })
  .strict();

type GoalInput = z.output<typeof goalInput>;
type RuleInput = Partial<Record<'revenue' | 'payout', string>> &
  Partial<Record<'revenue_percent' | 'payout_percent', number>>;

/** Converts a rule's decimals and percentages, collecting errors under the rule's path. */
function ruleValues(
  input: RuleInput,
  offerCurrency: string,
  path: string,
  errors: FieldErrors,
  group: string | null,
): BaseRuleValues {
  const money = (field: 'revenue' | 'payout') => {
    const text = input[field];
    if (text === undefined) return 0;
    const parsed = parseAmount(text, offerCurrency);
    if (!parsed.ok) errors[`${path}.${field}`] = parsed.reason;
    return parsed.ok ? parsed.minor : 0;
  };
  const bp = (field: 'revenue_percent' | 'payout_percent') => percentToBasisPoints(input[field] ?? 0) ?? 0;
  return {
    commission_group: group,
    revenue_fixed: money('revenue'),
    revenue_percent_bp: bp('revenue_percent'),
    payout_fixed: money('payout'),
    payout_percent_bp: bp('payout_percent'),
  };
}

function planGoals(goals: GoalInput[], offerCurrency: string): { plans: GoalPlan[]; groups: CommissionGroupValues[] } {
  const errors: FieldErrors = {};
  const seen = new Set<string>();
  const plans = goals.map((goal, i) => {
    if (seen.has(goal.key)) errors[`goals.${i}.key`] = `duplicate goal key ${goal.key}`;
    seen.add(goal.key);
    const rules = [ruleValues(goal, offerCurrency, `goals.${i}`, errors, null)];
    const groups = new Set<string>();
    goal.commission_groups?.forEach((group, k) => {
      const path = `goals.${i}.commission_groups.${k}`;
      const code = groupCode(group, path, errors);
      if (code === undefined) return;
      if (groups.has(code)) errors[`${path}.key`] = `duplicate group ${code}`;
      groups.add(code);
      rules.push(ruleValues(group, offerCurrency, path, errors, code));
    });
    return { goal, rules };
  });
  const groups = collectGroups(goals, errors);
  if (goals.filter((g) => g.default).length > 1) errors.goals = 'at most one goal can be the default';
  if (Object.keys(errors).length > 0) throw badRequest(`Invalid ${Object.keys(errors).join(', ')}`, errors);
  return { plans, groups };
}

function checkLandingUrl(landingUrl: string | undefined) {
  if (landingUrl === undefined) return;
  if (landingMacroInAuthority(landingUrl)) {
    throw badRequest('Macros in landing_url must be in its path or query', {
      landing_url: 'macros are allowed in the path and query only, not in the scheme or host (no open redirect)',
    });
  }
  const unknown = unknownLandingMacros(landingUrl);
  if (unknown.length > 0) {
    throw badRequest(`Unknown macros in landing_url: ${unknown.join(', ')}`, {
      landing_url: `unknown macros: ${unknown.map((m) => `{${m}}`).join(', ')}`,
    });
  }
}

async function loadOffer(db: D1Database, id: number, origin: string) {
  const row = await getOffer(db, id);
  if (!row) throw notFound('Offer');
  const [goals, groups] = await Promise.all([goalsWithRules(db, [id]), commissionGroupsOfOffers(db, [id])]);
  return presentOffer(row, goals.get(id) ?? [], origin, groups.get(id));
}

const originOf = (url: string) => new URL(url).origin;

/** A fallback offer must exist and differ from the offer itself (a 400 naming the field). */
async function checkFallbackOffer<T extends number | null | undefined>(
  db: D1Database,
  fallback: T,
  self: number | null,
) {
  if (fallback === null || fallback === undefined) return fallback;
  if (fallback === self || !(await getOffer(db, fallback))) {
    throw badRequest('Invalid fallback_offer_id', { fallback_offer_id: 'must be another existing offer' });
  }
  return fallback;
}

export const offerRoutes = new ApiRoutes('/api/v1/offers', {
  name: 'Offers',
  description: 'Offers with their goals and payout rules.',
});

const offerId = idPath('Offer');
const publisherView = filters
  .publisher_id()
  .describe('As this publisher sees it: promotable offers only, its own payout, no revenue');
const oneView = () =>
  badRequest('Give advertiser_id or publisher_id, not both', { publisher_id: 'cannot be combined with advertiser_id' });
const offerAnswer = { description: 'The offer', schema: () => offerShapes().Offer };

offerRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'createOffer',
    summary: 'Create an offer',
    description: 'Money is decimal text in the offer currency; percentages have at most 2 decimals.',
    auth: 'admin',
    body: {
      schema: offerCreate,
      required: true,
      example: {
        advertiser_id: 1,
        name: 'Summer sale',
        landing_url: 'https://shop.example/landing?src=aff',
        currency: 'EUR',
        goals: [
          { key: 'lead', revenue: '5.00', payout: '2.00' },
          { key: 'sale', revenue_percent: 10, payout_percent: 5 },
        ],
      },
    },
    responses: { 201: { ...offerAnswer, description: 'Created' } },
  },
  async (c, { body }) => {
    checkLandingUrl(body.landing_url);
    const { plans, groups } = planGoals(body.goals, body.currency);
    if (!(await getAdvertiser(c.env.DB, body.advertiser_id))) {
      throw new ApiError(400, 'invalid_request', 'Unknown advertiser_id', { advertiser_id: 'no such advertiser' });
    }
    const now = nowIso();
    // One transaction: the offer row, then its goals and rules addressed through the new id.
    const [inserted] = await c.env.DB.batch([
      insertOfferStatement(c.env.DB, {
        advertiser_id: body.advertiser_id,
        name: body.name,
        status: body.status,
        landing_url: body.landing_url,
        click_param: body.click_param,
        deep_link_hosts: JSON.stringify(body.deep_link_hosts),
        fallback_url: body.fallback_url,
        currency: body.currency,
        attribution_window_days: body.attribution_window_days,
        allow_publisher_postback: body.allow_publisher_postback ? 1 : 0,
        created_at: now,
        updated_at: now,
      }),
      updateOfferTermsStatement(c.env.DB, 'inserted', {
        visibility: body.visibility,
        fallback_offer_id: await checkFallbackOffer(c.env.DB, body.fallback_offer_id, null),
      }),
      ...upsertGoalsStatements(c.env.DB, 'inserted', plans, now),
      ...groups.map((group) => upsertCommissionGroupStatement(c.env.DB, 'inserted', group, now)),
      ...[offerRulesStatement(c.env.DB, 'inserted', body)].filter((s) => s !== null),
      ...[offerAttributionStatement(c.env.DB, 'inserted', body)].filter((s) => s !== null),
      ...[browserSettingsStatement(c.env.DB, 'inserted', body)].filter((s) => s !== null),
      ...goalRulesStatements(c.env.DB, 'inserted', body.goals, body.currency),
    ]);
    const id = (inserted?.results[0] as { id: number } | undefined)?.id;
    if (!id) throw new Error('offer insert returned no id');
    await publishOfferConfigs(c.env, [id]);
    return { status: 201, body: await loadOffer(c.env.DB, id, originOf(c.req.url)) };
  },
);

offerRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listOffers',
    summary: 'List offers',
    description:
      'Oldest first. With publisher_id (implied for a publisher key): the offers that publisher may promote (active; public, or private with its application approved), as PublisherOffer with its own payout and no revenue; with available=apply as well, the active private offers it may apply to (POST /offers/{id}/applications), as ApplicableOffer with its application status.',
    auth: 'admin',
    query: pageQuery.extend({
      advertiser_id: filters.advertiser_id(),
      publisher_id: publisherView,
      available: availableListing,
    }),
    responses: {
      200: {
        description:
          'A page of offers (PublisherOffer rows with publisher_id, ApplicableOffer rows with available=apply)',
        schema: () =>
          z.union([
            offerShapes().OfferPage,
            publisherOfferShapes().PublisherOfferPage,
            publisherOfferShapes().ApplicableOfferPage,
          ]),
      },
    },
  },
  async (c, { query }) => {
    if (query.publisher_id !== undefined) {
      if (query.advertiser_id !== undefined) throw oneView();
      const page = { afterOfferId: cursorAfterId(query.cursor), limit: query.limit };
      const body = await publisherListing(c.env.DB, query.publisher_id, query.available, page, originOf(c.req.url));
      return { status: 200, body };
    }
    if (query.available !== undefined) throw listingWithoutPublisher();
    const rows = await listOffers(c.env.DB, cursorAfterId(query.cursor), query.limit + 1, query.advertiser_id);
    const ids = rows.slice(0, query.limit).map((r) => r.id);
    const [goals, groups] = await Promise.all([goalsWithRules(c.env.DB, ids), commissionGroupsOfOffers(c.env.DB, ids)]);
    const origin = originOf(c.req.url);
    const role = c.get('principal').role;
    const present = (r: OfferRow) => offerFor(role, presentOffer(r, goals.get(r.id) ?? [], origin, groups.get(r.id)));
    return { status: 200, body: page(rows, query.limit, (r) => r.id, present) };
  },
);

offerRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getOffer',
    summary: 'Read an offer',
    description: 'With publisher_id (implied for a publisher key): the offer as that publisher sees it, or 404.',
    auth: 'admin',
    params: { id: offerId },
    query: z.object({ publisher_id: publisherView }),
    responses: {
      200: {
        ...offerAnswer,
        schema: () => z.union([offerShapes().Offer, publisherOfferShapes().PublisherOffer]),
      },
    },
  },
  async (c, { params, query }) => {
    const origin = originOf(c.req.url);
    if (query.publisher_id === undefined) {
      return { status: 200, body: offerFor(c.get('principal').role, await loadOffer(c.env.DB, params.id, origin)) };
    }
    const offer = await promotableOffer(c.env.DB, query.publisher_id, params.id, origin);
    if (!offer) throw notFound('Offer');
    return { status: 200, body: offer };
  },
);

offerRoutes.route(
  {
    method: 'patch',
    path: '/{id}',
    operationId: 'updateOffer',
    summary: 'Change an offer',
    description:
      'Goals are matched by key: a known key changes that goal and replaces its base payout rules, a new key adds a goal. The currency cannot change.',
    auth: 'admin',
    params: { id: offerId },
    body: { schema: offerUpdate, required: true, example: { status: 'paused' } },
    responses: { 200: { ...offerAnswer, description: 'The changed offer' } },
  },
  async (c, { params: { id }, body }) => {
    checkLandingUrl(body.landing_url);
    const existing = await getOffer(c.env.DB, id);
    if (!existing) throw notFound('Offer');
    const { plans, groups } = body.goals ? planGoals(body.goals, existing.currency) : { plans: [], groups: [] };
    const now = nowIso();
    await c.env.DB.batch([
      updateOfferStatement(
        c.env.DB,
        id,
        {
          name: body.name,
          status: body.status,
          landing_url: body.landing_url,
          click_param: body.click_param,
          deep_link_hosts: body.deep_link_hosts && JSON.stringify(body.deep_link_hosts),
          fallback_url: body.fallback_url,
          attribution_window_days: body.attribution_window_days,
          allow_publisher_postback:
            body.allow_publisher_postback === undefined ? undefined : body.allow_publisher_postback ? 1 : 0,
        },
        now,
      ),
      updateOfferTermsStatement(
        c.env.DB,
        { id },
        {
          visibility: body.visibility,
          fallback_offer_id: await checkFallbackOffer(c.env.DB, body.fallback_offer_id, id),
        },
      ),
      ...upsertGoalsStatements(c.env.DB, { id }, plans, now),
      ...groups.map((group) => upsertCommissionGroupStatement(c.env.DB, { id }, group, now)),
      ...[offerRulesStatement(c.env.DB, { id }, body)].filter((s) => s !== null),
      ...[offerAttributionStatement(c.env.DB, { id }, body)].filter((s) => s !== null),
      ...[browserSettingsStatement(c.env.DB, { id }, body)].filter((s) => s !== null),
      ...goalRulesStatements(
        c.env.DB,
        { id },
        body.goals ?? [],
        existing.currency,
        await keptTiers(c.env.DB, id, body.goals),
      ),
    ]);
    await publishOfferConfigs(c.env, [id]);
    return { status: 200, body: await loadOffer(c.env.DB, id, originOf(c.req.url)) };
  },
);
