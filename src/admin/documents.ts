// /api/v1/statements and /api/v1/invoices: the same five operations for both kinds of
// document (src/statements/kinds.ts), built once. The operator runs a period, issues and
// marks paid; a publisher reads its own statements, an advertiser its own invoices.
import * as z from 'zod';
import { documentDeliveries } from '../db/document-deliveries';
import { type DocumentLineRow, type DocumentRow, documentLines, getDocument, listDocuments } from '../db/statements';
import { notFound } from '../lib/errors';
import { ApiRoutes, type RawInput, wantsCsv } from '../openapi/operation';
import { errorShape as errorSchema } from '../openapi/shapes';
import { DOCUMENT_STATUSES, type DocumentKind, KINDS, type KindSpec } from '../statements/kinds';
import { issueDocument, payDocument, runPeriod } from '../statements/lifecycle';
import { documentShapes, linesCsv, presentDocument, presentDocumentDelivery, presentLine } from '../statements/shapes';
import { ownedResource, ownFilter } from './access';
import { cursorAfterId, cursorId, encodeCursor, page, pageQuery } from './pagination';
import { idParam, idPath } from './schemas';

const period = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month, YYYY-MM')
  .describe('A month in the operator TIMEZONE, YYYY-MM');

const listQuery = pageQuery.extend({
  period: period.optional(),
  status: z.enum(DOCUMENT_STATUSES).optional().describe('Only this status'),
});

/** Lines per JSON answer; CSV reads them all, this many per query. */
const LINES_PAGE = 1_000;
const CSV_PAGE = 5_000;

async function allLines(db: D1Database, documentId: number): Promise<DocumentLineRow[]> {
  const lines: DocumentLineRow[] = [];
  for (let after = 0; ; ) {
    const part = await documentLines(db, documentId, after, CSV_PAGE);
    lines.push(...part);
    const last = part[part.length - 1];
    if (!last || part.length < CSV_PAGE) return lines;
    after = last.id;
  }
}

function buildRoutes(spec: KindSpec): ApiRoutes {
  const Title = spec.title;
  const partyField = `${spec.party}_id`;
  const routes = new ApiRoutes(`/api/v1/${spec.plural}`, {
    name: `${Title}s`,
    description:
      spec.kind === 'statement'
        ? 'Publisher statements: what each publisher earned in a month (payout), draft -> issued -> paid.'
        : 'Advertiser invoices: what each advertiser owes for a month (revenue), draft -> issued -> paid.',
  });
  const shapes = () => documentShapes(spec.kind);
  const id = idPath(Title);
  const doc = ownedResource(async (env, params) => {
    const row = await getDocument(env.DB, spec.kind, params.id as number);
    return row && { [partyField]: row.party_id };
  });
  const partyAccess = { [spec.party]: doc };
  const auditBefore = async (env: Env, params: RawInput['params']) => {
    const row = await getDocument(env.DB, spec.kind, params.id as number);
    return row ? presentDocument(spec, row) : null;
  };
  const answer = (row: DocumentRow) => ({ status: 200 as const, body: presentDocument(spec, row) as never });

  routes.route(
    {
      method: 'post',
      path: '',
      operationId: `create${Title}s`,
      summary: `Build the ${spec.plural} of a period`,
      description:
        spec.kind === 'statement'
          ? 'One draft per publisher and currency: a line per approved conversion of the period (or before) not yet on a statement (its payout), and an adjustment line per conversion changed since it was stated. A total below the publisher’s minimum_payout (or not positive) is carried forward. Running a period again rebuilds its drafts in place (same ids); issued ones stay as they are.'
          : 'One draft per advertiser and currency: a line per approved conversion of the period (or before) not yet on an invoice (its revenue), and an adjustment line per conversion changed since it was invoiced. A total that is not positive is carried forward. Running a period again rebuilds its drafts in place (same ids); issued ones stay as they are.',
      auth: 'admin',
      access: {},
      audit: { resource: spec.kind },
      body: { schema: z.strictObject({ period }), required: true, example: { period: '2026-11' } },
      responses: { 200: { description: 'The period’s documents by status', schema: () => shapes().Run } },
    },
    async (c, { body }) => {
      const result = await runPeriod(c.env, spec, body.period);
      return {
        status: 200,
        body: {
          period: result.period,
          period_start: result.start,
          period_end: result.end,
          ...result.counts,
          lines: result.lines,
        },
      };
    },
  );

  routes.route(
    {
      method: 'get',
      path: '',
      operationId: `list${Title}s`,
      summary: `List ${spec.plural}`,
      description: 'Newest first.',
      auth: 'admin',
      access: { [spec.party]: ownFilter('query', partyField) },
      // The party filter's name depends on the kind; the handler reads it by that name.
      query: listQuery.extend({
        [partyField]: idParam.optional().describe(`Only this ${spec.party}`),
      }) as unknown as typeof listQuery,
      responses: { 200: { description: `A page of ${spec.plural}`, schema: () => shapes().Page } },
    },
    async (c, { query }) => {
      const partyId = (query as Record<string, unknown>)[partyField] as number | undefined;
      const rows = await listDocuments(
        c.env.DB,
        spec.kind,
        {
          period: query.period,
          party_id: partyId,
          status: query.status,
        },
        cursorId(query.cursor) ?? Number.MAX_SAFE_INTEGER,
        query.limit + 1,
      );
      return {
        status: 200,
        body: page(
          rows,
          query.limit,
          (r) => r.id,
          (r) => presentDocument(spec, r),
        ) as never,
      };
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/{id}',
      operationId: `get${Title}`,
      summary: `Read a ${spec.kind} with its lines`,
      description: `JSON with up to ${LINES_PAGE} lines (lines_cursor for more), or every line as CSV with Accept: text/csv.`,
      auth: 'admin',
      resourceName: Title,
      access: partyAccess,
      params: { id },
      query: z.object({
        lines_cursor: z.string().max(100).optional().describe('The lines_next_cursor of the previous answer'),
      }),
      responses: {
        200: {
          description: `The ${spec.kind}`,
          schema: () => shapes().Detail,
          csv: (body: Parameters<typeof linesCsv>[1]) => linesCsv(spec, body),
        },
      },
    },
    async (c, { params, query }) => {
      const row = await getDocument(c.env.DB, spec.kind, params.id);
      if (!row) throw notFound(Title);
      // CSV carries every line (read in pages); JSON a page of them.
      const csv = wantsCsv(c);
      const after = cursorAfterId(query.lines_cursor);
      const lines = csv
        ? await allLines(c.env.DB, row.id)
        : await documentLines(c.env.DB, row.id, after, LINES_PAGE + 1);
      const kept = csv ? lines : lines.slice(0, LINES_PAGE);
      const last = kept[kept.length - 1];
      const deliveries =
        spec.kind === 'statement'
          ? { deliveries: (await documentDeliveries(c.env.DB, row.id)).map(presentDocumentDelivery) }
          : {};
      return {
        status: 200,
        body: {
          ...presentDocument(spec, row),
          lines: kept.map((l) => presentLine(spec, row.currency, l)),
          lines_next_cursor: lines.length > kept.length && last ? encodeCursor(last.id) : null,
          ...deliveries,
        } as never,
      };
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/{id}/issue',
      operationId: `issue${Title}`,
      summary: `Issue a draft ${spec.kind}`,
      description:
        spec.kind === 'statement'
          ? 'Locks it: its lines and total never change again (a later status change or adjustment of one of its conversions becomes an adjustment line on a later statement). Delivers statement.issued to the publisher’s endpoints that subscribe. Only a draft can be issued (409 otherwise).'
          : 'Locks it: its lines and total never change again (a later status change or adjustment becomes an adjustment line on a later invoice). Only a draft can be issued (409 otherwise).',
      auth: 'admin',
      resourceName: Title,
      access: {},
      audit: { resource: spec.kind, before: auditBefore },
      params: { id },
      responses: {
        200: { description: `The issued ${spec.kind}`, schema: () => shapes().Document },
        409: { description: 'It is not a draft (illegal_status_change)', schema: errorSchema },
      },
    },
    async (c, { params }) => answer(await issueDocument(c.env, spec, params.id)),
  );

  routes.route(
    {
      method: 'post',
      path: '/{id}/paid',
      operationId: `pay${Title}`,
      summary: `Mark an issued ${spec.kind} paid`,
      description:
        spec.kind === 'statement'
          ? 'Records the payment’s reference and delivers statement.paid. Only an issued statement can be paid (409 otherwise).'
          : 'Records the payment’s reference. Only an issued invoice can be paid (409 otherwise).',
      auth: 'admin',
      resourceName: Title,
      access: {},
      audit: { resource: spec.kind, before: auditBefore },
      params: { id },
      body: {
        schema: z.strictObject({
          reference: z.string().trim().min(1, 'must not be empty').max(200).describe('The payment’s reference'),
        }),
        required: true,
        example: { reference: 'SEPA 2026-12-05 #4411' },
      },
      responses: {
        200: { description: `The paid ${spec.kind}`, schema: () => shapes().Document },
        409: { description: 'It is not issued (illegal_status_change)', schema: errorSchema },
      },
    },
    async (c, { params, body }) => answer(await payDocument(c.env, spec, params.id, body.reference)),
  );
  return routes;
}

export const documentRoutes: Record<DocumentKind, ApiRoutes> = {
  statement: buildRoutes(KINDS.statement),
  invoice: buildRoutes(KINDS.invoice),
};
