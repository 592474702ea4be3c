// Calling operations as the OpenAPI document describes them, for the openapi tests: the answer's
// status must be documented for the operation and its JSON body must read with the documented
// response shape (strictly: an undocumented field fails).
import { expect } from 'vitest';
import { openApiDocument, responseShape } from '../../src/openapi/document';
import type { HttpMethod, JsonSchema, OperationObject } from '../../src/openapi/types';
import { ADMIN, worker } from '../helpers';

export const doc = openApiDocument();
export const METHODS: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];
export const SCHEMA_REF = '#/components/schemas/';

/** Every documented operation as "METHOD /path". */
export const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
);

export const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function operationOf(method: HttpMethod, path: string): OperationObject {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return op;
}

export function resolve(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const target = doc.components.schemas[schema.$ref.slice(SCHEMA_REF.length)];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return target;
}

export type Answer = { status: number; body: unknown; headers: Headers };

/**
 * Calls an operation and checks the answer against the document: its status is documented for
 * the operation, and its JSON body reads with the documented response shape.
 */
export async function call(
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
  // A named shape, or a union of named shapes (the answer must read strictly with one of them).
  const schema = documentedResponse?.content?.['application/json']?.schema;
  const refs = (schema?.$ref ? [schema] : (schema?.anyOf ?? [])).flatMap((s) => (s.$ref ? [s.$ref] : []));
  if (refs.length > 0) {
    const results = refs.map((ref) => {
      const name = ref.slice(SCHEMA_REF.length);
      const shape = responseShape(name);
      expect(shape, `no response schema ${name}`).toBeDefined();
      return { name, result: shape?.safeParse(body) };
    });
    expect(
      results.some(({ result }) => result?.success),
      `${method.toUpperCase()} ${path} ${response.status} does not match ${results
        .map(({ name, result }) => `${name}: ${JSON.stringify(result?.error?.issues, null, 1)}`)
        .join('\n')}\n${text}`,
    ).toBe(true);
  }
  return { status: response.status, body, headers: response.headers };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers field by field
export const json = (answer: Answer) => answer.body as any;
