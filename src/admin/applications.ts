// /api/v1/offers/{id}/applications and /api/v1/applications: publishers apply to promote a
// private offer; the operator approves or rejects (rejecting an approved one revokes it). A
// decision republishes the offer's edge config, so the redirect follows within 60 s.
import * as z from 'zod';
import { publishOfferConfigs } from '../click/config';
import { type ApplicationRow, applyToOffer, decideApplication, listApplications } from '../db/applications';
import { getOffer } from '../db/offers';
import { getPublisher } from '../db/publishers';
import { badRequest, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { ownFilter } from './access';
import { cursorAfterId, page, pageQuery } from './pagination';
import { filters, idPath } from './schemas';

const STATUSES = ['pending', 'approved', 'rejected'] as const;

export const applicationCreate = z
  .object({
    publisher_id: z
      .int()
      .positive()
      .max(0xffffffff)
      .optional()
      .describe('The applying publisher: required from an operator, implied by a publisher key'),
    message: z.string().trim().max(1000).optional().describe('A note for the operator'),
  })
  .strict();

export const applicationShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const Application = component(
    'Application',
    z.strictObject({
      id: rowId,
      offer_id: rowId,
      publisher_id: rowId,
      status: z.enum(STATUSES).describe('approved: the publisher’s clicks on the private offer reach its landing page'),
      message: z.string().nullable(),
      created_at: timestamp,
      updated_at: timestamp,
      decided_at: timestamp.nullable(),
    }),
  );
  return { Application, ApplicationPage: pageOf('Application', Application) };
});

type Application = z.input<ReturnType<typeof applicationShapes>['Application']>;

const presentApplication = (row: ApplicationRow): Application => ({
  id: row.id,
  offer_id: row.offer_id,
  publisher_id: row.publisher_id,
  status: row.status,
  message: row.message,
  created_at: row.created_at,
  updated_at: row.updated_at,
  decided_at: row.decided_at,
});

export const applicationRoutes = new ApiRoutes('/api/v1', {
  name: 'Applications',
  description: 'Publishers’ applications to private offers and the operator’s decisions.',
});

const applicationAnswer = { description: 'The application', schema: () => applicationShapes().Application };

applicationRoutes.route(
  {
    method: 'post',
    path: '/offers/{id}/applications',
    operationId: 'applyToOffer',
    summary: 'Apply to promote an offer',
    description:
      'Pending until the operator decides. Applying again while pending or approved changes nothing; after a rejection it reopens the application.',
    auth: 'admin',
    access: { publisher: ownFilter('body', 'publisher_id') },
    params: { id: idPath('Offer') },
    body: { schema: applicationCreate, required: true, example: { publisher_id: 1 } },
    responses: { 201: { ...applicationAnswer, description: 'The application as it now stands' } },
  },
  async (c, { params, body }) => {
    if (!(await getOffer(c.env.DB, params.id))) throw notFound('Offer');
    const publisherId = body.publisher_id;
    if (publisherId === undefined) throw badRequest('publisher_id is required', { publisher_id: 'is required' });
    if (!(await getPublisher(c.env.DB, publisherId))) {
      throw badRequest('Unknown publisher_id', { publisher_id: 'no such publisher' });
    }
    const row = await applyToOffer(c.env.DB, params.id, publisherId, body.message ?? null, nowIso());
    return { status: 201, body: presentApplication(row) };
  },
);

applicationRoutes.route(
  {
    method: 'get',
    path: '/applications',
    operationId: 'listApplications',
    summary: 'List applications',
    description: 'Oldest first.',
    auth: 'admin',
    access: { publisher: ownFilter('query', 'publisher_id') },
    query: pageQuery.extend({
      status: z.enum(STATUSES).optional().describe('Only applications with this status'),
      offer_id: filters.offer_id(),
      publisher_id: filters.publisher_id(),
    }),
    responses: { 200: { description: 'A page of applications', schema: () => applicationShapes().ApplicationPage } },
  },
  async (c, { query }) => {
    const rows = await listApplications(c.env.DB, query, cursorAfterId(query.cursor), query.limit + 1);
    return { status: 200, body: page(rows, query.limit, (r) => r.id, presentApplication) };
  },
);

for (const [verb, status] of [
  ['approve', 'approved'],
  ['reject', 'rejected'],
] as const) {
  applicationRoutes.route(
    {
      method: 'post',
      path: `/applications/{id}/${verb}`,
      operationId: `${verb}Application`,
      summary: verb === 'approve' ? 'Approve an application' : 'Reject (or revoke) an application',
      description: 'The redirect follows the decision within 60 s.',
      auth: 'admin',
      params: { id: idPath('Application') },
      responses: { 200: { ...applicationAnswer, description: 'The decided application' } },
    },
    async (c, { params }) => {
      const row = await decideApplication(c.env.DB, params.id, status, nowIso());
      if (!row) throw notFound('Application');
      await publishOfferConfigs(c.env, [row.offer_id]);
      return { status: 200, body: presentApplication(row) };
    },
  );
}
