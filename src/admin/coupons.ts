// /api/v1/coupons: a publisher's coupon codes on an offer (influencers, podcasts, cashback). A
// conversion carrying a code credits its publisher (docs/coupons.md). The operator manages
// them; a publisher lists its own codes, an advertiser the codes of its offers (it has to honour
// them at its checkout, so it knows them anyway).
import * as z from 'zod';
import { couponValidAt } from '../conversions/attribution-policy';
import { type CouponRow, deleteCoupon, getCoupon, insertCoupon, listCoupons } from '../db/coupons';
import { getOffer } from '../db/offers';
import { getPublisher } from '../db/publishers';
import { ApiError, badRequest, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { ownFilter, ownReportRows } from './access';
import { cursorAfterId, page, pageQuery } from './pagination';
import { filters, idPath } from './schemas';

// biome-ignore lint/suspicious/noControlCharactersInRegex: a code with control characters is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

const instant = z.iso
  .datetime({ offset: true })
  .transform((v) => new Date(v).toISOString())
  .describe('ISO 8601 time (stored in UTC)');

export const couponCreate = z
  .strictObject({
    code: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(64)
      .refine((v) => !CONTROL.test(v) && !/\s/.test(v), 'must not contain spaces or control characters')
      .describe('The code as shoppers type it; matched without regard to case, unique per offer'),
    offer_id: z.int().positive().max(0xffffffff).describe('The offer whose conversions the code credits'),
    publisher_id: z.int().positive().max(0xffffffff).describe('The publisher a conversion with the code credits'),
    starts_at: instant.nullable().optional().describe('Valid from this time (inclusive); absent: from now on'),
    ends_at: instant.nullable().optional().describe('Valid until this time (exclusive); absent: no end'),
  })
  .refine((v) => !v.starts_at || !v.ends_at || v.starts_at < v.ends_at, {
    path: ['ends_at'],
    message: 'must be after starts_at',
  });

export const couponShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const Coupon = component(
    'Coupon',
    z.strictObject({
      id: rowId,
      code: z.string(),
      offer_id: rowId,
      publisher_id: rowId,
      starts_at: timestamp.nullable().describe('Valid from (inclusive); null: since its creation'),
      ends_at: timestamp.nullable().describe('Valid until (exclusive); null: no end'),
      active: z.boolean().describe('Whether a conversion now would be credited by it'),
      created_at: timestamp,
    }),
  );
  return { Coupon, CouponPage: pageOf('Coupon', Coupon) };
});

type Coupon = z.input<ReturnType<typeof couponShapes>['Coupon']>;

export const presentCoupon = (row: CouponRow, now = nowIso()): Coupon => ({
  id: row.id,
  code: row.code,
  offer_id: row.offer_id,
  publisher_id: row.publisher_id,
  starts_at: row.starts_at,
  ends_at: row.ends_at,
  active: couponValidAt(
    { code: row.code, publisherId: row.publisher_id, startsAt: row.starts_at, endsAt: row.ends_at },
    now,
  ),
  created_at: row.created_at,
});

export const couponRoutes = new ApiRoutes('/api/v1', {
  name: 'Coupons',
  description: 'Publishers’ coupon codes: a conversion carrying one credits its publisher without a click.',
});

const couponAnswer = { description: 'The coupon', schema: () => couponShapes().Coupon };

couponRoutes.route(
  {
    method: 'post',
    path: '/coupons',
    operationId: 'createCoupon',
    summary: 'Give a publisher a coupon code on an offer',
    description:
      'A postback (or browser conversion) with voucher (aliases coupon, coupon_code) and no click ID credits the code’s publisher within its validity window; with a click of another publisher, the offer’s coupon_policy decides. A code another coupon of the offer already holds, in any case, is a 409 naming code.',
    auth: 'admin',
    access: {},
    audit: { resource: 'coupon' },
    body: {
      schema: couponCreate,
      required: true,
      example: { code: 'SAVE10', offer_id: 1, publisher_id: 1, ends_at: '2027-01-01T00:00:00Z' },
    },
    responses: { 201: couponAnswer },
  },
  async (c, { body }) => {
    const [offer, publisher] = await Promise.all([
      getOffer(c.env.DB, body.offer_id),
      getPublisher(c.env.DB, body.publisher_id),
    ]);
    const errors: Record<string, string> = {};
    if (!offer) errors.offer_id = 'no such offer';
    if (!publisher) errors.publisher_id = 'no such publisher';
    if (Object.keys(errors).length > 0) throw badRequest(`Unknown ${Object.keys(errors).join(', ')}`, errors);
    const row = await insertCoupon(c.env.DB, {
      offer_id: body.offer_id,
      publisher_id: body.publisher_id,
      code: body.code,
      starts_at: body.starts_at ?? null,
      ends_at: body.ends_at ?? null,
      created_at: nowIso(),
    });
    if (!row) {
      throw new ApiError(409, 'duplicate_coupon', `The offer already has the code ${body.code}`, {
        code: 'is already a coupon of this offer (codes match without regard to case)',
      });
    }
    return { status: 201, body: presentCoupon(row) };
  },
);

couponRoutes.route(
  {
    method: 'get',
    path: '/coupons',
    operationId: 'listCoupons',
    summary: 'List coupon codes',
    description: 'Oldest first. A publisher key sees its own codes; an advertiser key the codes of its offers.',
    auth: 'admin',
    access: { publisher: ownFilter('query', 'publisher_id'), advertiser: ownReportRows },
    query: pageQuery.extend({
      offer_id: filters.offer_id(),
      publisher_id: filters.publisher_id(),
      advertiser_id: filters.advertiser_id(),
    }),
    responses: { 200: { description: 'A page of coupons', schema: () => couponShapes().CouponPage } },
  },
  async (c, { query }) => {
    const rows = await listCoupons(c.env.DB, query, cursorAfterId(query.cursor), query.limit + 1);
    const now = nowIso();
    return {
      status: 200,
      body: page(
        rows,
        query.limit,
        (r) => r.id,
        (r) => presentCoupon(r, now),
      ),
    };
  },
);

couponRoutes.route(
  {
    method: 'delete',
    path: '/coupons/{id}',
    operationId: 'deleteCoupon',
    summary: 'Remove a coupon code',
    description:
      'Conversions it credited keep their publisher; later conversions with the code are no longer credited by it.',
    auth: 'admin',
    access: {},
    audit: { resource: 'coupon', before: (env, params) => getCoupon(env.DB, params.id as number) },
    params: { id: idPath('Coupon') },
    responses: { 200: { ...couponAnswer, description: 'The removed coupon' } },
  },
  async (c, { params }) => {
    const row = await deleteCoupon(c.env.DB, params.id);
    if (!row) throw notFound('Coupon');
    return { status: 200, body: presentCoupon(row) };
  },
);
