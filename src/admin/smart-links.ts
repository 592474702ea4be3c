// /api/v1/smart-links: one link /s/{id}/{publisher_id} that sends each visitor to one of several
// offers by weight, among those open to the publisher, not capped and matching the visitor's
// country and device. Changes republish the link's edge config.
import * as z from 'zod';
import { publishSmartLinkConfig } from '../click/config';
import { existingOfferIdsStatement } from '../db/offers';
import {
  deleteSmartLinkStatements,
  getSmartLink,
  insertSmartLink,
  listSmartLinks,
  type SmartLinkRow,
  type SmartLinkRuleRow,
  type SmartLinkRuleValues,
  smartLinkRules,
  updateSmartLink,
} from '../db/smart-links';
import { badRequest, type FieldErrors, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { SMART_LINK_DEVICES } from '../terms/smart-links';
import { cursorAfterId, page, pageQuery } from './pagination';
import { idPath, name } from './schemas';

const ruleInput = z
  .object({
    offer_id: z.int().positive().max(0xffffffff).describe('An offer the link may send visitors to'),
    weight: z
      .int('must be a positive integer')
      .positive('must be a positive integer')
      .max(1_000_000)
      .describe('Relative share of eligible traffic (positive integer)'),
    countries: z
      .array(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code in capitals'))
      .min(1)
      .max(250)
      .optional()
      .describe('Only visitors from these countries (request.cf.country); default any'),
    devices: z.array(z.enum(SMART_LINK_DEVICES)).min(1).optional().describe('Only these device classes; default any'),
  })
  .strict();

const rules = z.array(ruleInput).min(1, 'must have at least one rule').max(100).describe('Offers and their weights');

export const smartLinkCreate = z.object({ name, rules }).strict();
export const smartLinkUpdate = z.object({ name: name.optional(), rules: rules.optional() }).strict();

export const smartLinkShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const SmartLink = component(
    'SmartLink',
    z.strictObject({
      id: rowId,
      name: z.string(),
      link: z.string().describe('The smart link; replace {publisher_id} with a publisher id'),
      rules: z.array(
        z.strictObject({
          offer_id: rowId,
          weight: z.int(),
          countries: z.array(z.string()).nullable(),
          devices: z.array(z.string()).nullable(),
        }),
      ),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );
  return { SmartLink, SmartLinkPage: pageOf('SmartLink', SmartLink) };
});

type SmartLink = z.input<ReturnType<typeof smartLinkShapes>['SmartLink']>;

function presentSmartLink(row: SmartLinkRow, ruleRows: SmartLinkRuleRow[], origin: string): SmartLink {
  return {
    id: row.id,
    name: row.name,
    link: `${origin}/s/${row.id}/{publisher_id}`,
    rules: ruleRows
      .filter((r) => r.smart_link_id === row.id)
      .map((r) => ({
        offer_id: r.offer_id,
        weight: r.weight,
        countries: r.countries ? (JSON.parse(r.countries) as string[]) : null,
        devices: r.devices ? (JSON.parse(r.devices) as string[]) : null,
      })),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Refuses rules naming offers that do not exist, each under its own field. */
async function checkedRules(db: D1Database, input: z.output<typeof rules>): Promise<SmartLinkRuleValues[]> {
  const ids = [...new Set(input.map((r) => r.offer_id))];
  const { results } = await existingOfferIdsStatement(db, ids).all<{ id: number }>();
  const known = new Set(results.map((r) => r.id));
  const errors: FieldErrors = {};
  input.forEach((r, i) => {
    if (!known.has(r.offer_id)) errors[`rules.${i}.offer_id`] = 'no such offer';
  });
  if (Object.keys(errors).length > 0) throw badRequest('Unknown offer in rules', errors);
  return input.map((r) => ({
    offer_id: r.offer_id,
    weight: r.weight,
    countries: r.countries ? JSON.stringify(r.countries) : null,
    devices: r.devices ? JSON.stringify(r.devices) : null,
  }));
}

async function loadSmartLink(db: D1Database, id: number, origin: string): Promise<SmartLink> {
  const [row, ruleRows] = await Promise.all([getSmartLink(db, id), smartLinkRules(db, [id])]);
  if (!row) throw notFound('Smart link');
  return presentSmartLink(row, ruleRows, origin);
}

const originOf = (url: string) => new URL(url).origin;

export const smartLinkRoutes = new ApiRoutes('/api/v1/smart-links', {
  name: 'Smart links',
  description: 'Links that rotate traffic by weight among eligible offers.',
});

const smartLinkId = idPath('Smart link');
const smartLinkAnswer = { description: 'The smart link', schema: () => smartLinkShapes().SmartLink };

smartLinkRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'createSmartLink',
    summary: 'Create a smart link',
    description:
      'GET /s/{id}/{publisher_id} picks among the rules whose offer is active, open to the publisher, not capped and matching the visitor’s country and device, by weight, then answers as /c/.',
    auth: 'admin',
    body: {
      schema: smartLinkCreate,
      required: true,
      example: {
        name: 'Summer rotation',
        rules: [
          { offer_id: 1, weight: 3 },
          { offer_id: 2, weight: 1, countries: ['DE'] },
        ],
      },
    },
    responses: { 201: { ...smartLinkAnswer, description: 'Created' } },
  },
  async (c, { body }) => {
    const id = await insertSmartLink(c.env.DB, body.name, await checkedRules(c.env.DB, body.rules), nowIso());
    await publishSmartLinkConfig(c.env, id);
    return { status: 201, body: await loadSmartLink(c.env.DB, id, originOf(c.req.url)) };
  },
);

smartLinkRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listSmartLinks',
    summary: 'List smart links',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery,
    responses: { 200: { description: 'A page of smart links', schema: () => smartLinkShapes().SmartLinkPage } },
  },
  async (c, { query }) => {
    const rows = await listSmartLinks(c.env.DB, cursorAfterId(query.cursor), query.limit + 1);
    const ruleRows = await smartLinkRules(
      c.env.DB,
      rows.slice(0, query.limit).map((r) => r.id),
    );
    const origin = originOf(c.req.url);
    return {
      status: 200,
      body: page(
        rows,
        query.limit,
        (r) => r.id,
        (r) => presentSmartLink(r, ruleRows, origin),
      ),
    };
  },
);

smartLinkRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getSmartLink',
    summary: 'Read a smart link',
    auth: 'admin',
    params: { id: smartLinkId },
    responses: { 200: smartLinkAnswer },
  },
  async (c, { params }) => ({ status: 200, body: await loadSmartLink(c.env.DB, params.id, originOf(c.req.url)) }),
);

smartLinkRoutes.route(
  {
    method: 'patch',
    path: '/{id}',
    operationId: 'updateSmartLink',
    summary: 'Change a smart link',
    description: 'rules replaces all rules; the redirect follows within 60 s.',
    auth: 'admin',
    params: { id: smartLinkId },
    body: { schema: smartLinkUpdate, required: true, example: { rules: [{ offer_id: 1, weight: 1 }] } },
    responses: { 200: { ...smartLinkAnswer, description: 'The changed smart link' } },
  },
  async (c, { params, body }) => {
    const changes = { name: body.name, rules: body.rules && (await checkedRules(c.env.DB, body.rules)) };
    if (!(await updateSmartLink(c.env.DB, params.id, changes, nowIso()))) throw notFound('Smart link');
    await publishSmartLinkConfig(c.env, params.id);
    return { status: 200, body: await loadSmartLink(c.env.DB, params.id, originOf(c.req.url)) };
  },
);

smartLinkRoutes.route(
  {
    method: 'delete',
    path: '/{id}',
    operationId: 'deleteSmartLink',
    summary: 'Delete a smart link',
    description: 'Its link answers 404 within 60 s.',
    auth: 'admin',
    params: { id: smartLinkId },
    responses: { 200: { description: 'Deleted', schema: () => smartLinkShapes().SmartLink } },
  },
  async (c, { params }) => {
    const link = await loadSmartLink(c.env.DB, params.id, originOf(c.req.url));
    await c.env.DB.batch(deleteSmartLinkStatements(c.env.DB, params.id));
    await publishSmartLinkConfig(c.env, params.id);
    return { status: 200, body: link };
  },
);
