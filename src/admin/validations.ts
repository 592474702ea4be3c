// /api/v1/conversions/validations: bulk validation of conversions (src/month/validations.ts).
// POST plans a CSV or JSON file against the conversions as they are; with ?dry_run=true that
// plan is the answer. Otherwise the file becomes a job: a small one (one chunk: up to 100 status changes, fewer with amended amounts)
// is applied before the answer (200), a larger one chunk by chunk through the validations
// Queue (202), its progress at GET /api/v1/conversions/validations/{id}.
import * as z from 'zod';
import type { Principal } from '../auth/principal';
import { getValidation } from '../db/validations';
import { notFound } from '../lib/errors';
import { errorFields, log } from '../lib/log';
import { MAX_FILE_BYTES, MAX_ROWS, readUpload, validationBody } from '../month/upload';
import { applyChunk } from '../month/validation-apply';
import { OUTCOMES, readValidation } from '../month/validation-read';
import { count, enqueueChunks, planUpload, storeValidation } from '../month/validations';
import { ApiRoutes, component, lazy, pathParam } from '../openapi/operation';
import { shapes } from '../openapi/shapes';

export const validationShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const ValidationRowOutcome = component(
    'ValidationRowOutcome',
    z.strictObject({
      row: z.int().min(1).describe('Position of the row in the file (1 = the first row after the header)'),
      line: z.int().min(2).nullable().describe('Line of a CSV row in the file (the header is line 1); null for JSON'),
      order_id: z.string().nullable(),
      conversion_id: z.string().nullable().describe('The conversion the row names (found by order ID when not given)'),
      offer_id: rowId.nullable(),
      status: z.string().nullable().describe('The status asked for'),
      amount: z.string().nullable().describe('The amended amount asked for, as sent'),
      reason: z.string().nullable(),
      outcome: z
        .enum(OUTCOMES)
        .describe('changed, unchanged (it already was so), failed (see code and message), pending (not applied yet)'),
      code: z
        .string()
        .nullable()
        .describe(
          'Why a row failed: unknown_conversion, unknown_order, ambiguous_order, illegal_status_change, not_adjustable, bad_amount, bad_status, reason_required, duplicate_row, id_mismatch, missing_id, bad_row, conflict, not_applied...',
        ),
      message: z.string().describe('What happened or would happen, for a person'),
      locked: z
        .boolean()
        .describe(
          'A changed row whose conversion is on an issued or paid statement or invoice: the change applies, the issued document stays as it is, and the next one carries the difference as an adjustment line (the message names the document)',
        ),
    }),
  );
  const Validation = component(
    'Validation',
    z.strictObject({
      id: z.string().nullable().describe('The job id (val_...); null for a dry run, which stores nothing'),
      status: z
        .enum(['dry_run', 'queued', 'running', 'done'])
        .describe('dry_run: nothing was changed; queued or running: rows are still being applied'),
      format: z.enum(['csv', 'json']),
      rows_total: z.int().min(0),
      rows_done: z.int().min(0).describe('Rows with a final outcome'),
      changed: z.int().min(0),
      unchanged: z.int().min(0),
      failed: z.int().min(0),
      rows: z.array(ValidationRowOutcome).describe('Per-row outcomes in file order (filtered by ?outcome=)'),
      created_at: timestamp.nullable(),
      finished_at: timestamp.nullable(),
    }),
  );
  return { Validation, ValidationRowOutcome };
});

const VALIDATION_ID = /^val_[A-Za-z0-9_-]{1,64}$/;

const validationId = pathParam({
  what: 'Validation',
  schema: z.string().regex(VALIDATION_ID),
  description: 'Validation job id (val_...)',
  example: 'val_3fJ8kLq2mN5pR7sT',
  read: (text) => (VALIDATION_ID.test(text) ? text : null),
});

const advertiserOf = (principal: Principal) => (principal.role === 'advertiser' ? principal.advertiserId : null);

export const validationRoutes = new ApiRoutes('/api/v1/conversions/validations', {
  name: 'Conversion validations',
  description:
    'Bulk validation: approve, reject or reverse conversions and amend amounts from a CSV or JSON file of up to 10,000 rows.',
});

validationRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'validateConversions',
    summary: 'Validate conversions in bulk (CSV or JSON)',
    description: `CSV (text/csv; header order_id or conversion_id, status, amount, reason, and offer_id when order IDs repeat across offers; comma, semicolon or tab separated, RFC 4180 quoting, UTF-8 with or without BOM) or JSON {"rows": [...]}; at most ${MAX_ROWS} rows and ${MAX_FILE_BYTES / 1024 / 1024} MB. Each row is applied as POST /conversions/{id}/adjust (amended amount) then /status would apply it: events, audit, notifications, rollups. Rows already in the asked state are unchanged, so sending a file again changes nothing. ?dry_run=true answers the same outcomes and changes nothing.`,
    auth: 'admin',
    access: { advertiser: (principal) => principal.role === 'advertiser' },
    query: z.object({
      dry_run: z.enum(['true', 'false']).optional().describe('true: answer what each row would do, change nothing'),
    }),
    queryExample: { dry_run: 'true' },
    body: {
      schema: validationBody,
      required: true,
      media: 'csv',
      read: readUpload,
      example: { rows: [{ order_id: 'ORD-1001', status: 'approved', amount: '80.00', reason: 'Partial return' }] },
    },
    responses: {
      200: {
        description: 'A dry run, or a file applied within the request',
        schema: () => validationShapes().Validation,
      },
      202: {
        description: 'Accepted: rows are being applied in the background; read progress at the job',
        schema: () => validationShapes().Validation,
      },
      413: { description: `More than ${MAX_ROWS} rows (too_many_rows) or ${MAX_FILE_BYTES} bytes (payload_too_large)` },
      415: { description: 'Neither text/csv nor application/json (unsupported_media_type)' },
    },
  },
  async (c, { query, body: upload }) => {
    const principal = c.get('principal');
    const planned = await planUpload(c.env.DB, upload, advertiserOf(principal));
    if (query.dry_run === 'true') {
      return {
        status: 200,
        body: {
          id: null,
          status: 'dry_run' as const,
          format: upload.format,
          rows_total: planned.length,
          rows_done: planned.length,
          ...count(planned),
          rows: planned,
          created_at: null,
          finished_at: null,
        },
      };
    }
    const { job, pending } = await storeValidation(c.env.DB, principal, upload.format, planned);
    const [only, ...more] = pending;
    if (only !== undefined && more.length === 0) {
      try {
        await applyChunk(c.env, c.executionCtx, job.id, only);
      } catch (error) {
        // The Queue takes it over: the consumer's attempt finds which rows this one applied.
        log('error', 'validation.inline_failed', { validation_id: job.id, ...errorFields(error) });
        await enqueueChunks(c.env, job.id, pending);
      }
    } else if (pending.length > 0) {
      await enqueueChunks(c.env, job.id, pending);
    }
    const answer = await readValidation(c.env, job.id, undefined);
    if (!answer) throw new Error('stored validation not found');
    return answer.status === 'done' ? { status: 200, body: answer } : { status: 202, body: answer };
  },
);

validationRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getValidation',
    summary: 'Read a validation job: progress and per-row outcomes',
    auth: 'admin',
    resourceName: 'Validation',
    access: {
      advertiser: async (principal, input, env) => {
        const job = await getValidation(env.DB, input.params.id as string);
        return job !== null && principal.role === 'advertiser' && job.advertiser_id === principal.advertiserId;
      },
    },
    params: { id: validationId },
    query: z.object({
      outcome: z.enum(OUTCOMES).optional().describe('Only rows with this outcome (failed: what to fix)'),
    }),
    queryExample: { outcome: 'failed' },
    responses: { 200: { description: 'The job', schema: () => validationShapes().Validation } },
  },
  async (c, { params: { id }, query }) => {
    const answer = await readValidation(c.env, id, query.outcome);
    if (!answer) throw notFound('Validation');
    return { status: 200, body: answer };
  },
);
