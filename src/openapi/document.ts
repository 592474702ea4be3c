// Assembles the OpenAPI 3.1 document from the operation declarations (the admin routers' and
// the public routes'): no list of paths or shapes of its own. Built on the first request for it
// and kept, so a cold isolate serving a click or a postback never pays for it.
import * as z from 'zod';
import { adminRouters } from '../admin';
import { SESSION_COOKIE } from '../auth/sessions';
import { INTEGRATIONS_TAG, integrationOperations } from './integration-routes';
import {
  accessOf,
  type BodySpec,
  componentId,
  components,
  type DeclaredOperation,
  type ResponseSpec,
} from './operation';
import { documentationOperations, PUBLIC_TAGS, publicOperations } from './public-routes';
import { errorShape } from './shapes';
import type {
  JsonSchema,
  MediaTypeObject,
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  PathItemObject,
  RequestBodyObject,
  ResponseObject,
  SecurityRequirement,
  SecuritySchemeObject,
  TagObject,
} from './types';

/** Every declared operation, in the order the docs page shows them. */
export function declaredOperations(): DeclaredOperation[] {
  return [
    ...publicOperations(),
    ...integrationOperations(),
    ...adminRouters.flatMap((r) => r.operations),
    ...documentationOperations(),
  ];
}

function tags(): TagObject[] {
  return [
    PUBLIC_TAGS.click,
    PUBLIC_TAGS.postback,
    INTEGRATIONS_TAG,
    PUBLIC_TAGS.browser,
    ...adminRouters.map((r) => ({ ...r.tag })),
    PUBLIC_TAGS.docs,
  ];
}

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

function queryParameters(op: DeclaredOperation): ParameterObject[] {
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
      description: description ?? '',
      schema: rest,
      ...(example === undefined ? {} : { example }),
    };
  });
}

function requestBody(body: BodySpec, shared: Record<string, JsonSchema>): RequestBodyObject {
  let schema = inputSchema(body.schema);
  if (body.component) {
    shared[body.component] = schema;
    schema = { $ref: `#/components/schemas/${body.component}` };
  }
  const example = body.example === undefined ? {} : { example: body.example };
  const content: Record<string, MediaTypeObject> =
    body.media === 'postback'
      ? {
          'application/x-www-form-urlencoded': { schema, ...example },
          'application/json': { schema, ...example },
          'multipart/form-data': { schema },
        }
      : body.media === 'csv'
        ? {
            'text/csv': {
              schema: { type: 'string', description: 'The same rows as a CSV file with a header line' },
            },
            'application/json': { schema, ...example },
          }
        : { 'application/json': { schema, ...example } };
  return { required: body.required, ...(body.description ? { description: body.description } : {}), content };
}

/**
 * A response shape as the document refers to it: a named shape, or a union of named shapes (an
 * answer that depends on who asks). Anything else has no name a client or a test could read it by.
 */
function responseSchema(schema: z.ZodType, description: string): JsonSchema {
  const id = componentId(schema);
  if (id) return { $ref: `#/components/schemas/${id}` };
  const options = schema instanceof z.ZodUnion ? (schema.options as z.ZodType[]) : [];
  const ids = options.map(componentId);
  if (ids.length > 0 && ids.every((name) => name !== undefined)) {
    return { anyOf: ids.map((name) => ({ $ref: `#/components/schemas/${name}` })) };
  }
  throw new Error(`response shape of "${description}" must be named with component() or be a union of named shapes`);
}

function responseObject(spec: ResponseSpec): ResponseObject {
  const content: Record<string, MediaTypeObject> = {};
  if (spec.schema) content['application/json'] = { schema: responseSchema(spec.schema(), spec.description) };
  if (spec.json) content['application/json'] = { schema: spec.json };
  if (spec.html) content['text/html'] = { schema: { type: 'string' } };
  if (spec.csv) content['text/csv'] = { schema: { type: 'string' } };
  return {
    description: spec.description,
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

/** Error answers every admin operation of a kind can give, unless the operation names its own. */
function standardErrors(op: DeclaredOperation): Record<number, ResponseSpec> {
  if (op.auth !== 'admin') return {};
  const access = accessOf(op);
  const errors: Record<number, ResponseSpec> = {
    401: {
      description: 'Missing or wrong admin token or API key (unauthorized)',
      schema: errorShape,
      headers: { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } },
    },
    503: { description: 'ADMIN_TOKEN is not set on this deployment (not_configured)', schema: errorShape },
  };
  if (op.query || op.body) {
    errors[400] = {
      description: 'Invalid input; fields names each offending field (invalid_request)',
      schema: errorShape,
    };
  }
  // A role without a scope rule is refused the operation; a rule hides other parties' resources.
  const refused = (['publisher', 'advertiser'] as const).filter((role) => !access?.[role]);
  if (refused.length > 0) {
    errors[403] = {
      description: `A ${refused.join(' or ')} API key or portal session cannot call this operation (forbidden)`,
      schema: errorShape,
    };
  }
  if (op.params || access) {
    errors[404] = {
      description: access
        ? 'No such resource, or one of another publisher or advertiser than the caller (not_found)'
        : 'No such resource (not_found)',
      schema: errorShape,
    };
  }
  if (op.body) {
    errors[413] = { description: 'Body larger than 64 KiB (payload_too_large)', schema: errorShape };
    errors[415] = {
      description: op.body.required
        ? 'Body is not application/json (unsupported_media_type)'
        : 'A body that is not application/json (unsupported_media_type)',
      schema: errorShape,
    };
  }
  return errors;
}

const SECURITY: Record<DeclaredOperation['auth'] | 'adminRead', SecurityRequirement[]> = {
  admin: [{ adminToken: [] }],
  // A portal session authorizes reads only: a change needs a Bearer credential.
  adminRead: [{ adminToken: [] }, { portalSession: [] }],
  postback: [{ postbackKey: [] }, { postbackKeyBearer: [] }, {}],
  hasoffers: [{ postbackKey: [] }, { postbackKeyBearer: [] }, { hasOffersSecurityToken: [] }, {}],
  none: [],
};

function operationObject(op: DeclaredOperation, shared: Record<string, JsonSchema>): OperationObject {
  const parameters: ParameterObject[] = [
    ...Object.entries(op.params ?? {}).map(([name, p]) => ({
      name,
      in: 'path' as const,
      required: true,
      description: p.description,
      schema: inputSchema(p.schema),
      example: p.example,
    })),
    ...queryParameters(op),
  ];
  // A response an operation declares without a body is an error answer of the usual shape.
  const declared = Object.fromEntries(
    Object.entries(op.responses).map(([status, spec]) => [
      status,
      Number(status) >= 400 && !spec.schema ? { ...spec, schema: errorShape } : spec,
    ]),
  );
  const all: Record<number, ResponseSpec> = { ...standardErrors(op), ...declared };
  const responses = Object.fromEntries(
    Object.keys(all)
      .map(Number)
      .sort((a, b) => a - b)
      .map((status) => [String(status), responseObject(all[status] as ResponseSpec)]),
  );
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    security: SECURITY[op.auth === 'admin' && op.method === 'get' ? 'adminRead' : op.auth],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body ? { requestBody: requestBody(op.body, shared) } : {}),
    responses,
  };
}

function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of components()) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
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
    description:
      'Authorization: Bearer <credential> on /api/v1: the ADMIN_TOKEN Worker secret (the operator: every operation), or a scoped API key chk_... (POST /api/v1/api-keys). A publisher or advertiser key reaches only the operations its role may call (403 forbidden otherwise) and only its own party’s resources (another party’s are 404).',
  },
  portalSession: {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description:
      'A signed-in portal user’s session cookie (/portal), for GET requests only, with the same scope as an API key of that user’s role.',
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
  'Postback routes without a key are accepted only for an advertiser that turned keyless_ip_auth on, for a genuine click ID of its offer sent from an address on its non-empty IP allow-list (the empty security requirement).',
].join('\n');

function buildDocument(): OpenApiDocument {
  const paths: Record<string, PathItemObject> = {};
  const requestSchemas: Record<string, JsonSchema> = {};
  for (const op of declaredOperations()) {
    const item = paths[op.path] ?? {};
    if (item[op.method]) throw new Error(`duplicate operation ${op.method.toUpperCase()} ${op.path}`);
    item[op.method] = operationObject(op, requestSchemas);
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
    tags: tags(),
    paths,
    // Response shapes are registered as the operations above are built.
    components: { schemas: { ...componentSchemas(), ...requestSchemas }, securitySchemes },
  };
}

let built: OpenApiDocument | undefined;

/** The document, built once per isolate; `origin` becomes its server (where it was fetched). */
export function openApiDocument(origin?: string): OpenApiDocument {
  built ??= buildDocument();
  return origin ? { ...built, servers: [{ url: origin, description: 'This deployment' }] } : built;
}

/** A named response shape, for reading real answers strictly in tests. */
export function responseShape(name: string): z.ZodType | undefined {
  openApiDocument();
  return components().get(name);
}
