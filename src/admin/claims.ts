// /api/v1/claims: a publisher claims a sale the tracking missed; the advertiser (or operator)
// accepts it, creating the conversion (source "claim") through the postback's recording path,
// or rejects it with a reason; both write in its thread. Each party sees its own claims: the
// publisher those it filed, the advertiser those on its offers. Answers carry the claimed sale
// amount only, never revenue or payout.
import * as z from 'zod';
import {
  addClaimMessage,
  type ClaimMessageRow,
  type ClaimRow,
  claimMessages,
  getClaim,
  listClaims,
} from '../db/claims';
import { badRequest, notFound } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { acceptClaim, decline, fileClaim } from '../month/claims';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { ownedResource, ownFilter } from './access';
import { cursorId, page, pageQuery } from './pagination';
import { currency, filters, idPath } from './schemas';

const STATUSES = ['open', 'accepted', 'rejected'] as const;

export const claimCreate = z.strictObject({
  offer_id: z.int().positive().max(0xffffffff).describe('The offer the sale was made on'),
  publisher_id: z
    .int()
    .positive()
    .max(0xffffffff)
    .optional()
    .describe('The claiming publisher: required from an operator, implied by a publisher key'),
  order_id: z.string().trim().min(1).max(255).describe("The advertiser's order ID of the missed sale"),
  amount: z
    .union([z.string(), z.number().nonnegative()])
    .transform(String)
    .describe('The sale amount, decimal text in currency'),
  currency: currency.describe('ISO 4217 currency of the amount'),
  transaction_date: z
    .string()
    .max(40)
    .describe('When the sale happened: a UTC day (YYYY-MM-DD) or an ISO 8601 time, within the last 365 days'),
  click_id: z.string().max(64).optional().describe('The click ID of the visit, when the publisher has it'),
  note: z
    .string()
    .trim()
    .max(2000)
    .optional()
    .describe('What the advertiser should know (first message of the thread)'),
});

const claimAccept = z.strictObject({
  goal: z.string().max(64).optional().describe("The goal to record (its key); the offer's default goal when absent"),
  status: z
    .enum(['approved', 'pending'])
    .optional()
    .describe('Status of the new conversion; approved unless the offer holds it (default approved)'),
});

const claimReject = z.strictObject({
  reason: z.string().trim().min(1).max(1000).describe('Why the claim is rejected (shown to the publisher)'),
});

const claimMessage = z.strictObject({
  message: z.string().trim().min(1).max(2000).describe('The message, seen by both parties'),
});

export const claimShapes = lazy(() => {
  const { rowId, timestamp, money, currencyCode } = shapes();
  const claim = {
    id: rowId,
    offer_id: rowId,
    publisher_id: rowId,
    order_id: z.string(),
    amount: money.describe('The claimed sale amount, in currency'),
    currency: currencyCode,
    transaction_date: timestamp,
    click_id: z.string().nullable(),
    note: z.string().nullable(),
    status: z.enum(STATUSES).describe('open until the advertiser or operator accepts or rejects it'),
    conversion_id: z.string().nullable().describe('The conversion an accepted claim created (source claim)'),
    reason: z.string().nullable().describe('Why it was rejected'),
    decided_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  };
  const Claim = component('Claim', z.strictObject(claim));
  const ClaimMessage = component(
    'ClaimMessage',
    z.strictObject({
      id: rowId,
      claim_id: rowId,
      author_role: z.enum(['publisher', 'advertiser', 'operator']),
      message: z.string(),
      created_at: timestamp,
    }),
  );
  const ClaimDetail = component(
    'ClaimDetail',
    z.strictObject({ ...claim, messages: z.array(ClaimMessage).describe('The thread, oldest first') }),
  );
  return { Claim, ClaimMessage, ClaimDetail, ClaimPage: pageOf('Claim', Claim) };
});

type Claim = z.input<ReturnType<typeof claimShapes>['Claim']>;

export const presentClaim = (row: ClaimRow): Claim => ({
  id: row.id,
  offer_id: row.offer_id,
  publisher_id: row.publisher_id,
  order_id: row.order_id,
  amount: formatAmount(row.amount, row.currency),
  currency: row.currency,
  transaction_date: row.transaction_date,
  click_id: row.click_id,
  note: row.note,
  status: row.status,
  conversion_id: row.conversion_id,
  reason: row.reason,
  decided_at: row.decided_at,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export const presentMessage = (row: ClaimMessageRow) => ({
  id: row.id,
  claim_id: row.claim_id,
  author_role: row.author_role,
  message: row.message,
  created_at: row.created_at,
});

const claimParty = (env: Env, params: Record<string, unknown>) => getClaim(env.DB, params.id as number);
const ownClaim = ownedResource(claimParty);

async function claimOf(db: D1Database, id: number): Promise<ClaimRow> {
  const claim = await getClaim(db, id);
  if (!claim) throw notFound('Claim');
  return claim;
}

export const claimRoutes = new ApiRoutes('/api/v1/claims', {
  name: 'Claims',
  description: 'Missing-commission claims: a publisher claims a sale the tracking missed; the advertiser decides.',
});

claimRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'createClaim',
    summary: 'Claim a missed sale',
    description:
      'A publisher (its own publisher implied) or the operator (publisher_id) claims an order of an offer it may promote. An order that already converted is refused (409 already_converted, naming the conversion); one open claim per order and publisher (409 claim_exists).',
    auth: 'admin',
    access: { publisher: ownFilter('body', 'publisher_id') },
    audit: { resource: 'claim' },
    body: {
      schema: claimCreate,
      required: true,
      example: {
        offer_id: 1,
        order_id: 'ORD-1001',
        amount: '120.00',
        currency: 'EUR',
        transaction_date: '2026-11-20',
        note: 'Order confirmation attached to the email of 21 November',
      },
    },
    responses: {
      201: { description: 'The claim, open', schema: () => claimShapes().Claim },
      409: { description: 'already_converted (names the conversion) or claim_exists' },
    },
  },
  async (c, { body }) => {
    if (body.publisher_id === undefined) throw badRequest('publisher_id is required', { publisher_id: 'is required' });
    const claim = await fileClaim(c.env, { ...body, publisher_id: body.publisher_id });
    return { status: 201, body: presentClaim(claim) };
  },
);

claimRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listClaims',
    summary: 'List claims',
    description: 'Newest first. A publisher sees the claims it filed, an advertiser those on its offers.',
    auth: 'admin',
    access: {
      publisher: ownFilter('query', 'publisher_id'),
      advertiser: ownFilter('query', 'advertiser_id'),
    },
    query: pageQuery.extend({
      status: z.enum(STATUSES).optional().describe('Only this status'),
      offer_id: filters.offer_id(),
      publisher_id: filters.publisher_id(),
      advertiser_id: filters.advertiser_id(),
    }),
    queryExample: { status: 'open' },
    responses: { 200: { description: 'A page of claims', schema: () => claimShapes().ClaimPage } },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    const rows = await listClaims(c.env.DB, filters, cursorId(cursor) ?? Number.MAX_SAFE_INTEGER, limit + 1);
    return { status: 200, body: page(rows, limit, (r) => r.id, presentClaim) };
  },
);

claimRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getClaim',
    summary: 'Read a claim with its thread',
    auth: 'admin',
    resourceName: 'Claim',
    access: { publisher: ownClaim, advertiser: ownClaim },
    params: { id: idPath('Claim') },
    responses: { 200: { description: 'The claim and its messages', schema: () => claimShapes().ClaimDetail } },
  },
  async (c, { params: { id } }) => {
    const claim = await claimOf(c.env.DB, id);
    const messages = await claimMessages(c.env.DB, id);
    return { status: 200, body: { ...presentClaim(claim), messages: messages.map(presentMessage) } };
  },
);

claimRoutes.route(
  {
    method: 'post',
    path: '/{id}/messages',
    operationId: 'addClaimMessage',
    summary: 'Write in a claim’s thread',
    auth: 'admin',
    resourceName: 'Claim',
    access: { publisher: ownClaim, advertiser: ownClaim },
    params: { id: idPath('Claim') },
    body: { schema: claimMessage, required: true, example: { message: 'Could you send the order confirmation?' } },
    responses: { 201: { description: 'The message', schema: () => claimShapes().ClaimMessage } },
  },
  async (c, { params: { id }, body }) => {
    await claimOf(c.env.DB, id);
    const row = await addClaimMessage(c.env.DB, id, c.get('principal').role, body.message, nowIso());
    if (!row) throw new Error('claim message insert returned no row');
    return { status: 201, body: presentMessage(row) };
  },
);

claimRoutes.route(
  {
    method: 'post',
    path: '/{id}/accept',
    operationId: 'acceptClaim',
    summary: 'Accept a claim: record its conversion',
    description:
      "Creates the conversion (source claim) as a postback would: priced by the offer's rules in force on the transaction date, deduplicated by order ID, counted against caps, delivered to the publisher's endpoints. 409 when the claim is decided or the order converted meanwhile.",
    auth: 'admin',
    resourceName: 'Claim',
    access: { advertiser: ownClaim },
    audit: { resource: 'claim', before: claimParty },
    params: { id: idPath('Claim') },
    body: { schema: claimAccept, required: false, example: { goal: 'sale' } },
    responses: {
      200: { description: 'The claim, accepted, with its conversion id', schema: () => claimShapes().Claim },
      409: { description: 'claim_decided or already_converted' },
    },
  },
  async (c, { params: { id }, body }) => {
    const claim = await claimOf(c.env.DB, id);
    const result = await acceptClaim(c.env, c.executionCtx, claim, c.get('principal'), body);
    return { status: 200, body: presentClaim(result.claim) };
  },
);

claimRoutes.route(
  {
    method: 'post',
    path: '/{id}/reject',
    operationId: 'rejectClaim',
    summary: 'Reject a claim with a reason',
    auth: 'admin',
    resourceName: 'Claim',
    access: { advertiser: ownClaim },
    audit: { resource: 'claim', before: claimParty },
    params: { id: idPath('Claim') },
    body: { schema: claimReject, required: true, example: { reason: 'The order was cancelled' } },
    responses: {
      200: { description: 'The claim, rejected', schema: () => claimShapes().Claim },
      409: { description: 'claim_decided' },
    },
  },
  async (c, { params: { id }, body }) => {
    const claim = await claimOf(c.env.DB, id);
    return { status: 200, body: presentClaim(await decline(c.env.DB, claim, body.reason)) };
  },
);
