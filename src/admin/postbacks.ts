// /api/v1/postbacks: the postback log, newest first, for settling disputes with advertisers.
import * as z from 'zod';
import { listPostbackLog, type PostbackLogRow } from '../db/postback-log';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { cursorId, page, pageQuery } from './pagination';
import { filters } from './schemas';

const OUTCOMES = ['created', 'duplicate', 'updated', 'refused'] as const;

export const postbackLogQuery = pageQuery.extend({
  advertiser_id: filters.advertiser_id(),
  offer_id: filters.offer_id(),
  outcome: z.enum(OUTCOMES).optional().describe('Only requests with this outcome'),
  click_id: filters.click_id(),
  conversion_id: z.string().max(100).optional().describe('Only this conversion'),
  from: filters.from(),
  to: filters.to(),
});

export const postbackLogShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const PostbackLogEntry = component(
    'PostbackLogEntry',
    z.strictObject({
      id: rowId,
      received_at: timestamp,
      method: z.enum(['GET', 'POST', 'HEAD']),
      profile: z
        .enum(['canonical', 'hasoffers', 'tradetracker', 'browser', 'pixel'])
        .describe('The postback profile, or the tag (browser: POST /b/conversion) or the pixel (/px, /aff_l)'),
      source: z.enum(['server', 'browser']).describe("browser: sent by a visitor's browser (tag or pixel)"),
      ip_prefix: z.string().nullable(),
      advertiser_id: rowId.nullable(),
      offer_id: rowId.nullable(),
      click_id: z.string().nullable(),
      order_id: z.string().nullable(),
      conversion_id: z.string().nullable(),
      params: z
        .record(z.string(), z.union([z.string(), z.array(z.string())]))
        .describe('Every parameter as received; secrets replaced by [redacted]'),
      outcome: z.enum(OUTCOMES),
      http_status: z.int(),
      error_code: z.string().nullable(),
      error_message: z.string().nullable(),
      truncated: z
        .strictObject({
          fields: z.int().describe('Parameters not stored'),
          bytes: z.int().describe('Bytes of names and values not stored (cut values included)'),
        })
        .nullable()
        .describe('What was not kept of the parameters; null when all was. Refused requests are kept to ~2 KB.'),
    }),
  );
  return { PostbackLogEntry, PostbackLogEntryPage: pageOf('PostbackLogEntry', PostbackLogEntry) };
});

type PostbackLogEntry = z.input<ReturnType<typeof postbackLogShapes>['PostbackLogEntry']>;

export const presentPostbackLog = (row: PostbackLogRow): PostbackLogEntry => ({
  ...row,
  // The log holds only methods and profiles the postback route accepts.
  method: row.method as PostbackLogEntry['method'],
  profile: row.profile as PostbackLogEntry['profile'],
  source: row.profile === 'browser' || row.profile === 'pixel' ? 'browser' : 'server',
  params: JSON.parse(row.params) as Record<string, string | string[]>,
  truncated: row.truncated ? (JSON.parse(row.truncated) as { fields: number; bytes: number }) : null,
});

export const postbackLogRoutes = new ApiRoutes('/api/v1/postbacks', {
  name: 'Postback log',
  description: 'Every advertiser postback request, accepted or refused.',
});

postbackLogRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listPostbackLog',
    summary: 'Read the postback log',
    description: 'Newest first. Every postback request, accepted or refused, with its parameters (secrets redacted).',
    auth: 'admin',
    query: postbackLogQuery,
    queryExample: { outcome: 'refused' },
    responses: {
      200: { description: 'A page of postback requests', schema: () => postbackLogShapes().PostbackLogEntryPage },
    },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    const rows = await listPostbackLog(c.env.DB, filters, cursorId(cursor), limit + 1);
    return { status: 200, body: page(rows, limit, (r) => r.id, presentPostbackLog) };
  },
);
