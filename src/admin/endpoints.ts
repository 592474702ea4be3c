// /api/v1/endpoints: a publisher's notification endpoints. The signing secret is shown only at
// creation and rotation. Every save re-validates the whole endpoint: macros, method/format,
// destination safety, publisher and offer filter (endpoint-settings.ts); shapes in endpoint-shapes.ts.
import { type EndpointRow, getEndpoint, listEndpoints, updateEndpoint } from '../db/endpoints';
import { getPublisher } from '../db/publishers';
import { ApiError, notFound } from '../lib/errors';
import { nowIso } from '../lib/time';
import { type EndpointEventType, isConversionEvent } from '../notify/events';
import { sendTestNotification } from '../notify/sample';
import { newSigningSecret } from '../notify/signing';
import { ApiRoutes } from '../openapi/operation';
import {
  insertEndpointWithinLimits,
  MAX_ACTIVE_ENDPOINTS,
  MAX_ENDPOINTS,
  updateEndpointWithinLimits,
} from './endpoint-limit';
import {
  defaultEvents,
  type EndpointSettings,
  presetFormat,
  resolveShape,
  validateSettings,
} from './endpoint-settings';
import {
  endpointCreate,
  endpointShapes,
  endpointUpdate,
  presentEndpoint,
  rotateSecretInput,
  testInput,
} from './endpoint-shapes';
import { cursorAfterId, page, pageQuery } from './pagination';
import { filters, idPath } from './schemas';

const unique = <T>(items: T[]) => [...new Set(items)];

async function loadEndpoint(db: D1Database, id: number): Promise<EndpointRow> {
  const row = await getEndpoint(db, id);
  if (!row) throw notFound('Endpoint');
  return row;
}

export const endpointRoutes = new ApiRoutes('/api/v1/endpoints', {
  name: 'Endpoints',
  description: "Publishers' notification endpoints, their signing secrets and test sends.",
});

const endpointId = idPath('Endpoint');
const withSecret = () => endpointShapes().EndpointWithSecret;

endpointRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'createEndpoint',
    summary: 'Create a notification endpoint',
    description:
      'Unknown macros, a method that does not fit the format, a private or non-standard-port destination and unknown offer ids are refused with every problem named. The answer carries the signing secret, shown this once.',
    auth: 'admin',
    body: {
      schema: endpointCreate,
      required: true,
      example: {
        publisher_id: 1,
        url: 'https://hooks.publisher.example/clickhop',
        method: 'POST',
        format: 'json',
        events: ['conversion.created', 'conversion.approved'],
      },
    },
    responses: {
      201: { description: 'Created, with its signing secret', schema: withSecret },
      409: {
        description: `endpoint_limit_reached: the publisher already has ${MAX_ACTIVE_ENDPOINTS} active endpoints, or ${MAX_ENDPOINTS} in all`,
      },
    },
  },
  async (c, { body }) => {
    const settings: EndpointSettings = {
      url: body.url,
      ...resolveShape({ ...body, format: body.format ?? presetFormat(body.preset) }),
      form_field: body.form_field,
      preset: body.preset,
      body_template: body.body_template,
      events: unique(body.events ?? defaultEvents(body.preset)),
      offer_ids: body.offer_ids ? unique(body.offer_ids) : null,
    };
    const savedBy = c.get('principal').role;
    await validateSettings(c.env, settings, savedBy);
    if (!(await getPublisher(c.env.DB, body.publisher_id))) {
      throw new ApiError(400, 'invalid_request', 'Unknown publisher_id', { publisher_id: 'no such publisher' });
    }
    const signingSecret = newSigningSecret();
    const now = nowIso();
    const row = await insertEndpointWithinLimits(c.env.DB, {
      publisher_id: body.publisher_id,
      url: settings.url,
      method: settings.method,
      format: settings.format,
      form_field: settings.form_field,
      preset: settings.preset,
      body_template: settings.body_template,
      events: JSON.stringify(settings.events),
      offer_ids: settings.offer_ids ? JSON.stringify(settings.offer_ids) : null,
      include_products: body.include_products ? 1 : 0,
      include_click_data: body.include_click_data ? 1 : 0,
      signing_secret: signingSecret,
      previous_signing_secret: null,
      previous_secret_expires_at: null,
      status: body.status,
      disabled_reason: body.status === 'disabled' ? 'disabled by operator' : null,
      saved_by: savedBy === 'operator' ? 'operator' : 'publisher',
      created_at: now,
      updated_at: now,
    });
    return { status: 201, body: { ...presentEndpoint(row), signing_secret: signingSecret } };
  },
);

endpointRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listEndpoints',
    summary: 'List endpoints',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery.extend({ publisher_id: filters.publisher_id() }),
    responses: { 200: { description: 'A page of endpoints', schema: () => endpointShapes().EndpointPage } },
  },
  async (c, { query }) => {
    const after = cursorAfterId(query.cursor);
    const rows = await listEndpoints(c.env.DB, { publisher_id: query.publisher_id }, after, query.limit + 1);
    return { status: 200, body: page(rows, query.limit, (r) => r.id, presentEndpoint) };
  },
);

endpointRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getEndpoint',
    summary: 'Read an endpoint',
    auth: 'admin',
    params: { id: endpointId },
    responses: { 200: { description: 'The endpoint', schema: () => endpointShapes().Endpoint } },
  },
  async (c, { params }) => ({ status: 200, body: presentEndpoint(await loadEndpoint(c.env.DB, params.id)) }),
);

endpointRoutes.route(
  {
    method: 'patch',
    path: '/{id}',
    operationId: 'updateEndpoint',
    summary: 'Change an endpoint',
    description: 'Any change but disabling or the include_* toggles re-validates the whole endpoint, as at creation.',
    auth: 'admin',
    params: { id: endpointId },
    body: { schema: endpointUpdate, required: true, example: { status: 'disabled' } },
    responses: {
      200: { description: 'The changed endpoint', schema: () => endpointShapes().Endpoint },
      409: {
        description: `endpoint_limit_reached: activating it would exceed ${MAX_ACTIVE_ENDPOINTS} active endpoints`,
      },
    },
  },
  async (c, { params: { id }, body }) => {
    const current = await loadEndpoint(c.env.DB, id);
    const shape = resolveShape({ ...body, format: body.format ?? presetFormat(body.preset) }, current);
    const settings: EndpointSettings = {
      url: body.url ?? current.url,
      ...shape,
      // Leaving format form drops the form field; otherwise it stays unless changed.
      form_field: body.form_field !== undefined ? body.form_field : shape.format === 'form' ? current.form_field : null,
      preset: body.preset !== undefined ? body.preset : current.preset,
      // A GET endpoint has no body: leaving a POST format drops the template.
      body_template:
        body.body_template !== undefined ? body.body_template : shape.method === 'POST' ? current.body_template : null,
      events: body.events ? unique(body.events) : (JSON.parse(current.events) as EndpointEventType[]),
      offer_ids:
        body.offer_ids !== undefined
          ? body.offer_ids && unique(body.offer_ids)
          : current.offer_ids
            ? (JSON.parse(current.offer_ids) as number[])
            : null,
    };
    // Disabling (or toggling what payloads include) is always allowed, even for an endpoint whose
    // URL would no longer pass; anything else, including enabling, re-validates the whole endpoint.
    // A publisher's scope rule puts its own publisher_id into the body: that changes nothing either.
    const onlyHarmless = Object.keys(body).every(
      (k) => k === 'include_products' || k === 'include_click_data' || k === 'status' || k === 'publisher_id',
    );
    // Who saved the delivery settings decides which macros render (src/auth/money-view.ts); a
    // save that leaves them as they were keeps it.
    const savedBy = c.get('principal').role;
    const validated = !onlyHarmless || body.status === 'active';
    if (validated) await validateSettings(c.env, settings, savedBy);
    const statusChange =
      body.status === undefined || body.status === current.status
        ? {}
        : { status: body.status, disabled_reason: body.status === 'disabled' ? 'disabled by operator' : null };
    const row = await updateEndpointWithinLimits(
      c.env.DB,
      current,
      {
        url: settings.url,
        method: settings.method,
        format: settings.format,
        form_field: settings.form_field,
        preset: settings.preset,
        body_template: settings.body_template,
        events: JSON.stringify(settings.events),
        offer_ids: settings.offer_ids ? JSON.stringify(settings.offer_ids) : null,
        include_products: body.include_products === undefined ? undefined : body.include_products ? 1 : 0,
        include_click_data: body.include_click_data === undefined ? undefined : body.include_click_data ? 1 : 0,
        saved_by: validated ? (savedBy === 'operator' ? 'operator' : 'publisher') : undefined,
        ...statusChange,
      },
      nowIso(),
    );
    return { status: 200, body: presentEndpoint(row) };
  },
);

endpointRoutes.route(
  {
    method: 'post',
    path: '/{id}/rotate-secret',
    operationId: 'rotateEndpointSecret',
    summary: 'Rotate the signing secret',
    description:
      'The previous secret keeps signing beside the new one for grace_hours, so the publisher can switch without losing deliveries. An empty body uses the default.',
    auth: 'admin',
    params: { id: endpointId },
    body: { schema: rotateSecretInput, required: false, example: { grace_hours: 24 } },
    responses: { 200: { description: 'The endpoint with its new secret', schema: withSecret } },
  },
  async (c, { params: { id }, body }) => {
    const current = await loadEndpoint(c.env.DB, id);
    const signingSecret = newSigningSecret();
    const now = Date.now();
    const row = await updateEndpoint(
      c.env.DB,
      id,
      {
        signing_secret: signingSecret,
        previous_signing_secret: body.grace_hours > 0 ? current.signing_secret : null,
        previous_secret_expires_at:
          body.grace_hours > 0 ? new Date(now + body.grace_hours * 3_600_000).toISOString() : null,
      },
      new Date(now).toISOString(),
    );
    if (!row) throw notFound('Endpoint');
    return { status: 200, body: { ...presentEndpoint(row), signing_secret: signingSecret } };
  },
);

endpointRoutes.route(
  {
    method: 'post',
    path: '/{id}/test',
    operationId: 'testEndpoint',
    summary: 'Send a sample notification',
    description:
      'Sends a clearly marked sample event (test: true, ids prefixed test_) straight to the endpoint, not through the Queue and not logged as a delivery, and answers with the request made and the response received (200 even when the endpoint failed: see ok).',
    auth: 'admin',
    params: { id: endpointId },
    body: { schema: testInput, required: false, example: { event: 'conversion.approved' } },
    responses: {
      200: { description: 'What was sent and what came back', schema: () => endpointShapes().EndpointTestReport },
    },
  },
  async (c, { params: { id }, body }) => {
    const endpoint = await loadEndpoint(c.env.DB, id);
    const events = JSON.parse(endpoint.events) as EndpointEventType[];
    const event = body.event ?? events.find(isConversionEvent) ?? 'conversion.created';
    return { status: 200, body: await sendTestNotification(c.env, endpoint, event) };
  },
);
