// The shapes of /api/v1/endpoints: what a request may send (create, update, rotate, test) and
// how an endpoint is answered (never its signing secret, except once at creation and rotation).
import * as z from 'zod';
import { CONVERSION_EVENT_TYPES } from '../conversions/status';
import type { EndpointRow } from '../db/endpoints';
import { MAX_BODY_TEMPLATE } from '../notify/body-template';
import { ENDPOINT_EVENT_TYPES, type EndpointEventType } from '../notify/events';
import { component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';

const eventType = z.enum(ENDPOINT_EVENT_TYPES);

const endpointFields = {
  url: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(2048)
    // Checked here, so a URL without a scheme is reported on url, not as a method/format problem;
    // another scheme (gopher:, ftp:) is refused by the destination check with its own reason.
    .regex(/^[a-z][a-z0-9+.-]*:/i, 'must start with http:// or https://')
    .describe(
      'http(s) URL on port 80/443 of a public host; may hold macros such as {click_id} and !!!clickRef!!! ({revenue} only when the operator saves the endpoint: a publisher gets 400)',
    ),
  method: z
    .enum(['GET', 'POST'])
    .describe('GET (format query) or POST (format json or form); derived from format when omitted'),
  format: z
    .enum(['query', 'json', 'form', 'xml'])
    .describe('query, json, form or xml; derived from method (or preset) when omitted'),
  preset: z
    .enum(['awin'])
    .nullable()
    .describe("A network's exact payload: awin = POST form, one field AwinTransactionPush holding Awin's JSON"),
  body_template: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_BODY_TEMPLATE)
    .nullable()
    .describe(
      'POST formats: your own body with macros; each value is escaped for the content type (JSON, XML, form). {revenue} is operator-only, as in url',
    ),
  form_field: z
    .string()
    .regex(/^[A-Za-z0-9_.[\]-]{1,64}$/, 'must be 1-64 letters, digits, _ . - [ ]')
    .nullable()
    .describe('Form format only: send the JSON payload in this one field (e.g. AwinTransactionPush)'),
  events: z
    .array(eventType)
    .min(1, 'must name at least one event')
    .max(ENDPOINT_EVENT_TYPES.length * 2)
    .describe(
      'Events to send (default: the five conversion events; for preset awin only conversion.created). statement.issued and statement.paid are opt-in, for json, form and xml endpoints without a preset or body_template',
    ),
  offer_ids: z
    .array(z.number().int().positive())
    .min(1)
    .max(500)
    .nullable()
    .describe('Only conversions of these offers; null = every offer'),
  include_products: z.boolean().describe('Put product lines into payloads'),
  include_click_data: z.boolean().describe('Put click source data (referrer, country, device...) into payloads'),
  status: z.enum(['active', 'disabled']).describe('active or disabled'),
};

export const endpointCreate = z.strictObject({
  publisher_id: z.number().int().positive().describe('The publisher that owns the endpoint'),
  url: endpointFields.url,
  method: endpointFields.method.optional(),
  format: endpointFields.format.optional(),
  form_field: endpointFields.form_field.default(null),
  preset: endpointFields.preset.default(null),
  body_template: endpointFields.body_template.default(null),
  events: endpointFields.events.optional(),
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
    preset: endpointFields.preset.optional(),
    body_template: endpointFields.body_template.optional(),
    events: endpointFields.events.optional(),
    offer_ids: endpointFields.offer_ids.optional(),
    include_products: endpointFields.include_products.optional(),
    include_click_data: endpointFields.include_click_data.optional(),
    status: endpointFields.status.optional(),
  })
  .strict();

export const rotateSecretInput = z.strictObject({
  grace_hours: z
    .number()
    .min(0)
    .max(168)
    .default(24)
    .describe('Hours the previous secret keeps signing (0-168; 0 = stop at once)'),
});

export const testInput = z.strictObject({
  event: z
    .enum(CONVERSION_EVENT_TYPES)
    .optional()
    .describe("Conversion event to simulate (default: the endpoint's first conversion event)"),
});

export const endpointShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const endpointShape = {
    id: rowId,
    publisher_id: rowId,
    url: z.string().describe('Destination URL, possibly with macros'),
    method: z.enum(['GET', 'POST']),
    format: z.enum(['query', 'json', 'form', 'xml']),
    form_field: z
      .string()
      .nullable()
      .describe('Form format: the one field holding the JSON payload; null = flat fields'),
    preset: z.enum(['awin']).nullable().describe("A network's exact payload, or null for Clickhop's own"),
    body_template: z.string().nullable().describe('The body written by the receiver, with macros'),
    events: z.array(eventType),
    offer_ids: z.array(rowId).nullable().describe('Only these offers; null = every offer'),
    include_products: z.boolean(),
    include_click_data: z.boolean(),
    status: z.enum(['active', 'disabled']),
    disabled_reason: z.string().nullable().describe('Why the endpoint is disabled (operator, or HTTP 410 from it)'),
    previous_secret_expires_at: timestamp
      .nullable()
      .describe('Until when the previous signing secret also signs deliveries, after a rotation'),
    created_at: timestamp,
    updated_at: timestamp,
  };
  const Endpoint = component('Endpoint', z.strictObject(endpointShape));
  const EndpointWithSecret = component(
    'EndpointWithSecret',
    z.strictObject({
      ...endpointShape,
      signing_secret: z
        .string()
        .regex(/^whsec_[A-Za-z0-9+/]{43}=$/)
        .describe('Standard Webhooks signing secret. Shown only in this answer.'),
    }),
  );
  const EndpointTestReport = component(
    'EndpointTestReport',
    z.strictObject({
      ok: z.boolean().describe('True when the endpoint answered 2xx'),
      request: z.strictObject({
        method: z.enum(['GET', 'POST']),
        url: z.string(),
        headers: z.record(z.string(), z.string()),
        body: z.string().nullable(),
      }),
      response: z
        .strictObject({ status: z.int(), latency_ms: z.number(), body_snippet: z.string().nullable() })
        .nullable()
        .describe('Null when no answer arrived (refused destination, timeout, connection error)'),
      error: z.string().nullable(),
    }),
  );
  return { Endpoint, EndpointWithSecret, EndpointPage: pageOf('Endpoint', Endpoint), EndpointTestReport };
});

type Endpoint = z.input<ReturnType<typeof endpointShapes>['Endpoint']>;

export function presentEndpoint(row: EndpointRow): Endpoint {
  return {
    id: row.id,
    publisher_id: row.publisher_id,
    url: row.url,
    method: row.method,
    format: row.format,
    form_field: row.form_field,
    preset: row.preset,
    body_template: row.body_template,
    events: JSON.parse(row.events) as EndpointEventType[],
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
