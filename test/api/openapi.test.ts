// The OpenAPI document and the docs page: the document lists exactly the routes the app serves
// and its request schemas refuse what the handlers refuse. openapi-answers.test.ts reads the
// handlers' real answers with its response shapes.
import { describe, expect, it } from 'vitest';
import { adminApi } from '../../src/admin';
import { app } from '../../src/app';
import { declaredOperations, openApiDocument } from '../../src/openapi/document';
import type { OperationObject } from '../../src/openapi/types';
import { BASE, createFixture, type ErrorBody, expectError, worker } from '../helpers';
import { call, doc, documented, METHODS, openApiPath, operationOf, resolve, SCHEMA_REF } from './openapi-call';

describe('the OpenAPI document', () => {
  it('is an OpenAPI 3.1 document with info, paths, components and security schemes', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBe('Clickhop API');
    expect(doc.info.version).toMatch(/./);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(20);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Error', 'Offer', 'Conversion']));
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(
      ['adminToken', 'hasOffersSecurityToken', 'portalSession', 'postbackKey', 'postbackKeyBearer'].sort(),
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
  'addClaimMessage',
  'adjustConversion',
  'changeConversionStatus',
  'createAdvertiser',
  'createCap',
  'createClaim',
  'createCoupon',
  'createEndpoint',
  'createInvoices',
  'createOffer',
  'createPublisher',
  'createSmartLink',
  'createStatements',
  'payInvoice',
  'payStatement',
  'putExchangeRate',
  'putIntegrationSecret',
  'putTotpSettings',
  'rejectClaim',
  'validateConversions',
];
const CLOSED_BODIES = [
  'acceptClaim',
  'addClaimMessage',
  'adjustConversion',
  'applyToOffer',
  'changeConversionStatus',
  'createAdvertiser',
  'createCap',
  'createClaim',
  'createCoupon',
  'createEndpoint',
  'createInvoices',
  'createOffer',
  'createPublisher',
  'createSmartLink',
  'createStatements',
  'payInvoice',
  'payStatement',
  'putExchangeRate',
  'putIntegrationSecret',
  'putPublisherPayout',
  'putTotpSettings',
  'rejectClaim',
  'resetUserPassword',
  'rotateEndpointSecret',
  'testEndpoint',
  'updateAdvertiser',
  'updateEndpoint',
  'updateOffer',
  'updatePublisher',
  'updateSmartLink',
  'updateUser',
  'validateConversions',
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

  it('the tracking link refuses every documented parameter over its limit or off its pattern, naming it', async () => {
    const fixture = await createFixture();
    const params = { offerId: fixture.offerId, publisherId: fixture.publisherId };
    const checked: string[] = [];
    for (const p of operationOf('get', '/c/{offerId}/{publisherId}').parameters ?? []) {
      if (p.in !== 'query') continue;
      const bad =
        typeof p.schema.maxLength === 'number'
          ? 'x'.repeat(p.schema.maxLength + 1)
          : typeof p.schema.pattern === 'string'
            ? 'not-a-number'
            : undefined;
      if (bad === undefined) continue;
      expectError(
        await call('get', '/c/{offerId}/{publisherId}', { params, query: { [p.name]: bad } }),
        400,
        'invalid_request',
        [p.name],
      );
      checked.push(p.name);
    }
    // sub1..sub6 and their TUNE, Awin and impact names, and the two creative ids
    expect(checked).toHaveLength(6 + 5 + 6 + 3 + 2);
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
