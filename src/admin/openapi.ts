// The OpenAPI 3.1 document of Clickhop's HTTP API: a registry of every operation, built from the
// zod schemas that validate the requests (their input side) and zod shapes of what handlers answer.
import * as z from 'zod';
import { postbackInput } from '../postback/input';
import {
  CANONICAL_FIELDS,
  canonicalProfile,
  hasOffersProfile,
  type Profile,
  tradeTrackerProfile,
} from '../postback/profiles';
import { advertiserCreate, advertiserUpdate } from './advertisers';
import { clickListQuery } from './clicks';
import { conversionListQuery, statusChange } from './conversions';
import { deliveryQuery } from './deliveries';
import { endpointCreate, endpointUpdate, rotateSecretInput, testInput } from './endpoints';
import { offerCreate, offerUpdate } from './offers';
import { pageQuery } from './pagination';
import { postbackLogQuery } from './postbacks';
import { publisherCreate, publisherUpdate } from './publishers';
import { reportQuery } from './reports';
import { idParam } from './schemas';

// ---------------------------------------------------------------------------------------------
// The subset of OpenAPI 3.1 this document uses (also what the docs page renders).

export interface JsonSchema {
  [keyword: string]: unknown;
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  $ref?: string;
  default?: unknown;
  format?: string;
  pattern?: string;
}

export type HttpMethod = 'get' | 'post' | 'patch';

export interface ParameterObject {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description: string;
  schema: JsonSchema;
  example?: unknown;
}

export interface MediaTypeObject {
  schema: JsonSchema;
  example?: unknown;
}

export interface RequestBodyObject {
  required: boolean;
  description?: string;
  content: Record<string, MediaTypeObject>;
}

export interface HeaderObject {
  description: string;
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaTypeObject>;
}

export type SecurityRequirement = Record<string, string[]>;

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security: SecurityRequirement[];
  parameters?: ParameterObject[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject>;
}

export type PathItemObject = Partial<Record<HttpMethod, OperationObject>>;

export interface SecuritySchemeObject {
  type: 'http' | 'apiKey';
  description: string;
  scheme?: 'bearer';
  bearerFormat?: string;
  name?: string;
  in?: 'query' | 'header';
}

export interface OpenApiDocument {
  openapi: string;
  info: {
    title: string;
    version: string;
    summary: string;
    description: string;
    license: { name: string; identifier: string };
  };
  servers?: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, PathItemObject>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, SecuritySchemeObject> };
}

// ---------------------------------------------------------------------------------------------
// Response shapes. Strict objects: the same shapes read real answers in test/openapi.test.ts,
// so a field added to a handler without being documented here fails a test.

/**
 * Schemas and the registry are built on first use, not at module load, so a cold isolate that
 * serves a click or a postback pays nothing for the API docs.
 */
function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}

const components = z.registry<{ id?: string }>();
function named<T extends z.ZodType>(id: string, schema: T): T {
  components.add(schema, { id });
  return schema;
}

/** The response shapes by component name; tests read real answers with them. */
export const responseSchemas = once(() => {
  const timestamp = z.iso.datetime().describe('UTC ISO 8601 time, e.g. 2026-11-23T10:15:00.000Z');
  const day = z.iso.date().describe('UTC day, YYYY-MM-DD');
  const money = z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .describe('Decimal amount as text in the currency beside it (e.g. "26.09"; "500" for JPY)');
  const currencyCode = z
    .string()
    .regex(/^[A-Z]{3}$/)
    .describe('ISO 4217 currency code');
  const rowId = z.int().min(1).max(0xffffffff);
  const conversionStatus = z.enum(['pending', 'approved', 'rejected', 'reversed']);
  const eventType = z.enum(['conversion.created', 'conversion.approved', 'conversion.rejected', 'conversion.reversed']);

  const ErrorBody = named(
    'Error',
    z
      .strictObject({
        error: z.strictObject({
          code: z.string().describe('Stable machine-readable code, e.g. invalid_request, not_found, unauthorized'),
          message: z.string().describe('What went wrong, for a person'),
          fields: z
            .record(z.string(), z.string())
            .optional()
            .describe('Each offending field (dotted path, e.g. goals.0.payout) with what is wrong with it'),
        }),
      })
      .describe('Every error answer of the API has this shape.'),
  );

  const pageOf = (id: string, item: z.ZodType) =>
    named(
      `${id}Page`,
      z.strictObject({
        data: z.array(item),
        next_cursor: z.string().nullable().describe('Pass as cursor to read the next page; null on the last page'),
      }),
    );

  const Advertiser = named(
    'Advertiser',
    z.strictObject({
      id: rowId,
      name: z.string(),
      status: z.enum(['active', 'paused']),
      ip_allowlist: z
        .array(z.string())
        .describe('CIDRs allowed to send postbacks; empty = any address (the key still applies)'),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );

  const AdvertiserWithKey = named(
    'AdvertiserWithKey',
    Advertiser.extend({
      postback_key: z
        .string()
        .regex(/^pbk_[A-Za-z0-9_-]{32}$/)
        .describe('The advertiser postback key. Shown only in this answer; Clickhop stores its SHA-256.'),
    }),
  );

  const Publisher = named(
    'Publisher',
    z.strictObject({
      id: rowId,
      name: z.string(),
      status: z.enum(['active', 'paused']),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );

  const payoutRule = {
    revenue: money.describe('Fixed revenue per conversion, in the offer currency'),
    payout: money.describe('Fixed payout per conversion, in the offer currency'),
    revenue_percent: z.number().describe('Revenue as a percentage of the sale amount'),
    payout_percent: z.number().describe('Payout as a percentage of the sale amount'),
  };

  const Goal = named(
    'Goal',
    z.strictObject({
      id: rowId,
      key: z.string().describe('Goal key postbacks name in event (lead, sale, ...)'),
      name: z.string(),
      default: z.boolean().describe('Used when a postback names no event'),
      allow_repeats: z.boolean().describe('Without an order ID, whether a click may convert more than once'),
      default_status: z
        .enum(['pending', 'approved'])
        .describe('Status of a new conversion when the postback sends none'),
      ...payoutRule,
      commission_groups: z
        .array(z.strictObject({ key: z.string().describe('Commission group of product lines'), ...payoutRule }))
        .describe('Rules that price product lines of a named commission group'),
    }),
  );

  const Offer = named(
    'Offer',
    z.strictObject({
      id: rowId,
      advertiser_id: rowId,
      name: z.string(),
      status: z.enum(['active', 'paused', 'archived']),
      landing_url: z.string().describe('Where clicks land; may hold macros such as {click_id} and {sub1}'),
      click_param: z.string().describe('Query parameter carrying the click ID when landing_url has no {click_id}'),
      deep_link_hosts: z.array(z.string()).describe('Hosts the url parameter of a tracking link may point to'),
      fallback_url: z.string().nullable().describe('Where clicks go while the offer or publisher is unavailable'),
      currency: currencyCode,
      attribution_window_days: z.int().describe('Days after a click within which a conversion is attributed'),
      allow_publisher_postback: z
        .boolean()
        .describe('Whether postbacks may use offer_id + publisher_id instead of a click ID'),
      tracking_link: z.string().describe('The tracking link; replace {publisher_id} with a publisher id'),
      goals: z.array(Goal),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );

  const endpointShape = {
    id: rowId,
    publisher_id: rowId,
    url: z.string().describe('Destination URL, possibly with macros'),
    method: z.enum(['GET', 'POST']),
    format: z.enum(['query', 'json', 'form']),
    form_field: z
      .string()
      .nullable()
      .describe('Form format: the one field holding the JSON payload; null = flat fields'),
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

  const Endpoint = named('Endpoint', z.strictObject(endpointShape));

  const EndpointWithSecret = named(
    'EndpointWithSecret',
    z.strictObject({
      ...endpointShape,
      signing_secret: z
        .string()
        .regex(/^whsec_[A-Za-z0-9+/]{43}=$/)
        .describe('Standard Webhooks signing secret. Shown only in this answer.'),
    }),
  );

  const EndpointTestReport = named(
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
        .strictObject({
          status: z.int(),
          latency_ms: z.number(),
          body_snippet: z.string().nullable(),
        })
        .nullable()
        .describe('Null when no answer arrived (refused destination, timeout, connection error)'),
      error: z.string().nullable(),
    }),
  );

  const ProductLine = named(
    'ProductLine',
    z.strictObject({
      sku: z.string().nullable(),
      name: z.string().nullable(),
      unit_price: money,
      quantity: z.int().min(1),
      category: z.string().nullable(),
      commission_group: z.string().nullable(),
    }),
  );

  const subIds = {
    sub1: z.string().nullable().describe('Publisher sub ID 1 from the tracking link'),
    sub2: z.string().nullable(),
    sub3: z.string().nullable(),
    sub4: z.string().nullable(),
    sub5: z.string().nullable(),
  };

  const conversionShape = {
    id: z.string().describe('Conversion id (cv_...)'),
    offer_id: rowId,
    goal_id: rowId,
    event: z.string().describe('Goal key'),
    advertiser_id: rowId,
    publisher_id: rowId,
    click_id: z.string().nullable().describe('Null for affiliate-ID postbacks'),
    click_time: timestamp.nullable(),
    order_id: z.string().nullable(),
    status: conversionStatus,
    amount: money.describe('Sale amount as reported, in currency'),
    currency: currencyCode,
    revenue: money.describe('What the advertiser owes, in payout_currency'),
    payout: money.describe("The publisher's commission, in payout_currency"),
    payout_currency: currencyCode,
    voucher: z.string().nullable(),
    description: z.string().nullable(),
    products: z.array(ProductLine),
    ...subIds,
    source: z.enum(['canonical', 'hasoffers', 'tradetracker', 'admin']).describe('How the conversion was recorded'),
    flags: z.array(z.string()).describe('Checks that flagged but did not refuse the conversion'),
    created_at: timestamp,
    updated_at: timestamp,
  };

  const Conversion = named('Conversion', z.strictObject(conversionShape));

  const ConversionSnapshot = named(
    'ConversionSnapshot',
    z
      .strictObject({
        event: eventType,
        event_time: timestamp,
        conversion_id: z.string(),
        status: conversionStatus,
        goal: z.string(),
        offer_id: z.int(),
        offer_name: z.string(),
        advertiser_id: z.int(),
        publisher_id: z.int(),
        click_id: z.string().nullable(),
        click_time: timestamp.nullable(),
        conversion_time: timestamp,
        order_id: z.string().nullable(),
        amount: money,
        currency: currencyCode,
        revenue: money,
        payout: money,
        payout_currency: currencyCode,
        voucher: z.string().nullable(),
        description: z.string().nullable(),
        ...subIds,
        products: z.array(ProductLine),
        click: z
          .strictObject({
            referrer: z.string().nullable(),
            search_engine: z.string().nullable(),
            search_phrase: z.string().nullable(),
            country: z.string().nullable(),
            device: z.string().nullable(),
            deep_link: z.string().nullable(),
          })
          .nullable(),
        test: z.literal(true).optional().describe('Present only on samples sent by the endpoint test'),
      })
      .describe('The conversion as it was when the event happened; what notifications carry'),
  );

  const ConversionEvent = named(
    'ConversionEvent',
    z.strictObject({
      id: z.string(),
      type: eventType,
      from_status: conversionStatus.nullable(),
      to_status: conversionStatus,
      actor: z.enum(['postback', 'admin', 'system']),
      reason: z.string().nullable(),
      created_at: timestamp,
      snapshot: ConversionSnapshot,
    }),
  );

  const ConversionDetail = named(
    'ConversionDetail',
    z.strictObject({ ...conversionShape, events: z.array(ConversionEvent).describe('Oldest first') }),
  );

  const ConversionStatusResult = named(
    'ConversionStatusResult',
    z.strictObject({
      ...conversionShape,
      changed: z.boolean().describe('False when the conversion already had the asked status (nothing happened)'),
      previous_status: conversionStatus,
    }),
  );

  const Click = named(
    'Click',
    z.strictObject({
      click_id: z.string(),
      clicked_at: timestamp,
      offer_id: rowId,
      publisher_id: rowId,
      ...subIds,
      deep_link: z.string().nullable(),
      referrer: z.string().nullable(),
      search_engine: z.string().nullable(),
      search_phrase: z.string().nullable(),
      country: z.string().nullable().describe('Two-letter country code from Cloudflare'),
      region: z.string().nullable(),
      city: z.string().nullable(),
      colo: z.string().nullable().describe('Cloudflare data center that answered the click'),
      asn: z.int().nullable(),
      user_agent: z.string().nullable(),
      device: z.enum(['desktop', 'mobile', 'tablet', 'bot', 'unknown']),
      ip_prefix: z.string().nullable().describe('IPv4 /24 or IPv6 /48 network; the full address is never stored'),
      is_bot: z.boolean().describe('A known bot or link-preview agent'),
      is_unique: z
        .boolean()
        .describe(
          'No click of the same visitor reached this offer and publisher in the 24 hours before; bots never are',
        ),
    }),
  );

  const Delivery = named(
    'Delivery',
    z.strictObject({
      id: z.string(),
      webhook_id: z.string().describe('The webhook-id header of every attempt; the idempotency key'),
      event_id: z.string(),
      conversion_id: z.string(),
      endpoint_id: rowId,
      event_type: eventType,
      status: z.enum(['pending', 'retrying', 'delivered', 'dead']),
      attempt_count: z.int().min(0),
      next_attempt_at: timestamp.nullable(),
      last_attempt_at: timestamp.nullable(),
      last_status_code: z.int().nullable(),
      last_error: z.string().nullable(),
      delivered_at: timestamp.nullable(),
      enqueued_at: timestamp.nullable(),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );

  const DeliveryAttempt = named(
    'DeliveryAttempt',
    z.strictObject({
      attempt: z.int().min(1),
      started_at: timestamp,
      request_method: z.enum(['GET', 'POST']),
      request_url: z.string(),
      status_code: z.int().nullable(),
      latency_ms: z.int().nullable(),
      response_snippet: z.string().nullable(),
      error: z.string().nullable(),
    }),
  );

  const DeliveryDetail = named(
    'DeliveryDetail',
    z.strictObject({ ...Delivery.shape, attempts: z.array(DeliveryAttempt).describe('Oldest first') }),
  );

  const PostbackLogEntry = named(
    'PostbackLogEntry',
    z.strictObject({
      id: rowId,
      received_at: timestamp,
      method: z.enum(['GET', 'POST', 'HEAD']),
      profile: z.enum(['canonical', 'hasoffers', 'tradetracker']),
      ip_prefix: z.string().nullable(),
      advertiser_id: rowId.nullable(),
      offer_id: rowId.nullable(),
      click_id: z.string().nullable(),
      order_id: z.string().nullable(),
      conversion_id: z.string().nullable(),
      params: z
        .record(z.string(), z.union([z.string(), z.array(z.string())]))
        .describe('Every parameter as received; secrets replaced by [redacted]'),
      outcome: z.enum(['created', 'duplicate', 'updated', 'refused']),
      http_status: z.int(),
      error_code: z.string().nullable(),
      error_message: z.string().nullable(),
    }),
  );

  const ClickConversion = named(
    'ClickConversion',
    z.strictObject({
      ...conversionShape,
      events: z.array(ConversionEvent).describe('Status history, oldest first'),
      deliveries: z.array(Delivery).describe('Notifications sent for it, oldest first'),
      truncated: z
        .strictObject({ events: z.boolean(), deliveries: z.boolean() })
        .describe('True where a list was cut at its limit'),
    }),
  );

  const ClickLookup = named(
    'ClickLookup',
    z
      .strictObject({
        click_id: z.string(),
        offer_id: rowId.describe('From the verified click ID'),
        publisher_id: rowId.describe('From the verified click ID'),
        clicked_at: timestamp,
        key_id: z.int().min(0).max(255).describe('Signing key id of the click ID'),
        landed: z.boolean().describe('Whether the clicks consumer has stored the click row yet'),
        click: Click.nullable(),
        conversions: z.array(ClickConversion).describe('Oldest first'),
        postbacks: z
          .array(PostbackLogEntry)
          .describe('Postback requests that named the click or its conversions, newest first'),
        truncated: z
          .strictObject({ conversions: z.boolean(), postbacks: z.boolean() })
          .describe('True where a list was cut at its limit'),
        limits: z
          .strictObject({
            conversions: z.int(),
            events_per_conversion: z.int(),
            deliveries_per_conversion: z.int(),
            postbacks: z.int(),
          })
          .describe('The caps of each list'),
      })
      .describe('Everything stored about one click, for settling disputes'),
  );

  const ReportRow = named(
    'ReportRow',
    z.strictObject({
      day: day.optional().describe('Present when grouped by day'),
      offer_id: rowId.optional().describe('Present when grouped by offer'),
      publisher_id: rowId.optional().describe('Present when grouped by publisher'),
      currency: currencyCode.nullable().describe('Currency of the money columns; null for a group without conversions'),
      clicks: z.int().min(0),
      unique_clicks: z.int().min(0),
      bot_clicks: z.int().min(0),
      conversions: z.strictObject({
        pending: z.int().min(0),
        approved: z.int().min(0),
        rejected: z.int().min(0),
        reversed: z.int().min(0),
      }),
      revenue: money.describe('Pending + approved revenue'),
      revenue_approved: money,
      payout: money.describe('Pending + approved payout'),
      payout_approved: money,
      conversion_rate: z.number().describe('(pending + approved conversions) / clicks, 4 decimals; 0 without clicks'),
      epc: money.describe('Earnings per click: payout / clicks'),
    }),
  );

  const Report = named(
    'Report',
    z.strictObject({
      from: day,
      to: day,
      group_by: z.array(z.enum(['day', 'offer', 'publisher'])),
      data: z.array(ReportRow).describe('One row per group and currency'),
    }),
  );

  const PostbackResult = named(
    'PostbackResult',
    z.strictObject({
      status: z.literal('ok'),
      conversion_id: z.string(),
      duplicate: z.boolean().describe('True for a replay: nothing was changed'),
      outcome: z.enum(['created', 'duplicate', 'updated']),
      event: z.string().describe('Goal key'),
      conversion_status: conversionStatus,
      previous_status: conversionStatus.optional().describe('Present when the postback changed the status'),
      click_id: z.string().nullable(),
      order_id: z.string().nullable(),
      amount: money,
      currency: currencyCode,
      revenue: money,
      payout: money,
      payout_currency: currencyCode,
      created_at: timestamp,
    }),
  );

  const ServiceIndex = named(
    'ServiceIndex',
    z.strictObject({ service: z.literal('clickhop'), docs: z.literal('/api/docs').describe('The API docs page') }),
  );

  return {
    Error: ErrorBody,
    Advertiser,
    AdvertiserWithKey,
    AdvertiserPage: pageOf('Advertiser', Advertiser),
    Publisher,
    PublisherPage: pageOf('Publisher', Publisher),
    Offer,
    OfferPage: pageOf('Offer', Offer),
    Endpoint,
    EndpointWithSecret,
    EndpointPage: pageOf('Endpoint', Endpoint),
    EndpointTestReport,
    Conversion,
    ConversionPage: pageOf('Conversion', Conversion),
    ConversionDetail,
    ConversionStatusResult,
    Click,
    ClickPage: pageOf('Click', Click),
    ClickConversion,
    ClickLookup,
    Delivery,
    DeliveryPage: pageOf('Delivery', Delivery),
    DeliveryDetail,
    PostbackLogEntry,
    PostbackLogEntryPage: pageOf('PostbackLogEntry', PostbackLogEntry),
    Report,
    PostbackResult,
    ServiceIndex,
  } as const;
});

type ResponseName = keyof ReturnType<typeof responseSchemas>;

// ---------------------------------------------------------------------------------------------
// Requests: path parameters and the description of every request field.

interface PathParam {
  name: string;
  schema: z.ZodType;
  description: string;
  example: string | number;
}

const numericId = (what: string): PathParam => ({
  name: 'id',
  schema: idParam,
  description: `${what} id. Anything but a positive integer names no ${what.toLowerCase()} (404).`,
  example: 1,
});

const endpointId: PathParam = numericId('Endpoint');

const conversionIdParam = (): PathParam => ({
  name: 'id',
  schema: z.string().regex(/^cv_[A-Za-z0-9_-]{1,64}$/),
  description: 'Conversion id (cv_...). Any other form names no conversion (404).',
  example: 'cv_2kQ9xLm3vT8aB1cD',
});

const deliveryIdParam = (): PathParam => ({
  name: 'id',
  schema: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/),
  description: 'Delivery id (dlv_...), the webhook-id publishers see. Any other form names no delivery (404).',
  example: 'dlv_7hK2pQ9sLm4n',
});

/** Descriptions of query parameters and body fields; an operation may override any of them. */
const FIELD_DOCS: Record<string, string> = {
  limit: 'Page size (1-200)',
  cursor: 'The next_cursor of the previous page; omit for the first page',
  advertiser_id: 'Only this advertiser',
  offer_id: 'Only this offer',
  publisher_id: 'Only this publisher',
  status: 'Only this status',
  click_id: 'Only this click ID',
  order_id: "Only this advertiser's order ID",
  conversion_id: 'Only this conversion',
  endpoint_id: 'Only this endpoint',
  outcome: 'Only requests with this outcome',
  from: 'From this UTC day (YYYY-MM-DD) or ISO 8601 time, inclusive',
  to: 'Up to this ISO 8601 time (exclusive), or through this whole UTC day (YYYY-MM-DD)',
  name: 'Display name',
  ip_allowlist: 'IPv4/IPv6 addresses or CIDRs allowed to send postbacks; empty = any address',
};

const OFFER_FIELDS: Record<string, string> = {
  advertiser_id: 'The advertiser that owns the offer',
  name: 'Display name',
  landing_url: 'http(s) URL where clicks land; macros {click_id}, {offer_id}, {publisher_id}, {sub1}..{sub5}',
  currency: 'ISO 4217 currency of revenue and payout (cannot be changed later)',
  goals: 'Conversion goals with their revenue and payout rules',
  'goals[].key': 'Goal key that postbacks name in event (1-32 of a-z, 0-9, _ and -)',
  'goals[].name': 'Display name (default: the key)',
  'goals[].revenue': 'Fixed revenue per conversion, decimal text in the offer currency',
  'goals[].payout': 'Fixed payout per conversion, decimal text in the offer currency',
  'goals[].revenue_percent': 'Revenue as a percentage of the sale amount (at most 2 decimals)',
  'goals[].payout_percent': 'Payout as a percentage of the sale amount (at most 2 decimals)',
  'goals[].commission_groups': 'Rules for product lines of a named commission group',
  'goals[].commission_groups[].key': 'Commission group name as postbacks send it on product lines',
  'goals[].commission_groups[].revenue': 'Fixed revenue per product line of the group',
  'goals[].commission_groups[].payout': 'Fixed payout per product line of the group',
  'goals[].commission_groups[].revenue_percent': 'Revenue as a percentage of the line total',
  'goals[].commission_groups[].payout_percent': 'Payout as a percentage of the line total',
  'goals[].allow_repeats': 'Without an order ID, let a click convert more than once',
  'goals[].default': 'The goal used when a postback names no event (at most one)',
  'goals[].default_status': 'Status of a new conversion when the postback sends none',
  click_param: 'Query parameter for the click ID when landing_url has no {click_id} macro',
  deep_link_hosts: 'Hosts the url parameter of a tracking link may point to (*.example.com allowed)',
  attribution_window_days: 'Days after a click within which a conversion is attributed',
  allow_publisher_postback: 'Accept postbacks with offer_id + publisher_id instead of a click ID',
  fallback_url: 'Where clicks go while the offer or publisher is unavailable',
  status: 'active, paused (clicks get the fallback or a 404) or archived',
};

const ENDPOINT_FIELDS: Record<string, string> = {
  publisher_id: 'The publisher that owns the endpoint',
  url: 'http(s) URL on port 80/443 of a public host; may hold macros such as {click_id} and !!!clickRef!!!',
  method: 'GET (format query) or POST (format json or form); derived from format when omitted',
  format: 'query, json or form; derived from method when omitted (one of the two is required)',
  form_field: 'Form format only: send the JSON payload in this one field (e.g. AwinTransactionPush)',
  events: 'Conversion events to send (default: all four)',
  offer_ids: 'Only conversions of these offers; null = every offer',
  include_products: 'Put product lines into payloads',
  include_click_data: 'Put click source data (referrer, country, device...) into payloads',
  status: 'active or disabled',
};

// ---------------------------------------------------------------------------------------------
// Public routes: the tracking link and advertiser postbacks.

/**
 * The click route parses its query by hand on the hot path (no zod there); this mirrors its
 * checks, and the tests hold the two together.
 */
function clickQuery() {
  const subText = z
    .string()
    .max(255)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: sub IDs with control characters are refused
    .regex(/^[^\u0000-\u001f\u007f]*$/)
    .optional();
  return z.object({
    sub1: subText,
    sub2: subText,
    sub3: subText,
    sub4: subText,
    sub5: subText,
    url: z.string().optional(),
  });
}

const CLICK_FIELDS: Record<string, string> = {
  sub1: 'Publisher sub ID 1 (at most 255 characters, no control characters); echoed in notifications',
  sub2: 'Publisher sub ID 2',
  sub3: 'Publisher sub ID 3',
  sub4: 'Publisher sub ID 4',
  sub5: 'Publisher sub ID 5',
  url: "Deep link: a page on one of the offer's deep_link_hosts (anything else is a 400, never an open redirect)",
};

const POSTBACK_FIELDS: Record<string, string> = {
  click_id: 'The click ID the landing page received (transaction-ID protocol)',
  event: "Goal key (lead, sale, ...); omitted = the offer's default goal",
  order_id: "Advertiser's transaction ID; the deduplication key",
  amount: 'Sale amount as a decimal string, e.g. 26.09',
  currency: "ISO 4217 code of amount and products; omitted = the offer's currency",
  status:
    "New conversion: pending, approved or rejected (default: the goal's). Sent again for a known conversion, changes its status (pending -> approved | rejected, approved -> reversed)",
  voucher: 'Voucher or coupon code',
  description: 'Free text shown to the publisher',
  products: 'JSON array of {sku, name, unit_price, quantity, category, commission_group}',
  offer_id:
    'Affiliate-ID protocol (no click ID): the offer, with publisher_id; or, with order_id and status, a status update by order',
  publisher_id: 'Affiliate-ID protocol: the publisher',
  sub1: 'Affiliate-ID protocol: publisher sub ID 1',
  sub2: 'Affiliate-ID protocol: publisher sub ID 2',
  sub3: 'Affiliate-ID protocol: publisher sub ID 3',
  sub4: 'Affiliate-ID protocol: publisher sub ID 4',
  sub5: 'Affiliate-ID protocol: publisher sub ID 5',
  reason: 'Note stored with a status change',
};

const PROFILE_LABEL: Record<Profile['name'], string> = {
  canonical: 'Clickhop',
  hasoffers: 'HasOffers',
  tradetracker: 'TradeTracker',
};

/**
 * A profile's parameters: the canonical ones (every profile accepts them) and the profile's own
 * names, with the canonical schema of the field each maps onto. The key is a security scheme.
 */
function postbackParams(profile: Profile) {
  const shape: Record<string, z.ZodType> = {};
  const docs: Record<string, string> = {};
  for (const field of CANONICAL_FIELDS) {
    if (field === 'key' || profile.fixed[field] !== undefined) continue;
    shape[field] = postbackInput.shape[field];
    docs[field] = POSTBACK_FIELDS[field] ?? field;
    for (const alias of profile.aliases[field] ?? []) {
      shape[alias] = postbackInput.shape[field];
      docs[alias] = `${PROFILE_LABEL[profile.name]} name for ${field}: ${docs[field]}`;
    }
  }
  return { schema: z.object(shape), docs };
}

/** TradeTracker sends these too; they are accepted and ignored (see src/postback/profiles.ts). */
const tradeTrackerExtras = () =>
  z.object({
    descrMerchant: z.string().optional(),
    cid: z.string().optional(),
    pid: z.string().optional(),
    tgi: z.string().optional(),
    s2s: z.string().optional(),
    qty: z.string().optional(),
    event: z.string().optional(),
  });

const TRADETRACKER_EXTRAS: Record<string, string> = {
  descrMerchant: 'Kept in the postback log only (merchant-only in TradeTracker)',
  cid: 'TradeTracker campaign ID; accepted and ignored (the click ID names the offer)',
  pid: 'TradeTracker product ID; accepted and ignored',
  tgi: 'Accepted and ignored',
  s2s: 'Accepted and ignored',
  qty: 'Accepted and ignored',
  event: 'Ignored: the path decides the goal',
};

// ---------------------------------------------------------------------------------------------
// The registry.

export type Tag =
  | 'Tracking links'
  | 'Advertiser postbacks'
  | 'Advertisers'
  | 'Offers'
  | 'Publishers'
  | 'Endpoints'
  | 'Deliveries'
  | 'Conversions'
  | 'Clicks'
  | 'Postback log'
  | 'Reports'
  | 'Documentation';

const TAGS: Record<Tag, string> = {
  'Tracking links': 'The redirect publishers share. Public.',
  'Advertiser postbacks':
    'Server-to-server conversion reports from advertisers: the canonical URL and the HasOffers and TradeTracker compatible profiles. Authenticated by the advertiser postback key (or, keyless, by the IP allow-list).',
  Advertisers: 'Advertisers and their postback keys.',
  Offers: 'Offers with their goals and payout rules.',
  Publishers: 'Publishers (affiliates).',
  Endpoints: "Publishers' notification endpoints, their signing secrets and test sends.",
  Deliveries: 'The notification delivery log, and resend.',
  Conversions: 'Conversions, their history, and operator status decisions.',
  Clicks: 'Recorded clicks and click ID lookup.',
  'Postback log': 'Every advertiser postback request, accepted or refused.',
  Reports: 'Clicks, conversions, revenue and payout from the daily rollups.',
  Documentation: 'This document and its HTML rendering. Public: they describe shapes, never data or secrets.',
};

type Auth = 'admin' | 'postback' | 'hasoffers' | 'none';

interface BodySpec {
  schema: z.ZodType;
  required: boolean;
  /** Puts the schema under components.schemas with this name (shared by several media types). */
  component?: string;
  docs?: Record<string, string>;
  example?: Record<string, unknown>;
  /** Postbacks take form and multipart bodies as well as JSON. */
  media?: 'json' | 'postback';
  description?: string;
}

interface ResponseSpec {
  description: string;
  schema?: ResponseName;
  /** text/html (click errors for browsers) or text/html only (the docs page). */
  html?: 'also' | 'only';
  headers?: Record<string, HeaderObject>;
  /** A JSON answer that is not one of the named shapes (this document itself). */
  json?: JsonSchema;
}

export interface OperationSpec {
  method: HttpMethod;
  /** OpenAPI path form: /api/v1/offers/{id} */
  path: string;
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  auth: Auth;
  pathParams?: PathParam[];
  query?: z.ZodObject;
  queryDocs?: Record<string, string>;
  queryExample?: Record<string, string | number>;
  body?: BodySpec;
  responses: Record<number, ResponseSpec>;
}

const V1 = '/api/v1';

const listOf = (what: string, schema: ResponseName): Record<number, ResponseSpec> => ({
  200: { description: `A page of ${what}`, schema },
});

const noStore = { description: 'no-store', schema: { type: 'string', const: 'no-store' } };

const postbackErrors: Record<number, ResponseSpec> = {
  400: { description: 'Invalid or conflicting parameters (fields name the parameters as sent)', schema: 'Error' },
  401: {
    description: 'Missing or unknown postback key (unauthorized)',
    schema: 'Error',
    headers: { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } },
  },
  403: {
    description:
      'ip_not_allowed (address not on the allow-list), offer_not_owned (another advertiser’s offer), affiliate_id_protocol_disabled',
    schema: 'Error',
  },
  404: {
    description: 'click_not_found, offer_not_found, publisher_not_found, goal_not_found, conversion_not_found',
    schema: 'Error',
  },
  405: { description: 'HEAD is refused (method_not_allowed): link checkers must not convert', schema: 'Error' },
  409: { description: 'illegal_status_change, or conflict (a concurrent change; retry)', schema: 'Error' },
  413: { description: 'Body larger than 64 KiB', schema: 'Error' },
  415: { description: 'Body of another media type', schema: 'Error' },
  422: { description: 'outside_attribution_window: the click is older than the offer allows', schema: 'Error' },
};

const POSTBACK_DESCRIPTION =
  'Parameters are read from the query string and, for POST, from the body (JSON object, form or multipart); both count equally, and one parameter with two different values is a 400. Empty values count as absent; unknown parameters are ignored and logged. In a JSON body numbers and booleans are read as text and products may be the array itself. A replay of the same conversion answers 200 with the same conversion_id and duplicate: true. Every request is recorded in the postback log.';

function postbackOperations(path: string, profile: Profile, id: string, intro: string): OperationSpec[] {
  const { schema, docs } = postbackParams(profile);
  const params = profile.name === 'tradetracker' ? schema.extend(tradeTrackerExtras().shape) : schema;
  const allDocs = profile.name === 'tradetracker' ? { ...docs, ...TRADETRACKER_EXTRAS } : docs;
  const example: Record<string, string> =
    profile.name === 'hasoffers'
      ? { transaction_id: 'AQEAAZexampleClickId', adv_sub: 'SO-88812', amount: '80.00', goal_id: 'sale' }
      : profile.name === 'tradetracker'
        ? { data: 'AQEAAZexampleClickId', tid: '123456', tam: '26.09', currency: 'EUR', descrAffiliate: 'new player' }
        : { click_id: 'AQEAAZexampleClickId', event: 'sale', order_id: 'SO-88812', amount: '26.09', currency: 'GBP' };
  const auth: Auth = profile.name === 'hasoffers' ? 'hasoffers' : 'postback';
  const common = { tag: 'Advertiser postbacks' as const, auth, responses: postbackResponses };
  return [
    {
      ...common,
      method: 'get',
      path,
      operationId: `${id}Get`,
      summary: `${intro} (GET)`,
      description: POSTBACK_DESCRIPTION,
      query: params,
      queryDocs: allDocs,
      queryExample: example,
    },
    {
      ...common,
      method: 'post',
      path,
      operationId: `${id}Post`,
      summary: `${intro} (POST)`,
      description: `${POSTBACK_DESCRIPTION} The query string takes the same parameters as the body.`,
      body: {
        schema: params,
        required: false,
        component: `${PROFILE_LABEL[profile.name]}PostbackParameters`,
        docs: allDocs,
        example,
        media: 'postback',
        description: 'Parameters as a form, multipart or JSON object; may be empty when the query string carries them.',
      },
    },
  ];
}

const postbackResponses: Record<number, ResponseSpec> = {
  200: { description: 'Conversion recorded, or a replay of one (duplicate: true)', schema: 'PostbackResult' },
  ...postbackErrors,
};

/** Every operation of the API, in the order the docs page shows them. */
export const operations = once((): OperationSpec[] => [
  // Tracking link
  {
    method: 'get',
    path: '/c/{offerId}/{publisherId}',
    operationId: 'click',
    tag: 'Tracking links',
    summary: 'Follow a tracking link',
    description:
      'Answers 302 to the landing URL with a signed click ID in it and records the click after the response. HEAD gets the same answer without counting a click; known link-preview bots are counted and flagged as bots. Errors are JSON, or a short HTML page when Accept names text/html.',
    auth: 'none',
    pathParams: [
      { name: 'offerId', schema: idParam, description: 'Offer id', example: 1 },
      { name: 'publisherId', schema: idParam, description: 'Publisher id', example: 2 },
    ],
    query: clickQuery(),
    queryDocs: CLICK_FIELDS,
    queryExample: { sub1: 'newsletter-42' },
    responses: {
      302: {
        description: "Redirect to the landing URL (or to the offer's fallback URL while it is unavailable)",
        headers: {
          Location: { description: 'Landing URL with the click ID', schema: { type: 'string' } },
          'Cache-Control': noStore,
          'Referrer-Policy': { description: 'no-referrer', schema: { type: 'string', const: 'no-referrer' } },
        },
      },
      400: {
        description:
          'A sub ID too long or with control characters (invalid_request), or a deep link to a host the offer does not allow (invalid_deep_link)',
        schema: 'Error',
        html: 'also',
      },
      404: {
        description: 'Unknown or paused offer or publisher (offer_not_found, publisher_not_found)',
        schema: 'Error',
        html: 'also',
      },
    },
  },

  // Advertiser postbacks
  ...postbackOperations('/postback', canonicalProfile, 'postback', 'Report a conversion'),
  ...postbackOperations(
    '/postback/hasoffers',
    hasOffersProfile,
    'postbackHasOffers',
    'Report a conversion, HasOffers names',
  ),
  ...postbackOperations(
    '/postback/tradetracker/lead',
    tradeTrackerProfile('lead'),
    'postbackTradeTrackerLead',
    'Report a lead, TradeTracker names',
  ),
  ...postbackOperations(
    '/postback/tradetracker/sale',
    tradeTrackerProfile('sale'),
    'postbackTradeTrackerSale',
    'Report a sale, TradeTracker names',
  ),

  // Advertisers
  {
    method: 'post',
    path: `${V1}/advertisers`,
    operationId: 'createAdvertiser',
    tag: 'Advertisers',
    summary: 'Create an advertiser',
    description: 'The answer carries the postback key, shown this once.',
    auth: 'admin',
    body: { schema: advertiserCreate, required: true, example: { name: 'Acme Shop' } },
    responses: { 201: { description: 'Created, with its postback key', schema: 'AdvertiserWithKey' } },
  },
  {
    method: 'get',
    path: `${V1}/advertisers`,
    operationId: 'listAdvertisers',
    tag: 'Advertisers',
    summary: 'List advertisers',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery,
    responses: listOf('advertisers', 'AdvertiserPage'),
  },
  {
    method: 'get',
    path: `${V1}/advertisers/{id}`,
    operationId: 'getAdvertiser',
    tag: 'Advertisers',
    summary: 'Read an advertiser',
    auth: 'admin',
    pathParams: [numericId('Advertiser')],
    responses: { 200: { description: 'The advertiser', schema: 'Advertiser' } },
  },
  {
    method: 'patch',
    path: `${V1}/advertisers/{id}`,
    operationId: 'updateAdvertiser',
    tag: 'Advertisers',
    summary: 'Change an advertiser',
    description: 'Pausing an advertiser pauses the click path of all its offers.',
    auth: 'admin',
    pathParams: [numericId('Advertiser')],
    body: { schema: advertiserUpdate, required: true, example: { status: 'paused' } },
    responses: { 200: { description: 'The changed advertiser', schema: 'Advertiser' } },
  },
  {
    method: 'post',
    path: `${V1}/advertisers/{id}/postback-key`,
    operationId: 'rotateAdvertiserPostbackKey',
    tag: 'Advertisers',
    summary: 'Rotate the postback key',
    description: 'The old key stops working at once. The answer carries the new key, shown this once.',
    auth: 'admin',
    pathParams: [numericId('Advertiser')],
    responses: { 200: { description: 'The advertiser with its new key', schema: 'AdvertiserWithKey' } },
  },

  // Offers
  {
    method: 'post',
    path: `${V1}/offers`,
    operationId: 'createOffer',
    tag: 'Offers',
    summary: 'Create an offer',
    description: 'Money is decimal text in the offer currency; percentages have at most 2 decimals.',
    auth: 'admin',
    body: {
      schema: offerCreate,
      required: true,
      docs: OFFER_FIELDS,
      example: {
        advertiser_id: 1,
        name: 'Summer sale',
        landing_url: 'https://shop.example/landing?src=aff',
        currency: 'EUR',
        goals: [
          { key: 'lead', revenue: '5.00', payout: '2.00' },
          { key: 'sale', revenue_percent: 10, payout_percent: 5 },
        ],
      },
    },
    responses: { 201: { description: 'Created', schema: 'Offer' } },
  },
  {
    method: 'get',
    path: `${V1}/offers`,
    operationId: 'listOffers',
    tag: 'Offers',
    summary: 'List offers',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery.extend({ advertiser_id: idParam.optional() }),
    responses: listOf('offers', 'OfferPage'),
  },
  {
    method: 'get',
    path: `${V1}/offers/{id}`,
    operationId: 'getOffer',
    tag: 'Offers',
    summary: 'Read an offer',
    auth: 'admin',
    pathParams: [numericId('Offer')],
    responses: { 200: { description: 'The offer', schema: 'Offer' } },
  },
  {
    method: 'patch',
    path: `${V1}/offers/{id}`,
    operationId: 'updateOffer',
    tag: 'Offers',
    summary: 'Change an offer',
    description:
      'Goals are matched by key: a known key changes that goal and replaces its base payout rules, a new key adds a goal. The currency cannot change.',
    auth: 'admin',
    pathParams: [numericId('Offer')],
    body: { schema: offerUpdate, required: true, docs: OFFER_FIELDS, example: { status: 'paused' } },
    responses: { 200: { description: 'The changed offer', schema: 'Offer' } },
  },

  // Publishers
  {
    method: 'post',
    path: `${V1}/publishers`,
    operationId: 'createPublisher',
    tag: 'Publishers',
    summary: 'Create a publisher',
    auth: 'admin',
    body: { schema: publisherCreate, required: true, example: { name: 'Deal Blog' } },
    responses: { 201: { description: 'Created', schema: 'Publisher' } },
  },
  {
    method: 'get',
    path: `${V1}/publishers`,
    operationId: 'listPublishers',
    tag: 'Publishers',
    summary: 'List publishers',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery,
    responses: listOf('publishers', 'PublisherPage'),
  },
  {
    method: 'get',
    path: `${V1}/publishers/{id}`,
    operationId: 'getPublisher',
    tag: 'Publishers',
    summary: 'Read a publisher',
    auth: 'admin',
    pathParams: [numericId('Publisher')],
    responses: { 200: { description: 'The publisher', schema: 'Publisher' } },
  },
  {
    method: 'patch',
    path: `${V1}/publishers/{id}`,
    operationId: 'updatePublisher',
    tag: 'Publishers',
    summary: 'Change a publisher',
    description: 'A paused publisher’s tracking links answer 404 (or the offer’s fallback URL).',
    auth: 'admin',
    pathParams: [numericId('Publisher')],
    body: { schema: publisherUpdate, required: true, example: { status: 'paused' } },
    responses: { 200: { description: 'The changed publisher', schema: 'Publisher' } },
  },

  // Endpoints
  {
    method: 'post',
    path: `${V1}/endpoints`,
    operationId: 'createEndpoint',
    tag: 'Endpoints',
    summary: 'Create a notification endpoint',
    description:
      'Unknown macros, a method that does not fit the format, a private or non-standard-port destination and unknown offer ids are refused with every problem named. The answer carries the signing secret, shown this once.',
    auth: 'admin',
    body: {
      schema: endpointCreate,
      required: true,
      docs: ENDPOINT_FIELDS,
      example: {
        publisher_id: 1,
        url: 'https://hooks.publisher.example/clickhop',
        method: 'POST',
        format: 'json',
        events: ['conversion.created', 'conversion.approved'],
      },
    },
    responses: { 201: { description: 'Created, with its signing secret', schema: 'EndpointWithSecret' } },
  },
  {
    method: 'get',
    path: `${V1}/endpoints`,
    operationId: 'listEndpoints',
    tag: 'Endpoints',
    summary: 'List endpoints',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery.extend({ publisher_id: idParam.optional() }),
    responses: listOf('endpoints', 'EndpointPage'),
  },
  {
    method: 'get',
    path: `${V1}/endpoints/{id}`,
    operationId: 'getEndpoint',
    tag: 'Endpoints',
    summary: 'Read an endpoint',
    auth: 'admin',
    pathParams: [endpointId],
    responses: { 200: { description: 'The endpoint', schema: 'Endpoint' } },
  },
  {
    method: 'patch',
    path: `${V1}/endpoints/{id}`,
    operationId: 'updateEndpoint',
    tag: 'Endpoints',
    summary: 'Change an endpoint',
    description: 'Any change but disabling or the include_* toggles re-validates the whole endpoint, as at creation.',
    auth: 'admin',
    pathParams: [endpointId],
    body: { schema: endpointUpdate, required: true, docs: ENDPOINT_FIELDS, example: { status: 'disabled' } },
    responses: { 200: { description: 'The changed endpoint', schema: 'Endpoint' } },
  },
  {
    method: 'post',
    path: `${V1}/endpoints/{id}/rotate-secret`,
    operationId: 'rotateEndpointSecret',
    tag: 'Endpoints',
    summary: 'Rotate the signing secret',
    description:
      'The previous secret keeps signing beside the new one for grace_hours, so the publisher can switch without losing deliveries. An empty body uses the default.',
    auth: 'admin',
    pathParams: [endpointId],
    body: {
      schema: rotateSecretInput,
      required: false,
      docs: { grace_hours: 'Hours the previous secret keeps signing (0-168; 0 = stop at once)' },
      example: { grace_hours: 24 },
    },
    responses: { 200: { description: 'The endpoint with its new secret', schema: 'EndpointWithSecret' } },
  },
  {
    method: 'post',
    path: `${V1}/endpoints/{id}/test`,
    operationId: 'testEndpoint',
    tag: 'Endpoints',
    summary: 'Send a sample notification',
    description:
      'Sends a clearly marked sample event (test: true, ids prefixed test_) straight to the endpoint, not through the Queue and not logged as a delivery, and answers with the request made and the response received (200 even when the endpoint failed: see ok).',
    auth: 'admin',
    pathParams: [endpointId],
    body: {
      schema: testInput,
      required: false,
      docs: { event: "Event to simulate (default: the endpoint's first event)" },
      example: { event: 'conversion.approved' },
    },
    responses: { 200: { description: 'What was sent and what came back', schema: 'EndpointTestReport' } },
  },

  // Deliveries
  {
    method: 'get',
    path: `${V1}/deliveries`,
    operationId: 'listDeliveries',
    tag: 'Deliveries',
    summary: 'List deliveries',
    description: 'Newest first.',
    auth: 'admin',
    query: deliveryQuery,
    queryExample: { status: 'dead' },
    responses: listOf('deliveries', 'DeliveryPage'),
  },
  {
    method: 'get',
    path: `${V1}/deliveries/{id}`,
    operationId: 'getDelivery',
    tag: 'Deliveries',
    summary: 'Read a delivery with its attempts',
    auth: 'admin',
    pathParams: [deliveryIdParam()],
    responses: { 200: { description: 'The delivery and every attempt', schema: 'DeliveryDetail' } },
  },
  {
    method: 'post',
    path: `${V1}/deliveries/{id}/resend`,
    operationId: 'resendDelivery',
    tag: 'Deliveries',
    summary: 'Resend a delivery',
    description:
      'Sends a delivered or dead delivery again through the Queue, with the same id (webhook-id) and payload.',
    auth: 'admin',
    pathParams: [deliveryIdParam()],
    responses: {
      202: { description: 'Reopened and queued', schema: 'Delivery' },
      409: { description: 'endpoint_disabled, or delivery_in_progress (still pending or retrying)', schema: 'Error' },
    },
  },

  // Conversions
  {
    method: 'get',
    path: `${V1}/conversions`,
    operationId: 'listConversions',
    tag: 'Conversions',
    summary: 'List conversions',
    description: 'Newest first.',
    auth: 'admin',
    query: conversionListQuery,
    queryExample: { status: 'pending', from: '2026-11-01' },
    responses: listOf('conversions', 'ConversionPage'),
  },
  {
    method: 'get',
    path: `${V1}/conversions/{id}`,
    operationId: 'getConversion',
    tag: 'Conversions',
    summary: 'Read a conversion with its events',
    auth: 'admin',
    pathParams: [conversionIdParam()],
    responses: { 200: { description: 'The conversion and its history', schema: 'ConversionDetail' } },
  },
  {
    method: 'post',
    path: `${V1}/conversions/{id}/status`,
    operationId: 'changeConversionStatus',
    tag: 'Conversions',
    summary: 'Approve, reject or reverse a conversion',
    description:
      'The same lifecycle as advertiser postbacks: pending -> approved | rejected, approved -> reversed. Asking for the current status changes nothing (changed: false). A change notifies the publisher.',
    auth: 'admin',
    pathParams: [conversionIdParam()],
    body: {
      schema: statusChange,
      required: true,
      docs: { status: 'The new status', reason: 'Why (stored with the event)' },
      example: { status: 'approved', reason: 'Order shipped' },
    },
    responses: {
      200: { description: 'The conversion after the decision', schema: 'ConversionStatusResult' },
      409: { description: 'illegal_status_change, or conflict (a concurrent change; retry)', schema: 'Error' },
    },
  },

  // Clicks
  {
    method: 'get',
    path: `${V1}/clicks`,
    operationId: 'listClicks',
    tag: 'Clicks',
    summary: 'List clicks',
    description:
      'Newest first. A click is listed once the clicks consumer has stored it (Queue batches, normally within seconds of the redirect).',
    auth: 'admin',
    query: clickListQuery,
    queryDocs: {
      unique: 'true: only unique clicks; false: only repeats',
      bot: 'true: only bot clicks; false: only human ones',
      country: 'Only clicks from this two-letter country code',
      sub1: 'Only clicks with exactly this sub1',
      sub2: 'Only clicks with exactly this sub2',
      sub3: 'Only clicks with exactly this sub3',
      sub4: 'Only clicks with exactly this sub4',
      sub5: 'Only clicks with exactly this sub5',
    },
    queryExample: { offer_id: 1, unique: 'true' },
    responses: listOf('clicks', 'ClickPage'),
  },
  {
    method: 'get',
    path: `${V1}/clicks/{clickId}`,
    operationId: 'getClick',
    tag: 'Clicks',
    summary: 'Look up a click ID',
    description:
      'Verifies the click ID (a forged or altered one is a 404 without any storage read) and shows what it says, the stored click once it has landed, the conversions attributed to it with their histories and deliveries, and the postback requests about it.',
    auth: 'admin',
    pathParams: [
      {
        name: 'clickId',
        schema: z.string(),
        description: 'A click ID as the landing page received it; one this tracker did not sign is a 404',
        example: 'AQEAAZexampleClickId',
      },
    ],
    responses: {
      200: { description: 'The click', schema: 'ClickLookup' },
      404: { description: 'click_not_found: not signed by this tracker, or altered', schema: 'Error' },
    },
  },

  // Postback log
  {
    method: 'get',
    path: `${V1}/postbacks`,
    operationId: 'listPostbackLog',
    tag: 'Postback log',
    summary: 'Read the postback log',
    description: 'Newest first. Every postback request, accepted or refused, with its parameters (secrets redacted).',
    auth: 'admin',
    query: postbackLogQuery,
    queryExample: { outcome: 'refused' },
    responses: listOf('postback requests', 'PostbackLogEntryPage'),
  },

  // Reports
  {
    method: 'get',
    path: `${V1}/reports`,
    operationId: 'getReport',
    tag: 'Reports',
    summary: 'Report clicks, conversions and money',
    description:
      'Totals over UTC days from the daily rollups, grouped by any of day, offer and publisher; money per currency. At most 731 days.',
    auth: 'admin',
    query: reportQuery,
    queryDocs: {
      from: 'First UTC day (default: 29 days before to)',
      to: 'Last UTC day, inclusive (default: today)',
      group_by: 'Comma-separated: day, offer, publisher (default: one total)',
    },
    queryExample: { from: '2026-11-01', to: '2026-11-30', group_by: 'day,offer' },
    responses: { 200: { description: 'The report', schema: 'Report' } },
  },

  // Documentation
  {
    method: 'get',
    path: '/',
    operationId: 'serviceIndex',
    tag: 'Documentation',
    summary: 'Name the service and where its docs are',
    auth: 'none',
    responses: { 200: { description: 'Service name and docs page', schema: 'ServiceIndex' } },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Documentation',
    summary: 'This OpenAPI document',
    auth: 'none',
    responses: {
      200: {
        description: 'OpenAPI 3.1 document; servers names the origin it was fetched from',
        json: { type: 'object' },
      },
    },
  },
  {
    method: 'get',
    path: '/api/docs',
    operationId: 'apiDocs',
    tag: 'Documentation',
    summary: 'This document as an HTML page',
    auth: 'none',
    responses: { 200: { description: 'HTML page', html: 'only' } },
  },
]);

// ---------------------------------------------------------------------------------------------
// Building the document.

const SAFE_MIN = Number.MIN_SAFE_INTEGER;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;

/** Drops what zod adds that says nothing to a reader: safe-integer bounds, date-time regexes. */
function tidy(ctx: { jsonSchema: z.core.JSONSchema.BaseSchema }) {
  const schema = ctx.jsonSchema;
  if (schema.minimum === SAFE_MIN) delete schema.minimum;
  if (schema.maximum === SAFE_MAX) delete schema.maximum;
  if (schema.format === 'date-time' || schema.format === 'date') delete schema.pattern;
}

/** The request side of a zod schema (before defaults and transforms), inline. */
export function inputSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', override: tidy }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** Writes descriptions into properties; keys are dotted paths, `[]` steps into array items. */
function describeFields(schema: JsonSchema, docs: Record<string, string>, prefix = ''): void {
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    const text = docs[path] ?? (prefix === '' ? FIELD_DOCS[name] : undefined);
    if (text && !property.description) property.description = text;
    for (const branch of [property, ...(property.anyOf ?? [])]) {
      if (branch.properties) describeFields(branch, docs, `${path}.`);
      if (branch.items?.properties) describeFields(branch.items, docs, `${path}[].`);
    }
  }
}

function queryParameters(op: OperationSpec): ParameterObject[] {
  if (!op.query) return [];
  const json = inputSchema(op.query);
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    const example = op.queryExample?.[name];
    return {
      name,
      in: 'query' as const,
      required: required.has(name),
      description: op.queryDocs?.[name] ?? FIELD_DOCS[name] ?? description ?? '',
      schema: rest,
      ...(example === undefined ? {} : { example }),
    };
  });
}

const jsonContent = (schema: JsonSchema, example?: unknown): Record<string, MediaTypeObject> => ({
  'application/json': { schema, ...(example === undefined ? {} : { example }) },
});

function requestBody(body: BodySpec, shared: Record<string, JsonSchema>): RequestBodyObject {
  let schema = inputSchema(body.schema);
  describeFields(schema, body.docs ?? {});
  if (body.component) {
    shared[body.component] = schema;
    schema = { $ref: `#/components/schemas/${body.component}` };
  }
  const content: Record<string, MediaTypeObject> =
    body.media === 'postback'
      ? {
          'application/x-www-form-urlencoded': { schema, example: body.example },
          'application/json': { schema, example: body.example },
          'multipart/form-data': { schema },
        }
      : jsonContent(schema, body.example);
  return { required: body.required, ...(body.description ? { description: body.description } : {}), content };
}

const ref = (name: ResponseName): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

function response(spec: ResponseSpec): ResponseObject {
  const content: Record<string, MediaTypeObject> = {};
  if (spec.schema) content['application/json'] = { schema: ref(spec.schema) };
  if (spec.json) content['application/json'] = { schema: spec.json };
  if (spec.html) content['text/html'] = { schema: { type: 'string' } };
  return {
    description: spec.description,
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

/** Error answers every operation of a kind can give, unless the operation names its own. */
function standardErrors(op: OperationSpec): Record<number, ResponseSpec> {
  const errors: Record<number, ResponseSpec> = {};
  if (op.auth === 'admin') {
    errors[401] = {
      description: 'Missing or wrong admin token (unauthorized)',
      schema: 'Error',
      headers: { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } },
    };
    errors[503] = { description: 'ADMIN_TOKEN is not set on this deployment (not_configured)', schema: 'Error' };
  }
  if (op.auth === 'admin' && (op.query || op.body)) {
    errors[400] = {
      description: 'Invalid input; fields names each offending field (invalid_request)',
      schema: 'Error',
    };
  }
  if (op.auth === 'admin' && op.pathParams)
    errors[404] = { description: 'No such resource (not_found)', schema: 'Error' };
  if (op.auth === 'admin' && op.body) {
    errors[413] = { description: 'Body larger than 64 KiB (payload_too_large)', schema: 'Error' };
    errors[415] = {
      description: op.body.required
        ? 'Body is not application/json (unsupported_media_type)'
        : 'A body that is not application/json (unsupported_media_type)',
      schema: 'Error',
    };
  }
  return errors;
}

const SECURITY: Record<Auth, SecurityRequirement[]> = {
  admin: [{ adminToken: [] }],
  postback: [{ postbackKey: [] }, { postbackKeyBearer: [] }, {}],
  hasoffers: [{ postbackKey: [] }, { postbackKeyBearer: [] }, { hasOffersSecurityToken: [] }, {}],
  none: [],
};

function operation(op: OperationSpec, shared: Record<string, JsonSchema>): OperationObject {
  const parameters: ParameterObject[] = [
    ...(op.pathParams ?? []).map((p) => ({
      name: p.name,
      in: 'path' as const,
      required: true,
      description: p.description,
      schema: inputSchema(p.schema),
      example: p.example,
    })),
    ...queryParameters(op),
  ];
  const all = { ...standardErrors(op), ...op.responses };
  const responses = Object.fromEntries(
    Object.keys(all)
      .map(Number)
      .sort((a, b) => a - b)
      .map((status) => [String(status), response(all[status] as ResponseSpec)]),
  );
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    security: SECURITY[op.auth],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body ? { requestBody: requestBody(op.body, shared) } : {}),
    responses,
  };
}

function componentSchemas(): Record<string, JsonSchema> {
  responseSchemas(); // registers the shapes
  const { schemas } = z.toJSONSchema(components, {
    io: 'output',
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    override: tidy,
  }) as unknown as { schemas: Record<string, JsonSchema> };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas;
}

const securitySchemes: Record<string, SecuritySchemeObject> = {
  adminToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The ADMIN_TOKEN Worker secret: Authorization: Bearer <ADMIN_TOKEN>. Every /api/v1 route needs it.',
  },
  postbackKey: {
    type: 'apiKey',
    in: 'query',
    name: 'key',
    description: 'The advertiser postback key (pbk_...) as the key parameter, in the query string or the body.',
  },
  postbackKeyBearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'pbk_...',
    description: 'The advertiser postback key as Authorization: Bearer <key>.',
  },
  hasOffersSecurityToken: {
    type: 'apiKey',
    in: 'query',
    name: 'security_token',
    description: 'HasOffers name for the postback key.',
  },
};

const DESCRIPTION = [
  'Clickhop tracks affiliate clicks and conversions on Cloudflare Workers.',
  '',
  'Conventions: JSON in and out; every error is {"error":{"code","message","fields"}} where fields names each offending input. Money is decimal text in the currency beside it (stored as integer minor units); time is UTC ISO 8601. Lists are newest or oldest first as each says and paginate with cursor: pass the next_cursor of one page to get the next; null means the last page.',
  '',
  'Postback routes without a key are accepted only for a genuine click ID of the advertiser’s offer sent from an address on its non-empty IP allow-list (the empty security requirement).',
].join('\n');

function buildDocument(): OpenApiDocument {
  const paths: Record<string, PathItemObject> = {};
  const requestSchemas: Record<string, JsonSchema> = {};
  for (const op of operations()) {
    const item = paths[op.path] ?? {};
    if (item[op.method]) throw new Error(`duplicate operation ${op.method.toUpperCase()} ${op.path}`);
    item[op.method] = operation(op, requestSchemas);
    paths[op.path] = item;
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Clickhop API',
      version: '1.0.0',
      summary: 'Affiliate click and conversion tracking: tracking links, advertiser postbacks, admin API',
      description: DESCRIPTION,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: { schemas: { ...componentSchemas(), ...requestSchemas }, securitySchemes },
  };
}

let built: OpenApiDocument | undefined;

/** The document, built once per isolate; `origin` becomes its server (where it was fetched). */
export function openApiDocument(origin?: string): OpenApiDocument {
  built ??= buildDocument();
  return origin ? { ...built, servers: [{ url: origin, description: 'This deployment' }] } : built;
}
