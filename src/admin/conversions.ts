// /api/v1/conversions: list with filters (newest first, cursor pagination), read one with its
// events, and change its status (the same lifecycle and write path as advertiser postbacks).
import * as z from 'zod';
import { conversionFor } from '../auth/money-view';
import type { Role } from '../auth/principal';
import { afterCommit, CONVERSION_STATUSES, type ConversionActor, changeConversionStatus } from '../conversions';
import { adjustConversion } from '../conversions/adjustments';
import { getConversion, listConversionEvents, listConversions } from '../db/conversions';
import { notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { ApiRoutes, pathParam } from '../openapi/operation';
import { productLineInput } from '../postback/input';
import { conversionShapes, presentConversion, presentEvent } from './conversion-shapes';
import { cursorTimeKey, page, pageQuery } from './pagination';
import { filters } from './schemas';

export const conversionListQuery = pageQuery.extend({
  status: z.enum(CONVERSION_STATUSES).optional().describe('Only this status'),
  offer_id: filters.offer_id(),
  publisher_id: filters.publisher_id(),
  advertiser_id: filters.advertiser_id(),
  click_id: filters.click_id(),
  order_id: z.string().max(255).optional().describe("Only this advertiser's order ID"),
  from: filters.from(),
  to: filters.to(),
});

export const statusChange = z
  .object({
    status: z.enum(CONVERSION_STATUSES).describe('The new status'),
    reason: z.string().trim().max(500).optional().describe('Why (stored with the event)'),
  })
  .strict();

export const adjustment = z
  .strictObject({
    amount: z
      .union([z.string(), z.number().nonnegative()])
      .transform(String)
      .optional()
      .describe('The new sale amount, decimal text in the conversion currency'),
    products: z.array(productLineInput).min(1).max(500).optional().describe('The new product lines'),
    reason: z.string().trim().min(1).max(500).describe('Why (stored with the event; not in notifications)'),
  })
  .refine((v) => v.amount !== undefined || v.products !== undefined, {
    message: 'amount or products is required',
    path: ['amount'],
  });

const CONVERSION_ID = /^cv_[A-Za-z0-9_-]{1,64}$/;

const conversionId = pathParam({
  what: 'Conversion',
  schema: z.string().regex(CONVERSION_ID),
  description: 'Conversion id (cv_...). Any other form names no conversion (404).',
  example: 'cv_2kQ9xLm3vT8aB1cD',
  read: (text) => (CONVERSION_ID.test(text) ? text : null),
});

export const conversionRoutes = new ApiRoutes('/api/v1/conversions', {
  name: 'Conversions',
  description: 'Conversions, their history, and operator status decisions.',
});

conversionRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listConversions',
    summary: 'List conversions',
    description: 'Newest first.',
    auth: 'admin',
    query: conversionListQuery,
    queryExample: { status: 'pending', from: '2026-11-01' },
    responses: { 200: { description: 'A page of conversions', schema: () => conversionShapes().ConversionPage } },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    // The cursor of a conversions page: the (created_at, id) of its last row.
    const after = cursorTimeKey(cursor);
    const rows = await listConversions(
      c.env.DB,
      filters,
      after && { created_at: after.time, id: after.key },
      limit + 1,
    );
    const role = c.get('principal').role;
    return {
      status: 200,
      body: page(
        rows,
        limit,
        (r) => `${r.created_at}|${r.id}`,
        (r) => conversionFor(role, presentConversion(r)),
      ),
    };
  },
);

conversionRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getConversion',
    summary: 'Read a conversion with its events',
    auth: 'admin',
    params: { id: conversionId },
    responses: {
      200: { description: 'The conversion and its history', schema: () => conversionShapes().ConversionDetail },
    },
  },
  async (c, { params: { id } }) => {
    const [cv, events] = await Promise.all([getConversion(c.env.DB, id), listConversionEvents(c.env.DB, id)]);
    if (!cv) throw notFound('Conversion');
    return {
      status: 200,
      body: conversionFor(c.get('principal').role, { ...presentConversion(cv), events: events.map(presentEvent) }),
    };
  },
);

/**
 * Who a conversion event made through the API names: the advertiser (its key or one of its
 * people) or the operator ('admin'), for a decision as for an adjustment. Which credential
 * acted is in the audit log.
 */
const eventActor = (role: Role): ConversionActor => (role === 'advertiser' ? 'advertiser' : 'admin');

conversionRoutes.route(
  {
    method: 'post',
    path: '/{id}/status',
    operationId: 'changeConversionStatus',
    summary: 'Approve, reject or reverse a conversion',
    description:
      'The same lifecycle as advertiser postbacks: pending -> approved | rejected, approved -> reversed. Asking for the current status changes nothing (changed: false). A change notifies the publisher.',
    auth: 'admin',
    params: { id: conversionId },
    body: { schema: statusChange, required: true, example: { status: 'approved', reason: 'Order shipped' } },
    responses: {
      200: {
        description: 'The conversion after the decision',
        schema: () => conversionShapes().ConversionStatusResult,
      },
      409: { description: 'illegal_status_change, or conflict (a concurrent change; retry)' },
    },
  },
  async (c, { params: { id }, body }) => {
    const cv = await getConversion(c.env.DB, id);
    if (!cv) throw notFound('Conversion');
    const actor = eventActor(c.get('principal').role);
    const result = await changeConversionStatus(c.env.DB, cv, body.status, actor, body.reason ?? null, nowIso);
    afterCommit(c.env, c.executionCtx, result.committed);
    return {
      status: 200,
      body: conversionFor(c.get('principal').role, {
        ...presentConversion(result.conversion),
        changed: result.committed !== null,
        previous_status: result.previousStatus,
      }),
    };
  },
);

conversionRoutes.route(
  {
    method: 'post',
    path: '/{id}/adjust',
    operationId: 'adjustConversion',
    summary: 'Adjust the amount or product lines of a conversion',
    description:
      'Reprices revenue and payout under the terms and exchange rate the conversion was created with, keeps the status, moves the rollups by the difference, and delivers conversion.modified with the previous values.',
    auth: 'admin',
    params: { id: conversionId },
    body: { schema: adjustment, required: true, example: { amount: '80.00', reason: 'Partial refund' } },
    responses: {
      200: {
        description: 'The conversion after the adjustment',
        schema: () => conversionShapes().ConversionAdjustResult,
      },
      409: {
        description:
          'not_adjustable (rejected or reversed), cap_reached (a raise would pass a payout or revenue cap that counted the conversion; nothing changed), or conflict (a concurrent change; retry)',
      },
    },
  },
  async (c, { params: { id }, body }) => {
    const cv = await getConversion(c.env.DB, id);
    if (!cv) throw notFound('Conversion');
    const role = c.get('principal').role;
    const actor = eventActor(role);
    const result = await adjustConversion(
      c.env,
      cv,
      { amount: body.amount, products: body.products },
      actor,
      body.reason,
      nowIso,
    );
    afterCommit(c.env, c.executionCtx, result.committed);
    return {
      status: 200,
      body: conversionFor(role, {
        ...presentConversion(result.conversion),
        previous: presentConversion(result.previous),
      }),
    };
  },
);
