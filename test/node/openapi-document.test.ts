// The OpenAPI document checked by a validator that shares no code with how it is built: the
// official OpenAPI 3.1 JSON Schema (with its JSON Schema 2020-12 dialect), as
// @seriousme/openapi-schema-validator applies it. The document is assembled in plain Node from
// the same declarations the Worker serves.
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/openapi/document';

describe('the OpenAPI document', () => {
  const doc = openApiDocument('https://clickhop.example');

  it('is valid OpenAPI 3.1 for an independent validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(JSON.stringify(doc)));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is checked for real: the validator refuses a response without its required description', async () => {
    const broken = JSON.parse(JSON.stringify(doc));
    delete broken.paths['/api/v1/offers'].get.responses['200'].description;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('resolves: every $ref points into the document', async () => {
    const validator = new Validator();
    await validator.validate(JSON.parse(JSON.stringify(doc)));
    const resolved = validator.resolveRefs() as { paths: Record<string, unknown> };
    expect(Object.keys(resolved.paths).length).toBe(Object.keys(doc.paths).length);
  });
});
