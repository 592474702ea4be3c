// /api/v1/offers/{id}/caps and /api/v1/caps/{id}: caps on an offer's clicks, conversions,
// payout or revenue, with what each has counted in its current period. Every change republishes
// the offer's edge config, so the redirect follows within 60 s.
import * as z from 'zod';
import { publishOfferConfigs } from '../click/config';
import { type CapRow, type CapUsageRow, capsWithUsage, deleteCapStatements, getCap, insertCap } from '../db/caps';
import { getOffer, goalsWithRules } from '../db/offers';
import { getPublisher } from '../db/publishers';
import { badRequest, notFound } from '../lib/errors';
import { formatAmount, parseAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { operatorTimeZone } from '../lib/timezone';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { shapes } from '../openapi/shapes';
import { CAP_PERIODS, periodKeys } from '../terms/periods';
import { idPath } from './schemas';

const CAP_METRICS = ['clicks', 'conversions', 'payout', 'revenue'] as const;
const MONEY_METRICS: readonly string[] = ['payout', 'revenue'];

export const capCreate = z
  .object({
    metric: z.enum(CAP_METRICS).describe('What the cap counts; payout and revenue in the offer currency'),
    period: z.enum(CAP_PERIODS).describe('Counting period in the operator TIMEZONE (weeks start on Monday)'),
    limit: z
      .union([z.int().positive(), z.string().max(32)])
      .describe('A positive integer (clicks, conversions) or a money string such as "500.00" (payout, revenue)'),
    publisher_id: z.int().positive().max(0xffffffff).optional().describe('Only this publisher (default: all together)'),
    goal: z.string().max(32).optional().describe('Only conversions of this goal key (not for clicks)'),
  })
  .strict();

export const capShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const Cap = component(
    'Cap',
    z.strictObject({
      id: rowId,
      offer_id: rowId,
      publisher_id: rowId.nullable().describe('The one publisher it applies to; null = all publishers together'),
      goal: z.string().nullable().describe('The goal whose conversions it counts; null = every goal'),
      metric: z.enum(CAP_METRICS),
      period: z.enum(CAP_PERIODS),
      limit: z.union([z.int(), z.string()]).describe('Integer, or decimal text in the offer currency'),
      current_period: z
        .string()
        .describe('The period counted now: 2026-11-23, W2026-11-23 (week of that Monday), 2026-11 or lifetime'),
      used: z.union([z.int(), z.string()]).describe('What it counted in the current period, in the unit of limit'),
      reached: z.boolean().describe('Reached in the current period: the offer sends these clicks to its fallback'),
      rejected_conversions: z
        .int()
        .describe('Conversions it refused in the current period (stored rejected, cap_reached)'),
      created_at: timestamp,
    }),
  );
  return { Cap, CapList: component('CapList', z.strictObject({ data: z.array(Cap) })) };
});

type Cap = z.input<ReturnType<typeof capShapes>['Cap']>;

function presentCap(row: CapUsageRow, currency: string): Cap {
  const amount = (n: number) => (MONEY_METRICS.includes(row.metric) ? formatAmount(n, currency) : n);
  return {
    id: row.id,
    offer_id: row.offer_id,
    publisher_id: row.publisher_id,
    goal: row.goal_key,
    metric: row.metric,
    period: row.period,
    limit: amount(row.cap_limit),
    current_period: row.period_key,
    used: amount(row.used),
    reached: row.reached_at !== null || row.used >= row.cap_limit,
    rejected_conversions: row.rejected,
    created_at: row.created_at,
  };
}

/** The cap's limit in its stored unit, or a 400 naming `limit`. */
function limitOf(metric: CapRow['metric'], limit: number | string, currency: string): number {
  if (MONEY_METRICS.includes(metric)) {
    const parsed = parseAmount(String(limit), currency);
    if (!parsed.ok || parsed.minor <= 0) {
      throw badRequest('Invalid limit', { limit: `must be a positive amount in ${currency} such as "500.00"` });
    }
    return parsed.minor;
  }
  if (typeof limit !== 'number')
    throw badRequest('Invalid limit', { limit: `must be a positive integer for ${metric}` });
  return limit;
}

export const capRoutes = new ApiRoutes('/api/v1', {
  name: 'Caps',
  description: 'Caps on an offer per day, week, month or lifetime; a reached cap sends clicks to the fallback.',
});

const offerId = idPath('Offer');
const capId = idPath('Cap');

async function offerCaps(env: Env, id: number, currency: string): Promise<Cap[]> {
  const rows = await capsWithUsage(env.DB, id, periodKeys(Date.now(), operatorTimeZone(env)));
  return rows.map((r) => presentCap(r, currency));
}

capRoutes.route(
  {
    method: 'post',
    path: '/offers/{id}/caps',
    operationId: 'createCap',
    summary: 'Add a cap to an offer',
    description:
      'A conversion over a conversion, payout or revenue cap is stored rejected with reason cap_reached; once a cap is reached, the publisher’s clicks go to fallback_offer_id, else fallback_url, else 404 offer_capped.',
    auth: 'admin',
    params: { id: offerId },
    body: { schema: capCreate, required: true, example: { metric: 'conversions', period: 'day', limit: 100 } },
    responses: { 201: { description: 'The cap', schema: () => capShapes().Cap } },
  },
  async (c, { params, body }) => {
    const offer = await getOffer(c.env.DB, params.id);
    if (!offer) throw notFound('Offer');
    const cap_limit = limitOf(body.metric, body.limit, offer.currency);
    let goalId: number | null = null;
    if (body.goal !== undefined) {
      if (body.metric === 'clicks') throw badRequest('Invalid goal', { goal: 'a clicks cap cannot be per goal' });
      const goals = (await goalsWithRules(c.env.DB, [offer.id])).get(offer.id) ?? [];
      const goal = goals.find((g) => g.goal.key === body.goal);
      if (!goal) {
        throw badRequest('Unknown goal', { goal: `must be one of ${goals.map((g) => g.goal.key).join(', ')}` });
      }
      goalId = goal.goal.id;
    }
    if (body.publisher_id !== undefined && !(await getPublisher(c.env.DB, body.publisher_id))) {
      throw badRequest('Unknown publisher_id', { publisher_id: 'no such publisher' });
    }
    const row = await insertCap(c.env.DB, {
      offer_id: offer.id,
      publisher_id: body.publisher_id ?? null,
      goal_id: goalId,
      metric: body.metric,
      period: body.period,
      cap_limit,
      created_at: nowIso(),
    });
    await publishOfferConfigs(c.env, [offer.id]);
    const cap = (await offerCaps(c.env, offer.id, offer.currency)).find((x) => x.id === row.id);
    if (!cap) throw new Error('created cap not found');
    return { status: 201, body: cap };
  },
);

capRoutes.route(
  {
    method: 'get',
    path: '/offers/{id}/caps',
    operationId: 'listCaps',
    summary: 'List an offer’s caps',
    description: 'Each with what it counted in its current period and how many conversions it refused.',
    auth: 'admin',
    params: { id: offerId },
    responses: { 200: { description: 'The caps, oldest first', schema: () => capShapes().CapList } },
  },
  async (c, { params }) => {
    const offer = await getOffer(c.env.DB, params.id);
    if (!offer) throw notFound('Offer');
    return { status: 200, body: { data: await offerCaps(c.env, offer.id, offer.currency) } };
  },
);

capRoutes.route(
  {
    method: 'delete',
    path: '/caps/{id}',
    operationId: 'deleteCap',
    summary: 'Remove a cap',
    description: 'Its counters go with it; clicks it closed the offer to flow again within 60 s.',
    auth: 'admin',
    params: { id: capId },
    responses: { 200: { description: 'The removed cap as it stood', schema: () => capShapes().Cap } },
  },
  async (c, { params }) => {
    const cap = await getCap(c.env.DB, params.id);
    const offer = cap && (await getOffer(c.env.DB, cap.offer_id));
    const shown = offer && (await offerCaps(c.env, offer.id, offer.currency)).find((x) => x.id === params.id);
    if (!cap || !shown) throw notFound('Cap');
    await c.env.DB.batch(deleteCapStatements(c.env.DB, cap.id));
    await publishOfferConfigs(c.env, [cap.offer_id]);
    return { status: 200, body: shown };
  },
);
