// One declaration per operation: method, path, inputs, answers, summary and description, kept
// beside the handler. `ApiRoutes` registers the Hono route from the declaration (parsing the
// inputs with its schemas) and keeps the declaration for the OpenAPI document.
import { type Context, Hono } from 'hono';
import type * as z from 'zod';
import type { Principal } from '../auth/principal';
import { ApiError, notFound } from '../lib/errors';
import { jsonBody, optionalJsonBody, parseWith } from '../lib/validate';
import type { HeaderObject, HttpMethod, JsonSchema, TagObject } from './types';

/**
 * A value built on first use. Response schemas are built this way: building zod schemas costs
 * CPU at isolate start, and only the document and the tests read them.
 */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}

const named = new Map<string, z.ZodType>();
const ids = new Map<z.ZodType, string>();

/** Names a response shape: the document puts it under components.schemas and refers to it. */
export function component<T extends z.ZodType>(id: string, schema: T): T {
  const existing = named.get(id);
  if (existing && existing !== schema) throw new Error(`two response shapes named ${id}`);
  named.set(id, schema);
  ids.set(schema, id);
  return schema;
}

/** The name of a response shape, if it has one. */
export const componentId = (schema: z.ZodType): string | undefined => ids.get(schema);

/** Every named response shape built so far, by name. */
export const components = (): ReadonlyMap<string, z.ZodType> => named;

/** Who may call an operation (the document's security requirements). */
export type Auth = 'admin' | 'postback' | 'hasoffers' | 'none';

/**
 * A path parameter: the schema documents it; `parse` reads it, and anything that names no
 * resource is a 404 (never a 400: a malformed id is just an id that does not exist).
 */
export interface PathParam<T> {
  schema: z.ZodType;
  description: string;
  example: string | number;
  parse: (text: string) => T;
}

/** The one way path ids are read: `read` returns null for text that names no `what`. */
export function pathParam<T>(spec: {
  what: string;
  schema: z.ZodType;
  description: string;
  example: string | number;
  read: (text: string) => T | null;
}): PathParam<T> {
  return {
    schema: spec.schema,
    description: spec.description,
    example: spec.example,
    parse: (text) => {
      const value = spec.read(text);
      if (value === null) throw notFound(spec.what);
      return value;
    },
  };
}

export interface BodySpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** false: an empty POST reads as an empty object. */
  required: boolean;
  example?: Record<string, unknown>;
  description?: string;
  /** Postbacks take form and multipart bodies as well as JSON; a file upload, CSV as well. */
  media?: 'json' | 'postback' | 'csv';
  /**
   * Reads and checks the body itself (a large file, CSV or JSON), instead of a JSON body of at
   * most 64 KiB checked by `schema`; `schema` still documents the JSON form.
   */
  read?: (request: Request) => Promise<unknown>;
  /** Puts the request schema under components.schemas with this name. */
  component?: string;
}

export interface ResponseSpec<S extends z.ZodType = z.ZodType> {
  description: string;
  /** The JSON body's shape, built on first use. */
  schema?: () => S;
  headers?: Record<string, HeaderObject>;
  /** text/html as well (click errors for browsers), or text/html only (the docs page). */
  html?: 'also' | 'only';
  /** A JSON answer that is not a named shape (the document itself). */
  json?: JsonSchema;
  /** text/csv as well, for a request whose Accept names it: the JSON answer written as CSV. */
  csv?: (body: never) => string;
}

/** Whether a request asks for CSV rather than JSON (Accept: text/csv). */
export const wantsCsv = (c: Context) => /(^|,)\s*text\/csv\b/i.test(c.req.header('accept') ?? '');

export interface OperationSpec {
  method: HttpMethod;
  /** OpenAPI form, relative to the router: '' or '/{id}/status'. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  auth: Auth;
  /** What a 404 names when a scope rule hides the resource ("Endpoint not found"). */
  resourceName?: string;
  /**
   * Who besides the operator may call it, and how their scope applies (src/admin/access.ts).
   * Admin operations must say; a role without a rule gets 403 forbidden.
   */
  access?: Access;
  /** A change to record in the audit log: the resource kind and how to read it before the change. */
  audit?: AuditSpec;
  params?: Record<string, PathParam<unknown>>;
  query?: z.ZodObject;
  queryExample?: Record<string, string | number>;
  body?: BodySpec;
  responses: Record<number, ResponseSpec>;
}

/** A declaration as the document reads it: full path and tag. */
export interface DeclaredOperation extends OperationSpec {
  tag: string;
}

type SuccessStatus = 200 | 201 | 202;

type ParamValues<P> = { [K in keyof P]: P[K] extends PathParam<infer T> ? T : never };

/** What a handler receives: its path parameters, query and body, parsed by their schemas. */
export interface Input<S extends OperationSpec> {
  params: S['params'] extends Record<string, PathParam<unknown>> ? ParamValues<S['params']> : Record<string, never>;
  query: S['query'] extends z.ZodType ? z.output<S['query']> : undefined;
  body: S['body'] extends { read: (request: Request) => Promise<infer R> }
    ? R
    : S['body'] extends BodySpec<infer B>
      ? z.output<B>
      : undefined;
}

/** What a handler answers: a documented success status with a body of that status's shape. */
export type Answer<S extends OperationSpec> = {
  [K in keyof S['responses'] & SuccessStatus]: S['responses'][K] extends { schema: () => infer R extends z.ZodType }
    ? { status: K; body: z.input<R> }
    : never;
}[keyof S['responses'] & SuccessStatus];

export type ApiEnv = { Bindings: Env; Variables: { principal: Principal } };

/** The parsed inputs a scope rule reads and may narrow (forcing a filter to the caller's party). */
export interface RawInput {
  params: Record<string, unknown>;
  query: Record<string, unknown> | undefined;
  body: Record<string, unknown> | undefined;
}

/** A role's scope rule: false when the input names another party's resource (answered 404). */
export type ScopeRule = ((principal: Principal, input: RawInput, env: Env) => boolean | Promise<boolean>) & {
  /** A body field set to the caller's party id when the request leaves it out (it is implied). */
  impliedBodyField?: string;
};

export interface AuditSpec {
  resource: string;
  /** The resource before the change, from the path parameters (updates, status changes). */
  before?: (env: Env, params: Record<string, unknown>) => Promise<unknown>;
}

/**
 * Opens the audit entry of a change before its handler runs (it may give the handler a database
 * that writes the entry with the change) and completes it with the answer; set by the admin API
 * (src/admin/audit-trail.ts).
 */
export type AuditWriter = (
  c: Context<ApiEnv>,
  audit: AuditSpec,
  spec: OperationSpec,
  params: Record<string, unknown>,
  before: unknown,
) => { finish: (after: unknown) => Promise<void> };

let auditWriter: AuditWriter | undefined;
let accessTable: Readonly<Record<string, Access>> = {};
let auditTable: Readonly<Record<string, AuditSpec>> = {};

/**
 * Scope rules and audited changes of operations declared before partner access existed, by
 * operationId (src/admin/access.ts); a declaration's own `access` / `audit` comes first.
 */
export const setPolicies = (access: Record<string, Access>, audit: Record<string, AuditSpec>) => {
  accessTable = access;
  auditTable = audit;
};

export const accessOf = (spec: OperationSpec): Access | undefined => spec.access ?? accessTable[spec.operationId];
export const auditOf = (spec: OperationSpec): AuditSpec | undefined => spec.audit ?? auditTable[spec.operationId];
export const setAuditWriter = (writer: AuditWriter) => {
  auditWriter = writer;
};

export interface Access {
  publisher?: ScopeRule;
  advertiser?: ScopeRule;
}

/**
 * The one place scope is enforced: the operator passes; another role without a rule is
 * refused (403); with a rule, the rule narrows the input or the resource is not found (404).
 */
function accessRule(c: Context<ApiEnv>, spec: OperationSpec): ScopeRule | null {
  if (spec.auth !== 'admin') return null;
  const principal = c.get('principal');
  // Fail closed: an admin operation reached without the auth middleware serves nobody.
  if (!principal) throw new ApiError(401, 'unauthorized', 'Missing or wrong admin token or API key');
  if (principal.role === 'operator') return null;
  const rule = accessOf(spec)?.[principal.role];
  if (!rule) throw new ApiError(403, 'forbidden', `A ${principal.role} key or user cannot call ${spec.operationId}`);
  return rule;
}

async function readInput(c: Context<ApiEnv>, spec: OperationSpec, rule: ScopeRule | null) {
  const params: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(spec.params ?? {})) params[name] = param.parse(c.req.param(name) ?? '');
  const query = spec.query ? parseWith(spec.query, c.req.query()) : undefined;
  if (spec.body?.read) return { params, query, body: await spec.body.read(c.req.raw) };
  let raw: unknown;
  if (spec.body) {
    raw = spec.body.required ? await jsonBody(c) : await optionalJsonBody(c);
    // A party field the caller's scope implies (publisher_id of a publisher's endpoint) may be left out.
    const implied = rule?.impliedBodyField;
    const principal = c.get('principal');
    if (implied && raw && typeof raw === 'object' && !(implied in raw) && principal.role !== 'operator') {
      (raw as Record<string, unknown>)[implied] =
        principal.role === 'publisher' ? principal.publisherId : principal.advertiserId;
    }
  }
  const body = spec.body ? parseWith(spec.body.schema, raw) : undefined;
  return { params, query, body };
}

/** A router of one resource: its Hono routes and their declarations, with the resource's tag. */
export class ApiRoutes {
  readonly app = new Hono<ApiEnv>();
  readonly operations: DeclaredOperation[] = [];

  constructor(
    /** Full path of the router in the app, e.g. /api/v1/offers. */
    readonly prefix: string,
    readonly tag: TagObject,
  ) {}

  route<const S extends OperationSpec>(
    spec: S,
    handler: (c: Context<ApiEnv>, input: Input<S>) => Promise<Answer<S>>,
  ): void {
    this.operations.push({ ...spec, path: `${this.prefix}${spec.path}`, tag: this.tag.name });
    const honoPath = spec.path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1') || '/';
    this.app.on(spec.method.toUpperCase(), honoPath, async (c) => {
      // The role is checked before the input (a forbidden caller learns nothing about it), the
      // scope after (it reads the parsed ids).
      const rule = accessRule(c, spec);
      const raw = (await readInput(c, spec, rule)) as RawInput;
      if (rule && !(await rule(c.get('principal'), raw, c.env))) throw notFound(spec.resourceName ?? 'Resource');
      const input = raw as unknown as Input<S>;
      const audit = auditOf(spec);
      const before = audit?.before ? await audit.before(c.env, raw.params) : undefined;
      const trail = audit && auditWriter ? auditWriter(c, audit, spec, raw.params, before) : undefined;
      const { status, body } = await handler(c, input);
      await trail?.finish(body);
      const csv = (spec.responses[status] as ResponseSpec | undefined)?.csv;
      if (csv && wantsCsv(c)) {
        return c.body((csv as (body: unknown) => string)(body), status, {
          'content-type': 'text/csv; charset=utf-8',
          'x-content-type-options': 'nosniff',
        });
      }
      return c.json(body, status);
    });
  }
}
