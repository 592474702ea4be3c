// The OpenAPI document rendered as one server-side HTML page: no scripts, no build step, nothing
// fetched from elsewhere. Every text from the document is escaped (Hono's escaping).
import { escapeHtml } from '../dashboard/html';
import type { JsonSchema, OpenApiDocument, OperationObject, ParameterObject, ResponseObject } from './types';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-');

const SCHEMA_REF = '#/components/schemas/';

/** Paragraphs of a description, escaped, with `code` spans for text between backticks. */
function prose(text: string | undefined): string {
  if (!text) return '';
  return text
    .split(/\n{2,}/)
    .map((para) => `<p>${escapeHtml(para).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
    .join('');
}

function refName(schema: JsonSchema): string | undefined {
  return schema.$ref?.startsWith(SCHEMA_REF) ? schema.$ref.slice(SCHEMA_REF.length) : undefined;
}

/** A short type for a reader: string, integer | null, array of Conversion, object of string. */
function typeLabel(schema: JsonSchema): string {
  const name = refName(schema);
  if (name) return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  if (schema.const !== undefined) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`;
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return branches.map(typeLabel).join(' | ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return 'any';
  return types
    .map((type) => {
      if (type === 'array') return schema.items ? `array of ${typeLabel(schema.items)}` : 'array';
      if (type === 'object' && typeof schema.additionalProperties === 'object') {
        return `object of ${typeLabel(schema.additionalProperties)}`;
      }
      if (type === 'string' && schema.format) return `string (${escapeHtml(schema.format)})`;
      return escapeHtml(type);
    })
    .join(' | ');
}

/** Limits and allowed values, from the schema and its branches. */
function constraints(schema: JsonSchema): string[] {
  const notes: string[] = [];
  const code = (value: unknown) =>
    `<code>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</code>`;
  for (const s of [schema, ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) {
    if (s.enum) notes.push(`one of ${s.enum.map(code).join(', ')}`);
    if (typeof s.minimum === 'number') notes.push(`≥ ${s.minimum}`);
    if (typeof s.exclusiveMinimum === 'number') notes.push(`> ${s.exclusiveMinimum}`);
    if (typeof s.maximum === 'number') notes.push(`≤ ${s.maximum}`);
    if (typeof s.minLength === 'number') notes.push(`at least ${s.minLength} characters`);
    if (typeof s.maxLength === 'number') notes.push(`at most ${s.maxLength} characters`);
    if (typeof s.minItems === 'number') notes.push(`at least ${s.minItems} items`);
    if (typeof s.maxItems === 'number') notes.push(`at most ${s.maxItems} items`);
    if (typeof s.pattern === 'string') notes.push(`pattern ${code(s.pattern)}`);
  }
  if (schema.default !== undefined) notes.push(`default ${code(schema.default)}`);
  if (schema.additionalProperties === false && schema.properties) notes.push('no other fields');
  return notes;
}

interface FieldRow {
  name: string;
  schema: JsonSchema;
  required: boolean;
}

/** Properties as rows; nested objects and arrays of objects (not named schemas) are expanded. */
function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const required = new Set(schema.required ?? []);
  const rows: FieldRow[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    rows.push({ name: path, schema: property, required: required.has(name) });
    for (const branch of [property, ...(property.anyOf ?? [])]) {
      if (branch.properties) rows.push(...fieldRows(branch, `${path}.`));
      if (branch.items?.properties) rows.push(...fieldRows(branch.items, `${path}[].`));
    }
  }
  return rows;
}

function describeCell(schema: JsonSchema, description?: string): string {
  const notes = constraints(schema);
  return [description ? escapeHtml(description) : '', notes.length > 0 ? `<small>${notes.join('; ')}</small>` : '']
    .filter(Boolean)
    .join('<br>');
}

function fieldsTable(schema: JsonSchema): string {
  const rows = fieldRows(schema);
  if (rows.length === 0) return `<p>Type: ${typeLabel(schema)}</p>`;
  const body = rows
    .map(
      (row) =>
        `<tr><td><code>${escapeHtml(row.name)}</code></td><td>${typeLabel(row.schema)}</td><td>${row.required ? 'yes' : ''}</td><td>${describeCell(row.schema, row.schema.description)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${body}</tbody></table>`;
}

function parametersTable(parameters: ParameterObject[]): string {
  const body = parameters
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${p.in}</td><td>${typeLabel(p.schema)}</td><td>${p.required ? 'yes' : ''}</td><td>${describeCell(p.schema, p.description)}</td></tr>`,
    )
    .join('');
  return `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${body}</tbody></table>`;
}

function requestBodySection(op: OperationObject, doc: OpenApiDocument): string {
  const body = op.requestBody;
  if (!body) return '';
  const types = Object.keys(body.content);
  const first = body.content[types[0] ?? ''];
  if (!first) return '';
  const name = refName(first.schema);
  const schema = name ? (doc.components.schemas[name] ?? first.schema) : first.schema;
  return [
    `<h4>Request body${body.required ? '' : ' (optional)'}</h4>`,
    `<p>${types.map((t) => `<code>${escapeHtml(t)}</code>`).join(', ')}${name ? ` — schema <a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>` : ''}</p>`,
    prose(body.description),
    fieldsTable(schema),
  ].join('');
}

function responsesTable(responses: Record<string, ResponseObject>): string {
  const body = Object.entries(responses)
    .map(([status, response]) => {
      const content = Object.entries(response.content ?? {})
        .map(([type, media]) => (type === 'application/json' ? typeLabel(media.schema) : escapeHtml(type)))
        .join(' or ');
      const headers = Object.keys(response.headers ?? {})
        .map((h) => `<code>${escapeHtml(h)}</code>`)
        .join(', ');
      return `<tr><td>${escapeHtml(status)}</td><td>${escapeHtml(response.description)}</td><td>${content}</td><td>${headers}</td></tr>`;
    })
    .join('');
  return `<h4>Responses</h4><table><thead><tr><th>Status</th><th>Meaning</th><th>Body</th><th>Headers</th></tr></thead><tbody>${body}</tbody></table>`;
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Shell variables standing for each secret in examples. */
const SECRET_VARIABLES: Record<string, string> = { adminToken: 'ADMIN_TOKEN', postbackKeyBearer: 'POSTBACK_KEY' };

/** A curl command for an operation, from its examples; secrets are shell variables. */
export function curlExample(method: string, path: string, op: OperationObject, doc: OpenApiDocument): string {
  const origin = doc.servers?.[0]?.url ?? '';
  let url = path;
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(p.example)));
    else if (p.example !== undefined) query.set(p.name, String(p.example));
  }
  const search = query.toString();
  const lines = [
    `curl${method === 'get' ? '' : ` -X ${method.toUpperCase()}`}${op.responses['302'] ? ' -i' : ''} ${shellQuote(`${origin}${url}${search ? `?${search}` : ''}`)}`,
  ];
  const bearer = op.security
    .flatMap((requirement) => Object.keys(requirement))
    .find((scheme) => doc.components.securitySchemes[scheme]?.scheme === 'bearer');
  if (bearer) lines.push(`-H "Authorization: Bearer $${SECRET_VARIABLES[bearer] ?? 'TOKEN'}"`);
  const content = op.requestBody?.content ?? {};
  const [type, media] = Object.entries(content)[0] ?? [];
  if (type === 'application/json' && media?.example !== undefined) {
    const json = JSON.stringify(media.example);
    lines.push(`-H 'Content-Type: application/json'`);
    lines.push(`-d ${shellQuote(json.length > 100 ? JSON.stringify(media.example, null, 2) : json)}`);
  } else if (type === 'application/x-www-form-urlencoded' && media?.example && typeof media.example === 'object') {
    for (const [name, value] of Object.entries(media.example)) {
      lines.push(`--data-urlencode ${shellQuote(`${name}=${String(value)}`)}`);
    }
  }
  return lines.join(' \\\n  ');
}

function securityNote(op: OperationObject): string {
  if (op.security.length === 0) return '<p class="auth">Public: no authentication.</p>';
  const options = op.security.map((requirement) => {
    const names = Object.keys(requirement);
    if (names.length === 0)
      return 'no key (only with keyless_ip_auth, from an allow-listed address, see Authentication)';
    return names.map((n) => `<a href="#auth-${escapeHtml(n)}">${escapeHtml(n)}</a>`).join(' + ');
  });
  return `<p class="auth">Authentication: ${options.join(' or ')}.</p>`;
}

function operationSection(path: string, method: string, op: OperationObject, doc: OpenApiDocument): string {
  return [
    `<article class="op" id="op-${escapeHtml(op.operationId)}">`,
    `<h3><span class="method ${method}">${method.toUpperCase()}</span> <code class="path">${escapeHtml(path)}</code></h3>`,
    `<p class="summary">${escapeHtml(op.summary)}</p>`,
    prose(op.description),
    securityNote(op),
    op.parameters?.length ? parametersTable(op.parameters) : '',
    requestBodySection(op, doc),
    responsesTable(op.responses),
    `<h4>Example</h4><pre>${escapeHtml(curlExample(method, path, op, doc))}</pre>`,
    '</article>',
  ].join('\n');
}

interface Listed {
  path: string;
  method: string;
  op: OperationObject;
}

function operationsByTag(doc: OpenApiDocument): Map<string, Listed[]> {
  const byTag = new Map<string, Listed[]>(doc.tags.map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags[0] ?? 'Other';
      const list = byTag.get(tag) ?? [];
      list.push({ path, method, op });
      byTag.set(tag, list);
    }
  }
  return byTag;
}

function authenticationSection(doc: OpenApiDocument): string {
  const rows = Object.entries(doc.components.securitySchemes)
    .map(([name, scheme]) => {
      const how =
        scheme.type === 'http'
          ? `HTTP ${scheme.scheme ?? ''}`
          : `${scheme.in ?? ''} parameter <code>${escapeHtml(scheme.name ?? '')}</code>`;
      return `<tr id="auth-${escapeHtml(name)}"><td><code>${escapeHtml(name)}</code></td><td>${how}</td><td>${escapeHtml(scheme.description)}</td></tr>`;
    })
    .join('');
  return `<section id="authentication"><h2>Authentication</h2><table><thead><tr><th>Scheme</th><th>How</th><th>What</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function schemasSection(doc: OpenApiDocument): string {
  const parts = Object.entries(doc.components.schemas).map(
    ([name, schema]) =>
      `<article class="schema" id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${prose(schema.description)}${fieldsTable(schema)}</article>`,
  );
  return `<section id="schemas"><h2>Schemas</h2>${parts.join('\n')}</section>`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #5b636e; --line: #d8dde3; --code: #f3f5f7; --link: #0b5cad; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --bg: #14171a; --muted: #9aa3ad; --line: #2c3238; --code: #1e2328; --link: #6cb0ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--link); }
.layout { display: grid; grid-template-columns: 19rem minmax(0, 1fr); }
nav { position: sticky; top: 0; height: 100vh; overflow-y: auto; padding: 1rem; border-right: 1px solid var(--line); font-size: 13px; }
nav h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 1rem 0 .3rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: .15rem 0; }
nav a { text-decoration: none; }
main { padding: 1rem 2rem 4rem; max-width: 70rem; }
h1 { margin-top: 0; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: .3rem; margin-top: 2.5rem; }
h3 { margin-bottom: .2rem; }
h4 { margin: 1rem 0 .3rem; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { background: var(--code); padding: 0 .25em; border-radius: 3px; }
pre { background: var(--code); padding: .8rem 1rem; overflow-x: auto; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .8rem; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--code); }
small { color: var(--muted); }
.op { border-top: 1px solid var(--line); padding-top: .5rem; margin-top: 1.5rem; }
.summary { margin-top: 0; font-weight: 600; }
.auth { color: var(--muted); }
.method { display: inline-block; min-width: 3.6em; text-align: center; border-radius: 4px; padding: 0 .4em; color: #fff; font-size: 13px; }
.get { background: #1f7a4d; } .post { background: #1d5fb3; } .put { background: #5b3fa8; } .patch { background: #9a5b00; } .delete { background: #b3261e; }
@media (max-width: 900px) { .layout { display: block; } nav { position: static; height: auto; border-right: 0; } main { padding: 1rem; } }
`;

/** The whole page: navigation, overview, authentication, every operation by tag, schemas. */
export function renderApiDocs(doc: OpenApiDocument): string {
  const byTag = operationsByTag(doc);
  const nav = [...byTag]
    .filter(([, ops]) => ops.length > 0)
    .map(
      ([tag, ops]) =>
        `<h2><a href="#tag-${slug(tag)}">${escapeHtml(tag)}</a></h2><ul>${ops
          .map(
            ({ path, method, op }) =>
              `<li><a href="#op-${escapeHtml(op.operationId)}"><span class="method ${method}">${method.toUpperCase()}</span> ${escapeHtml(path)}</a></li>`,
          )
          .join('')}</ul>`,
    )
    .join('');
  const sections = [...byTag]
    .filter(([, ops]) => ops.length > 0)
    .map(([tag, ops]) => {
      const description = doc.tags.find((t) => t.name === tag)?.description;
      return `<section id="tag-${slug(tag)}"><h2>${escapeHtml(tag)}</h2>${prose(description)}${ops
        .map(({ path, method, op }) => operationSection(path, method, op, doc))
        .join('\n')}</section>`;
    })
    .join('\n');
  const title = escapeHtml(doc.info.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<div class="layout">
<nav><p><strong>${title}</strong><br><small>version ${escapeHtml(doc.info.version)} · OpenAPI ${escapeHtml(doc.openapi)}</small></p>
<ul><li><a href="#overview">Overview</a></li><li><a href="#authentication">Authentication</a></li><li><a href="#schemas">Schemas</a></li></ul>${nav}</nav>
<main>
<section id="overview">
<h1>${title}</h1>
<p><strong>${escapeHtml(doc.info.summary)}</strong></p>
${prose(doc.info.description)}
<p>Machine-readable document: <a href="/api/openapi.json"><code>/api/openapi.json</code></a> (OpenAPI ${escapeHtml(doc.openapi)}); import it into any OpenAPI tool. Examples use <code>${escapeHtml(doc.servers?.[0]?.url ?? '')}</code> and shell variables for secrets.</p>
</section>
${authenticationSection(doc)}
${sections}
${schemasSection(doc)}
</main>
</div>
</body>
</html>
`;
}
