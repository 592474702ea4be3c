// /api/v1/offers/{id}/goals/{goalKey}/payouts/{publisherId}: a publisher's own payout for a goal
// (TUNE's and Everflow's custom payouts per partner), optionally only between starts_at and
// ends_at. It replaces the goal's payout for that publisher, never its revenue, and wins over
// volume tiers; a conversion records the rule that priced it (payout_rule).
import * as z from 'zod';
import { deletePublisherPayout, goalOfOffer, putPublisherPayout, type RuleRow } from '../db/payout-rules';
import { getPublisher } from '../db/publishers';
import { ApiError, badRequest, notFound } from '../lib/errors';
import { formatAmount, parseAmount, percentToBasisPoints } from '../lib/money';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy, pathParam } from '../openapi/operation';
import { shapes } from '../openapi/shapes';
import { decimal, idPath, percent } from './schemas';

const instant = z.iso
  .datetime({ offset: true })
  .transform((v) => new Date(v).toISOString())
  .nullable()
  .optional();

export const publisherPayoutInput = z
  .strictObject({
    payout: decimal.optional().describe('Fixed payout per conversion, decimal text in the offer currency'),
    payout_percent: percent.optional().describe('Payout as a percentage of the sale amount'),
    starts_at: instant.describe('In force from this time on (inclusive); null or absent: already'),
    ends_at: instant.describe('In force until this time (exclusive); null or absent: no end'),
  })
  .refine((v) => v.payout !== undefined || v.payout_percent !== undefined, {
    message: 'payout or payout_percent is required',
    path: ['payout'],
  });

const payoutShapes = lazy(() => {
  const { rowId, timestamp, money } = shapes();
  return {
    PublisherPayout: component(
      'PublisherPayout',
      z.strictObject({
        id: rowId.describe('The rule id conversions name in payout_rule (publisher:<id>)'),
        offer_id: rowId,
        goal: z.string(),
        publisher_id: rowId,
        payout: money,
        payout_percent: z.number(),
        starts_at: timestamp.nullable(),
        ends_at: timestamp.nullable(),
      }),
    ),
    PayoutDeleted: component('PublisherPayoutDeleted', z.strictObject({ deleted: z.literal(true) })),
  };
});

const goalKeyParam = pathParam({
  what: 'Goal',
  schema: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
  description: 'Goal key',
  example: 'sale',
  read: (text) => (/^[a-z0-9][a-z0-9_-]{0,31}$/.test(text) ? text : null),
});

export const payoutRoutes = new ApiRoutes('/api/v1/offers', {
  name: 'Publisher payouts',
  description: "A publisher's own payout for a goal, with an optional validity window.",
});

const params = { id: idPath('Offer'), goalKey: goalKeyParam, publisherId: idPath('Publisher') };
const path = '/{id}/goals/{goalKey}/payouts/{publisherId}';

async function goalOf(db: D1Database, offerId: number, key: string) {
  const goal = await goalOfOffer(db, offerId, key);
  if (!goal) throw notFound('Goal');
  return goal;
}

function present(rule: RuleRow, offerId: number, goal: string, currency: string) {
  return {
    id: rule.id,
    offer_id: offerId,
    goal,
    publisher_id: rule.publisher_id ?? 0,
    payout: formatAmount(rule.payout_fixed, currency),
    payout_percent: rule.payout_percent_bp / 100,
    starts_at: rule.starts_at ?? null,
    ends_at: rule.ends_at ?? null,
  };
}

payoutRoutes.route(
  {
    method: 'put',
    path,
    operationId: 'putPublisherPayout',
    summary: "Set a publisher's payout for a goal",
    description:
      "Creates or replaces it. It overrides the goal's payout (not its revenue) for conversions created while it is in force, and wins over volume tiers.",
    auth: 'admin',
    params,
    body: {
      schema: publisherPayoutInput,
      required: true,
      example: { payout: '3.50', starts_at: '2026-12-01T00:00:00Z', ends_at: '2027-01-01T00:00:00Z' },
    },
    responses: { 200: { description: 'The payout rule', schema: () => payoutShapes().PublisherPayout } },
  },
  async (c, { params: { id, goalKey, publisherId }, body }) => {
    const goal = await goalOf(c.env.DB, id, goalKey);
    if (!(await getPublisher(c.env.DB, publisherId))) throw notFound('Publisher');
    let payoutFixed = 0;
    if (body.payout !== undefined) {
      const parsed = parseAmount(body.payout, goal.currency);
      if (!parsed.ok) throw badRequest(`Invalid payout`, { payout: parsed.reason });
      payoutFixed = parsed.minor;
    }
    const startsAt = body.starts_at ?? null;
    const endsAt = body.ends_at ?? null;
    if (startsAt && endsAt && endsAt <= startsAt) {
      throw badRequest('ends_at must be after starts_at', { ends_at: 'must be after starts_at' });
    }
    const rule = await putPublisherPayout(
      c.env.DB,
      goal.id,
      publisherId,
      {
        payout_fixed: payoutFixed,
        payout_percent_bp: percentToBasisPoints(body.payout_percent ?? 0) ?? 0,
        starts_at: startsAt,
        ends_at: endsAt,
      },
      nowIso(),
    );
    if (!rule) throw new ApiError(500, 'internal_error', 'The payout rule was not stored');
    return { status: 200, body: present(rule, id, goalKey, goal.currency) };
  },
);

payoutRoutes.route(
  {
    method: 'delete',
    path,
    operationId: 'deletePublisherPayout',
    summary: "Remove a publisher's payout for a goal",
    description: 'Conversions created afterwards earn the goal payout (or a tier). Stored conversions keep theirs.',
    auth: 'admin',
    params,
    responses: {
      200: {
        description: 'Removed',
        schema: () => payoutShapes().PayoutDeleted,
      },
    },
  },
  async (c, { params: { id, goalKey, publisherId } }) => {
    const goal = await goalOf(c.env.DB, id, goalKey);
    if (!(await deletePublisherPayout(c.env.DB, goal.id, publisherId))) throw notFound('Payout rule');
    return { status: 200, body: { deleted: true as const } };
  },
);
