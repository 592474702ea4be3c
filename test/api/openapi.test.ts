// The OpenAPI document and the docs page: the document lists exactly the routes the app serves,
// its request schemas refuse what the handlers refuse, and its response shapes read the answers
// the handlers really give (strictly: an undocumented field fails).
import { describe, expect, it } from 'vitest';
import { adminApi } from '../../src/admin';
import { app } from '../../src/app';
import { declaredOperations, openApiDocument, responseShape } from '../../src/openapi/document';
import type { HttpMethod, JsonSchema, OperationObject } from '../../src/openapi/types';
import {
  ADMIN,
  BASE,
  click,
  clickRow,
  createFixture,
  type ErrorBody,
  eventually,
  expectError,
  RECEIVER,
  uniqueKey,
  worker,
} from '../helpers';

const doc = openApiDocument();
const METHODS: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];
const SCHEMA_REF = '#/components/schemas/';

/** Every documented operation as "METHOD /path". */
const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
);

const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function operationOf(method: HttpMethod, path: string): OperationObject {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return op;
}

function resolve(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const target = doc.components.schemas[schema.$ref.slice(SCHEMA_REF.length)];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return target;
}

type Answer = { status: number; body: unknown; headers: Headers };

/**
 * Calls an operation and checks the answer against the document: its status is documented for
 * the operation, and its JSON body reads with the documented response shape.
 */
async function call(
  method: HttpMethod,
  path: string,
  options: {
    params?: Record<string, string | number>;
    query?: Record<string, string | number>;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const op = operationOf(method, path);
  let url = path;
  for (const [name, value] of Object.entries(options.params ?? {})) {
    url = url.replace(`{${name}}`, encodeURIComponent(String(value)));
  }
  const search = new URLSearchParams(Object.entries(options.query ?? {}).map(([k, v]) => [k, String(v)])).toString();
  const admin = op.security.some((requirement) => 'adminToken' in requirement);
  const response = await worker(`${url}${search ? `?${search}` : ''}`, {
    method: method.toUpperCase(),
    headers: {
      ...(admin ? ADMIN : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const body: unknown = text ? JSON.parse(text) : null;
  const documentedResponse = op.responses[String(response.status)];
  expect(documentedResponse, `${method} ${path} answered ${response.status}, not documented: ${text}`).toBeDefined();
  const ref = documentedResponse?.content?.['application/json']?.schema.$ref;
  if (ref) {
    const name = ref.slice(SCHEMA_REF.length);
    const shape = responseShape(name);
    expect(shape, `no response schema ${name}`).toBeDefined();
    const result = shape?.safeParse(body);
    expect(
      result?.success,
      `${method.toUpperCase()} ${path} ${response.status} does not match ${name}: ${JSON.stringify(result?.error?.issues, null, 1)}\n${text}`,
    ).toBe(true);
  }
  return { status: response.status, body, headers: response.headers };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers field by field
const json = (answer: Answer) => answer.body as any;

describe('the OpenAPI document', () => {
  it('is an OpenAPI 3.1 document with info, paths, components and security schemes', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBe('Clickhop API');
    expect(doc.info.version).toMatch(/./);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(20);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Error', 'Offer', 'Conversion']));
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(
      ['adminToken', 'hasOffersSecurityToken', 'postbackKey', 'postbackKeyBearer'].sort(),
    );
    for (const schema of Object.values(doc.components.schemas)) {
      expect(schema.$schema).toBeUndefined();
      expect(schema.$id).toBeUndefined();
    }
  });

  it('documents every admin route Hono serves, with its method, and nothing else under /api/v1', () => {
    const served = adminApi.routes
      .filter((route) => !route.path.includes('*'))
      .map((route) => `${route.method} /api/v1${openApiPath(route.path)}`);
    expect(served.length).toBeGreaterThan(25);
    const documentedAdmin = documented.filter((op) => op.split(' ')[1]?.startsWith('/api/v1/'));
    expect([...new Set(served)].sort()).toEqual(documentedAdmin.sort());
  });

  it('documents every public route of the app (the dashboard, the portal and the dev receiver are not API)', () => {
    const served = app.routes
      .filter((route) => !route.path.includes('*'))
      .filter((route) => !/^\/(api\/v1|dashboard|portal|dev)(\/|$)/.test(route.path))
      .map((route) => `${route.method} ${openApiPath(route.path)}`);
    expect(served).toEqual(expect.arrayContaining(['GET /c/{offerId}/{publisherId}', 'POST /postback/hasoffers']));
    const documentedPublic = documented.filter((op) => !op.split(' ')[1]?.startsWith('/api/v1/'));
    expect([...new Set(served)].sort()).toEqual(documentedPublic.sort());
  });

  it('declares exactly the path parameters each path names, and unique operation ids', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      const named = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        expect(ids.has(op.operationId), op.operationId).toBe(false);
        ids.add(op.operationId);
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
        expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(named);
        expect(declared.every((p) => p.required)).toBe(true);
      }
    }
  });

  it('resolves every $ref to a component schema', () => {
    const refs: string[] = [];
    const walk = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          if (key === '$ref' && typeof inner === 'string') refs.push(inner);
          else walk(inner);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(40);
    for (const ref of refs) {
      expect(ref.startsWith(SCHEMA_REF), ref).toBe(true);
      expect(doc.components.schemas[ref.slice(SCHEMA_REF.length)], ref).toBeDefined();
    }
  });

  it('describes every parameter and every request body field', () => {
    let fields = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        expect(op.summary, `${method} ${path}`).toMatch(/./);
        for (const p of op.parameters ?? []) expect(p.description, `${method} ${path} ${p.name}`).toMatch(/./);
        for (const media of Object.values(op.requestBody?.content ?? {})) {
          for (const [name, property] of Object.entries(resolve(media.schema).properties ?? {})) {
            expect(property.description, `${method} ${path} body ${name}`).toMatch(/./);
            fields++;
          }
        }
      }
    }
    expect(fields).toBeGreaterThan(50);
  });

  it('gives examples that its own request schemas accept', () => {
    let checked = 0;
    for (const op of declaredOperations()) {
      for (const [name, p] of Object.entries(op.params ?? {})) {
        expect(p.schema.safeParse(String(p.example)).success, `${op.operationId} ${name}`).toBe(true);
        // The declared example is also what the route itself reads as a resource id.
        expect(() => p.parse(String(p.example)), `${op.operationId} ${name}`).not.toThrow();
        checked++;
      }
      if (op.queryExample && op.query) {
        const asText = Object.fromEntries(Object.entries(op.queryExample).map(([k, v]) => [k, String(v)]));
        expect(op.query.safeParse(asText).error?.issues ?? [], op.operationId).toEqual([]);
        checked++;
      }
      if (op.body?.example) {
        expect(op.body.schema.safeParse(op.body.example).error?.issues ?? [], op.operationId).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});

/**
 * The operations whose required fields and closed bodies are checked against real 400s, by
 * operationId: a new operation with a required or closed body joins this list knowingly.
 */
const BODIES_WITH_REQUIRED_FIELDS = [
  'adjustConversion',
  'changeConversionStatus',
  'createAdvertiser',
  'createCap',
  'createEndpoint',
  'createOffer',
  'createPublisher',
  'createSmartLink',
  'putExchangeRate',
];
const CLOSED_BODIES = [
  'adjustConversion',
  'applyToOffer',
  'changeConversionStatus',
  'createAdvertiser',
  'createCap',
  'createEndpoint',
  'createOffer',
  'createPublisher',
  'createSmartLink',
  'putExchangeRate',
  'putPublisherPayout',
  'rotateEndpointSecret',
  'testEndpoint',
  'updateAdvertiser',
  'updateEndpoint',
  'updateOffer',
  'updatePublisher',
  'updateSmartLink',
];

describe('request schemas match what the handlers accept', () => {
  const adminOps = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const op = item[method];
      return op?.security.some((r) => 'adminToken' in r) ? [{ path, method, op }] : [];
    }),
  );

  const exampleParams = (op: OperationObject) =>
    Object.fromEntries(
      (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, p.example as string | number]),
    );

  it('an empty body is refused with 400 naming exactly the fields the document marks required', async () => {
    const checked: string[] = [];
    for (const { path, method, op } of adminOps) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (!op.requestBody?.required || !schema?.required?.length) continue;
      const answer = await call(method, path, { params: exampleParams(op), body: {} });
      expectError(answer, 400, 'invalid_request', schema.required);
      checked.push(op.operationId);
    }
    expect(checked.sort()).toEqual(BODIES_WITH_REQUIRED_FIELDS);
  });

  it('bodies the document closes (additionalProperties: false) refuse an unknown field by name', async () => {
    const checked: string[] = [];
    for (const { path, method, op } of adminOps) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (schema?.additionalProperties !== false) continue;
      const answer = await call(method, path, { params: exampleParams(op), body: { not_a_field: 1 } });
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(Object.keys((answer.body as ErrorBody).error.fields ?? {}), `${method} ${path}`).toContain('not_a_field');
      checked.push(op.operationId);
    }
    expect(checked.sort()).toEqual(CLOSED_BODIES);
  });

  it('query parameters out of their documented enum, maximum or pattern are refused with 400 naming them', async () => {
    let checked = 0;
    for (const { path, method, op } of adminOps) {
      for (const p of op.parameters ?? []) {
        if (p.in !== 'query') continue;
        let bad: string | undefined;
        if (p.schema.enum) bad = 'not-a-documented-value';
        else if (typeof p.schema.maximum === 'number') bad = String(p.schema.maximum + 1);
        else if (typeof p.schema.pattern === 'string' && !new RegExp(p.schema.pattern).test('!')) bad = '!';
        if (bad === undefined) continue;
        const answer = await call(method, path, { params: exampleParams(op), query: { [p.name]: bad } });
        expect(answer.status, `${method} ${path} ${p.name}=${bad}`).toBe(400);
        expect(Object.keys((answer.body as ErrorBody).error.fields ?? {}), `${method} ${path} ${p.name}`).toContain(
          p.name,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('the tracking link refuses a sub ID longer than the documented 255 characters, naming it', async () => {
    const fixture = await createFixture();
    const sub1 = operationOf('get', '/c/{offerId}/{publisherId}').parameters?.find((p) => p.name === 'sub1');
    expect(sub1?.schema.maxLength).toBe(255);
    const params = { offerId: fixture.offerId, publisherId: fixture.publisherId };
    expect((await call('get', '/c/{offerId}/{publisherId}', { params, query: { sub1: 'x'.repeat(255) } })).status).toBe(
      302,
    );
    const tooLong = await call('get', '/c/{offerId}/{publisherId}', { params, query: { sub1: 'x'.repeat(256) } });
    expectError(tooLong, 400, 'invalid_request', ['sub1']);
  });

  it('every postback profile refuses a status outside the documented enum, naming the parameter', async () => {
    const fixture = await createFixture();
    for (const path of [
      '/postback',
      '/postback/hasoffers',
      '/postback/tradetracker/lead',
      '/postback/tradetracker/sale',
    ]) {
      const status = operationOf('get', path).parameters?.find((p) => p.name === 'status');
      expect(status?.schema.enum).toEqual(['pending', 'approved', 'rejected', 'reversed']);
      const answer = await call('get', path, {
        query: { status: 'paid', order_id: 'O-1' },
        headers: { authorization: `Bearer ${fixture.postbackKey}` },
      });
      expectError(answer, 400, 'invalid_request', ['status']);
    }
  });
});

describe('response shapes match what the handlers answer', () => {
  it('advertisers: create (with the documented example), list, read, change, rotate key, errors', async () => {
    const example = declaredOperations().find((op) => op.operationId === 'createAdvertiser')?.body?.example;
    const created = await call('post', '/api/v1/advertisers', { body: example });
    expect(created.status).toBe(201);
    expect(json(created).name).toBe('Acme Shop');
    const id = json(created).id as number;
    expect((await call('get', '/api/v1/advertisers', { query: { limit: 1 } })).status).toBe(200);
    expect((await call('get', '/api/v1/advertisers/{id}', { params: { id } })).status).toBe(200);
    const changed = await call('patch', '/api/v1/advertisers/{id}', {
      params: { id },
      body: { ip_allowlist: ['198.51.100.0/24'] },
    });
    expect(json(changed).ip_allowlist).toEqual(['198.51.100.0/24']);
    const rotated = await call('post', '/api/v1/advertisers/{id}/postback-key', { params: { id } });
    expect(rotated.status).toBe(200);
    expect(json(rotated).postback_key).not.toBe(json(created).postback_key);
    expectError(await call('get', '/api/v1/advertisers/{id}', { params: { id: 4_000_000_000 } }), 404, 'not_found');
    expectError(
      await call('get', '/api/v1/advertisers', { headers: { authorization: 'Bearer wrong' } }),
      401,
      'unauthorized',
    );
  });

  it('publishers and offers: create, list, read, change', async () => {
    const publisher = await call('post', '/api/v1/publishers', { body: { name: 'Deal Blog' } });
    expect(publisher.status).toBe(201);
    expect((await call('get', '/api/v1/publishers')).status).toBe(200);
    const id = json(publisher).id as number;
    expect((await call('get', '/api/v1/publishers/{id}', { params: { id } })).status).toBe(200);
    expect(json(await call('patch', '/api/v1/publishers/{id}', { params: { id }, body: { name: 'Deals' } })).name).toBe(
      'Deals',
    );

    const advertiser = json(await call('post', '/api/v1/advertisers', { body: { name: 'Books Ltd' } }));
    const offer = await call('post', '/api/v1/offers', {
      body: {
        advertiser_id: advertiser.id,
        name: 'Books',
        landing_url: 'https://books.example/?cid={click_id}',
        currency: 'GBP',
        deep_link_hosts: ['books.example'],
        fallback_url: 'https://books.example/sold-out',
        goals: [
          { key: 'lead', revenue: '1.50', payout: '1.00', default: true },
          {
            key: 'sale',
            revenue_percent: 8,
            payout_percent: 4.5,
            commission_groups: [{ key: 'ebooks', revenue_percent: 12, payout_percent: 6 }],
          },
        ],
      },
    });
    expect(offer.status).toBe(201);
    expect(json(offer).goals[1].commission_groups[0]).toEqual({
      key: 'ebooks',
      revenue: '0.00',
      payout: '0.00',
      revenue_percent: 12,
      payout_percent: 6,
    });
    const list = await call('get', '/api/v1/offers', { query: { advertiser_id: advertiser.id } });
    expect(json(list).data).toHaveLength(1);
    const offerId = json(offer).id as number;
    expect((await call('get', '/api/v1/offers/{id}', { params: { id: offerId } })).status).toBe(200);
    const paused = await call('patch', '/api/v1/offers/{id}', { params: { id: offerId }, body: { status: 'paused' } });
    expect(json(paused).status).toBe('paused');
  });

  it('endpoints: create, list, read, change, rotate with no body, test send', async () => {
    const publisher = json(await call('post', '/api/v1/publishers', { body: { name: 'Hooks' } }));
    const key = uniqueKey('openapi-endpoint');
    const created = await call('post', '/api/v1/endpoints', {
      body: {
        publisher_id: publisher.id,
        url: `${RECEIVER}/${key}?cid={click_id}`,
        format: 'form',
        form_field: 'AwinTransactionPush',
        include_products: true,
      },
    });
    expect(created.status).toBe(201);
    const id = json(created).id as number;
    expect(json(await call('get', '/api/v1/endpoints', { query: { publisher_id: publisher.id } })).data).toHaveLength(
      1,
    );
    expect((await call('get', '/api/v1/endpoints/{id}', { params: { id } })).status).toBe(200);
    const changed = await call('patch', '/api/v1/endpoints/{id}', {
      params: { id },
      body: { include_click_data: true },
    });
    expect(json(changed).include_click_data).toBe(true);
    // The document says the body may be omitted.
    expect(operationOf('post', '/api/v1/endpoints/{id}/rotate-secret').requestBody?.required).toBe(false);
    const rotated = await call('post', '/api/v1/endpoints/{id}/rotate-secret', { params: { id } });
    expect(rotated.status).toBe(200);
    expect(json(rotated).previous_secret_expires_at).not.toBeNull();
    const tested = await call('post', '/api/v1/endpoints/{id}/test', {
      params: { id },
      body: { event: 'conversion.approved' },
    });
    expect(tested.status).toBe(200);
    expect(json(tested).ok).toBe(true);
    expect(json(tested).response.status).toBe(200);
    const disabled = await call('patch', '/api/v1/endpoints/{id}', { params: { id }, body: { status: 'disabled' } });
    expect(json(disabled)).toMatchObject({ status: 'disabled', disabled_reason: 'disabled by operator' });
  });

  it('a click, its postback and what follows: clicks, conversions, deliveries, postback log, report', async () => {
    const fixture = await createFixture();
    const key = uniqueKey('openapi-flow');
    await call('post', '/api/v1/endpoints', {
      body: { publisher_id: fixture.publisherId, url: `${RECEIVER}/${key}`, format: 'json', include_click_data: true },
    });
    const clickId = await click(fixture, '?sub1=spring');
    await eventually(() => clickRow(clickId));
    const clicks = await call('get', '/api/v1/clicks', { query: { offer_id: fixture.offerId } });
    expect(json(clicks).data.map((c: { click_id: string }) => c.click_id)).toEqual([clickId]);

    const bearer = { authorization: `Bearer ${fixture.postbackKey}` };
    const sale = { click_id: clickId, event: 'sale', order_id: 'SO-1', amount: '40.00' };
    const recorded = await call('get', '/postback', { query: sale, headers: bearer });
    expect(recorded.status).toBe(200);
    expect(json(recorded)).toMatchObject({ duplicate: false, amount: '40.00', revenue: '4.00', payout: '2.00' });
    const conversionId = json(recorded).conversion_id as string;
    const replay = await call('post', '/postback', { body: sale, headers: bearer });
    expect(json(replay)).toMatchObject({ conversion_id: conversionId, duplicate: true });
    expectError(await call('get', '/postback', { query: sale }), 401, 'unauthorized', ['key']);

    const list = await call('get', '/api/v1/conversions', { query: { offer_id: fixture.offerId } });
    expect(json(list).data).toHaveLength(1);
    const detail = await call('get', '/api/v1/conversions/{id}', { params: { id: conversionId } });
    expect(json(detail).events).toHaveLength(1);
    const approved = await call('post', '/api/v1/conversions/{id}/status', {
      params: { id: conversionId },
      body: { status: 'approved', reason: 'shipped' },
    });
    expect(json(approved)).toMatchObject({ status: 'approved', changed: true, previous_status: 'pending' });
    expectError(
      await call('post', '/api/v1/conversions/{id}/status', {
        params: { id: conversionId },
        body: { status: 'pending' },
      }),
      409,
      'illegal_status_change',
    );

    const delivered = await eventually(async () => {
      const page = json(await call('get', '/api/v1/deliveries', { query: { conversion_id: conversionId } }));
      return page.data.length === 2 && page.data.every((d: { status: string }) => d.status === 'delivered')
        ? page.data
        : null;
    });
    const deliveryId = delivered[0].id as string;
    const deliveryDetail = await call('get', '/api/v1/deliveries/{id}', { params: { id: deliveryId } });
    expect(json(deliveryDetail).attempts).toHaveLength(1);
    const resent = await call('post', '/api/v1/deliveries/{id}/resend', { params: { id: deliveryId } });
    expect(resent.status).toBe(202);

    const lookup = await call('get', '/api/v1/clicks/{clickId}', { params: { clickId } });
    expect(json(lookup)).toMatchObject({ landed: true, click: { sub1: 'spring' } });
    expect(json(lookup).conversions.map((c: { id: string }) => c.id)).toEqual([conversionId]);
    expectError(
      await call('get', '/api/v1/clicks/{clickId}', { params: { clickId: 'forged' } }),
      404,
      'click_not_found',
    );

    const log = await call('get', '/api/v1/postbacks', { query: { click_id: clickId } });
    expect(json(log).data.map((row: { outcome: string }) => row.outcome)).toEqual(['refused', 'duplicate', 'created']);

    const report = await call('get', '/api/v1/reports', {
      query: { group_by: 'day,offer,publisher', offer_id: fixture.offerId },
    });
    expect(json(report).data).toHaveLength(1);
    expect(json(report).data[0]).toMatchObject({ clicks: 1, currency: 'EUR', payout: '2.00', epc: '2.00' });
  });

  it("the drop-in paths answer as documented: TUNE's /aff_lsr and /aff_goal, TradeTracker's root callbacks", async () => {
    const fixture = await createFixture();
    const bearer = { authorization: `Bearer ${fixture.postbackKey}` };
    const clickIds = await Promise.all([1, 2, 3, 4].map(() => click(fixture)));
    await eventually(async () => ((await Promise.all(clickIds.map(clickRow))).every(Boolean) ? true : null));
    const [lsrClick, goalClick, rootGetClick, rootPostClick] = clickIds as [string, string, string, string];

    const lsr = await call('get', '/aff_lsr', {
      query: { transaction_id: lsrClick, adv_sub: 'TUNE-1', amount: '40.00', goal_id: 'sale' },
      headers: bearer,
    });
    expect(json(lsr)).toMatchObject({ outcome: 'created', event: 'sale', order_id: 'TUNE-1', payout: '2.00' });
    const goal = await call('post', '/aff_goal', {
      query: { a: 'lsr' },
      body: { transaction_id: goalClick, goal_id: 'lead', adv_sub: 'TUNE-2' },
      headers: bearer,
    });
    expect(json(goal)).toMatchObject({ outcome: 'created', event: 'lead', payout: '2.00' });

    // On a host that is neither tl. nor ts., an amount makes the callback a sale.
    const sale = await call('get', '/', {
      query: { s2s: '1', data: rootGetClick, tid: 'TT-1', tam: '40.00', currency: 'EUR' },
      headers: bearer,
    });
    expect(json(sale)).toMatchObject({ outcome: 'created', event: 'sale', order_id: 'TT-1' });
    const lead = await call('post', '/', {
      query: { s2s: '1' },
      body: { data: rootPostClick, tid: 'TT-2' },
      headers: bearer,
    });
    expect(json(lead)).toMatchObject({ outcome: 'created', event: 'lead', order_id: 'TT-2' });
    expectError(await call('post', '/', { body: { data: rootPostClick }, headers: bearer }), 404, 'not_found');
  });

  it('the service index names the docs page', async () => {
    const index = await call('get', '/');
    expect(json(index)).toEqual({ service: 'clickhop', docs: '/api/docs' });
  });
});

describe('GET /api/openapi.json and GET /api/docs', () => {
  it('serves the document without a token, with this origin as its server', async () => {
    const response = await worker('/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await response.json()) as typeof doc;
    expect(body.servers).toEqual([{ url: BASE, description: 'This deployment' }]);
    expect(body).toEqual(JSON.parse(JSON.stringify(openApiDocument(BASE))));
  });

  it('serves an HTML page without a token that shows every operation, with no scripts', async () => {
    const response = await worker('/api/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    // Every method the API uses is rendered, PUT and DELETE as well as GET, POST and PATCH.
    const methods = new Set(documented.map((entry) => entry.split(' ')[0]));
    expect([...methods].sort()).toEqual(['DELETE', 'GET', 'PATCH', 'POST', 'PUT']);
    for (const entry of documented) {
      const [method, path] = entry.split(' ') as [string, string];
      expect(html, entry).toContain(`<code class="path">${path}</code>`);
      expect(html, entry).toContain(`<span class="method ${method.toLowerCase()}">${method}</span>`);
    }
    for (const name of Object.keys(doc.components.schemas)) expect(html).toContain(`id="schema-${name}"`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="https?:/);
    // Examples are runnable against this deployment and keep secrets in shell variables.
    expect(html).toContain(`curl -X POST &#39;${BASE}/api/v1/offers&#39;`);
    expect(html).toContain('-H &quot;Authorization: Bearer $ADMIN_TOKEN&quot;');
  });
});
