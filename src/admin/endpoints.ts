// /api/v1/endpoints: a publisher's notification endpoints. The signing secret is shown only at
// creation and rotation. Every save re-validates the whole endpoint: macros, method/format,
// destination safety, publisher and offer filter.
import { type Context, Hono } from 'hono';
import * as z from 'zod';
import { CONVERSION_EVENT_TYPES, type ConversionEventType } from '../db/conversions';
import { getPublisher } from '../db/publishers';
import { ApiError, badRequest, type FieldErrors, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { jsonBody, parseWith } from '../lib/validate';
import { checkDestination } from '../notify/destination';
import { hasMacroInAuthority, unknownMacros, withSampleValues } from '../notify/macros';
import { sendTestNotification } from '../notify/sample';
import { newSigningSecret } from '../notify/signing';
import {
  type EndpointRow,
  type EndpointValues,
  getEndpoint,
  insertEndpoint,
  listEndpoints,
  updateEndpoint,
} from '../notify/store';
import { cursorAfterId, page, pageQuery } from './pagination';
import { idParam, pathId } from './schemas';

const eventType = z.enum(CONVERSION_EVENT_TYPES as [ConversionEventType, ...ConversionEventType[]]);
const METHOD_OF_FORMAT = { query: 'GET', json: 'POST', form: 'POST' } as const;

const endpointFields = {
  url: z.string().trim().min(1, 'must not be empty').max(2048),
  method: z.enum(['GET', 'POST']),
  format: z.enum(['query', 'json', 'form']),
  /** Form format only: the one field that holds the JSON payload (e.g. AwinTransactionPush). */
  form_field: z
    .string()
    .regex(/^[A-Za-z0-9_.[\]-]{1,64}$/, 'must be 1-64 letters, digits, _ . - [ ]')
    .nullable(),
  events: z
    .array(eventType)
    .min(1, 'must name at least one event')
    .max(CONVERSION_EVENT_TYPES.length * 2),
  offer_ids: z.array(z.number().int().positive()).min(1).max(500).nullable(),
  include_products: z.boolean(),
  include_click_data: z.boolean(),
  status: z.enum(['active', 'disabled']),
};

export const endpointCreate = z.object({
  publisher_id: z.number().int().positive(),
  url: endpointFields.url,
  method: endpointFields.method.optional(),
  format: endpointFields.format.optional(),
  form_field: endpointFields.form_field.default(null),
  events: endpointFields.events.default([...CONVERSION_EVENT_TYPES]),
  offer_ids: endpointFields.offer_ids.default(null),
  include_products: endpointFields.include_products.default(false),
  include_click_data: endpointFields.include_click_data.default(false),
  status: endpointFields.status.default('active'),
});

export const endpointUpdate = z
  .object({
    url: endpointFields.url.optional(),
    method: endpointFields.method.optional(),
    format: endpointFields.format.optional(),
    form_field: endpointFields.form_field.optional(),
    events: endpointFields.events.optional(),
    offer_ids: endpointFields.offer_ids.optional(),
    include_products: endpointFields.include_products.optional(),
    include_click_data: endpointFields.include_click_data.optional(),
    status: endpointFields.status.optional(),
  })
  .strict();

export const rotateSecretInput = z.object({
  /** How long the previous secret keeps signing beside the new one (0 = stop at once). */
  grace_hours: z.number().min(0).max(168).default(24),
});

export const testInput = z.object({ event: eventType.optional() });

interface EndpointSettings {
  url: string;
  method: 'GET' | 'POST';
  format: 'query' | 'json' | 'form';
  form_field: string | null;
  events: ConversionEventType[];
  offer_ids: number[] | null;
}

/** Checks an endpoint as it would be stored; every problem is reported at once, by field. */
async function validateSettings(env: Env, settings: EndpointSettings): Promise<void> {
  const errors: FieldErrors = {};
  if (METHOD_OF_FORMAT[settings.format] !== settings.method) {
    errors.method =
      settings.format === 'query'
        ? 'format query is sent with GET'
        : `format ${settings.format} is sent with POST (use format query for GET)`;
  }
  if (settings.form_field !== null && settings.format !== 'form') errors.form_field = 'only for format form';
  const unknown = unknownMacros(settings.url);
  if (unknown.length > 0) errors.url = `unknown macros: ${unknown.join(', ')}`;
  else if (hasMacroInAuthority(settings.url))
    errors.url = 'macros are allowed in the path and query only, not in the host';
  else {
    const destination = checkDestination(withSampleValues(settings.url), env);
    if (!destination.ok) errors.url = destination.reason;
  }
  if (settings.offer_ids) {
    const { results } = await env.DB.prepare('SELECT id FROM offers WHERE id IN (SELECT value FROM json_each(?))')
      .bind(JSON.stringify(settings.offer_ids))
      .all<{ id: number }>();
    const known = new Set(results.map((r) => r.id));
    const missing = settings.offer_ids.filter((id) => !known.has(id));
    if (missing.length > 0) errors.offer_ids = `unknown offers: ${missing.join(', ')}`;
  }
  if (Object.keys(errors).length > 0) {
    const message =
      unknown.length > 0 ? `Unknown macros in url: ${unknown.join(', ')}` : `Invalid ${Object.keys(errors).join(', ')}`;
    throw badRequest(message, errors);
  }
}

/** Fills in method from format or format from method, whichever was not given. */
function resolveShape(
  given: { method?: 'GET' | 'POST'; format?: 'query' | 'json' | 'form' },
  current?: { method: 'GET' | 'POST'; format: 'query' | 'json' | 'form' },
) {
  if (given.method && given.format) return { method: given.method, format: given.format };
  if (given.format) return { method: METHOD_OF_FORMAT[given.format], format: given.format };
  if (given.method) {
    const keep = current && METHOD_OF_FORMAT[current.format] === given.method ? current.format : undefined;
    return { method: given.method, format: keep ?? (given.method === 'GET' ? 'query' : 'json') };
  }
  if (current) return { method: current.method, format: current.format };
  throw badRequest('Give method or format', { format: 'required (query, json or form)' });
}

export function presentEndpoint(row: EndpointRow) {
  return {
    id: row.id,
    publisher_id: row.publisher_id,
    url: row.url,
    method: row.method,
    format: row.format,
    form_field: row.form_field,
    events: JSON.parse(row.events) as ConversionEventType[],
    offer_ids: row.offer_ids ? (JSON.parse(row.offer_ids) as number[]) : null,
    include_products: row.include_products === 1,
    include_click_data: row.include_click_data === 1,
    status: row.status,
    disabled_reason: row.disabled_reason,
    previous_secret_expires_at: row.previous_secret_expires_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const unique = <T>(items: T[]) => [...new Set(items)];

/** A JSON body that may be absent (an empty POST is an empty object). */
async function optionalJsonBody(c: Context): Promise<unknown> {
  if (!c.req.header('content-type') && (await c.req.text()).trim() === '') return {};
  return jsonBody(c);
}

async function loadEndpoint(db: D1Database, id: number): Promise<EndpointRow> {
  const row = await getEndpoint(db, id);
  if (!row) throw notFound('Endpoint');
  return row;
}

export const endpointRoutes = new Hono<{ Bindings: Env }>();

endpointRoutes.post('/', async (c) => {
  const input = parseWith(endpointCreate, await jsonBody(c));
  const shape = resolveShape(input);
  const settings: EndpointSettings = {
    url: input.url,
    ...shape,
    form_field: input.form_field,
    events: unique(input.events),
    offer_ids: input.offer_ids ? unique(input.offer_ids) : null,
  };
  await validateSettings(c.env, settings);
  if (!(await getPublisher(c.env.DB, input.publisher_id))) {
    throw new ApiError(400, 'invalid_request', 'Unknown publisher_id', { publisher_id: 'no such publisher' });
  }
  const signingSecret = newSigningSecret();
  const now = nowIso();
  const values: EndpointValues = {
    publisher_id: input.publisher_id,
    url: settings.url,
    method: settings.method,
    format: settings.format,
    form_field: settings.form_field,
    events: JSON.stringify(settings.events),
    offer_ids: settings.offer_ids ? JSON.stringify(settings.offer_ids) : null,
    include_products: input.include_products ? 1 : 0,
    include_click_data: input.include_click_data ? 1 : 0,
    signing_secret: signingSecret,
    previous_signing_secret: null,
    previous_secret_expires_at: null,
    status: input.status,
    disabled_reason: input.status === 'disabled' ? 'disabled by operator' : null,
    created_at: now,
    updated_at: now,
  };
  const row = await insertEndpoint(c.env.DB, values);
  return c.json({ ...presentEndpoint(row), signing_secret: signingSecret }, 201);
});

endpointRoutes.get('/', async (c) => {
  const query = parseWith(pageQuery.extend({ publisher_id: idParam.optional() }), c.req.query());
  const after = cursorAfterId(query.cursor);
  const rows = await listEndpoints(c.env.DB, { publisher_id: query.publisher_id }, after, query.limit + 1);
  return c.json(page(rows, query.limit, (r) => r.id, presentEndpoint));
});

endpointRoutes.get('/:id', async (c) => {
  return c.json(presentEndpoint(await loadEndpoint(c.env.DB, pathId(c.req.param('id'), 'Endpoint'))));
});

endpointRoutes.patch('/:id', async (c) => {
  const id = pathId(c.req.param('id'), 'Endpoint');
  const input = parseWith(endpointUpdate, await jsonBody(c));
  const current = await loadEndpoint(c.env.DB, id);
  const shape = resolveShape(input, current);
  const settings: EndpointSettings = {
    url: input.url ?? current.url,
    ...shape,
    // Leaving format form drops the form field; otherwise it stays unless changed.
    form_field: input.form_field !== undefined ? input.form_field : shape.format === 'form' ? current.form_field : null,
    events: input.events ? unique(input.events) : (JSON.parse(current.events) as ConversionEventType[]),
    offer_ids:
      input.offer_ids !== undefined
        ? input.offer_ids && unique(input.offer_ids)
        : current.offer_ids
          ? (JSON.parse(current.offer_ids) as number[])
          : null,
  };
  // Disabling (or toggling what payloads include) is always allowed, even for an endpoint whose
  // URL would no longer pass; anything else, including enabling, re-validates the whole endpoint.
  const onlyHarmless = Object.keys(input).every(
    (k) => k === 'include_products' || k === 'include_click_data' || k === 'status',
  );
  if (!onlyHarmless || input.status === 'active') await validateSettings(c.env, settings);
  const statusChange =
    input.status === undefined || input.status === current.status
      ? {}
      : { status: input.status, disabled_reason: input.status === 'disabled' ? 'disabled by operator' : null };
  const row = await updateEndpoint(
    c.env.DB,
    id,
    {
      url: settings.url,
      method: settings.method,
      format: settings.format,
      form_field: settings.form_field,
      events: JSON.stringify(settings.events),
      offer_ids: settings.offer_ids ? JSON.stringify(settings.offer_ids) : null,
      include_products: input.include_products === undefined ? undefined : input.include_products ? 1 : 0,
      include_click_data: input.include_click_data === undefined ? undefined : input.include_click_data ? 1 : 0,
      ...statusChange,
    },
    nowIso(),
  );
  if (!row) throw notFound('Endpoint');
  return c.json(presentEndpoint(row));
});

endpointRoutes.post('/:id/rotate-secret', async (c) => {
  const id = pathId(c.req.param('id'), 'Endpoint');
  const input = parseWith(rotateSecretInput, await optionalJsonBody(c));
  const current = await loadEndpoint(c.env.DB, id);
  const signingSecret = newSigningSecret();
  const now = Date.now();
  const row = await updateEndpoint(
    c.env.DB,
    id,
    {
      signing_secret: signingSecret,
      previous_signing_secret: input.grace_hours > 0 ? current.signing_secret : null,
      previous_secret_expires_at:
        input.grace_hours > 0 ? new Date(now + input.grace_hours * 3_600_000).toISOString() : null,
    },
    new Date(now).toISOString(),
  );
  if (!row) throw notFound('Endpoint');
  return c.json({ ...presentEndpoint(row), signing_secret: signingSecret });
});

endpointRoutes.post('/:id/test', async (c) => {
  const id = pathId(c.req.param('id'), 'Endpoint');
  const input = parseWith(testInput, await optionalJsonBody(c));
  const endpoint = await loadEndpoint(c.env.DB, id);
  const events = JSON.parse(endpoint.events) as ConversionEventType[];
  const event = input.event ?? events[0] ?? 'conversion.created';
  return c.json(await sendTestNotification(c.env, endpoint, event));
});
