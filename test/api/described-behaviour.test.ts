// What the OpenAPI document says an operation or field does, held to what the Worker does: the
// descriptions a client reads at /api/openapi.json are part of the contract (issue 22: some said
// otherwise than the code).
import { describe, expect, it } from 'vitest';
import { adminOk, createFixture, worker } from '../helpers';
import { getPostback, mintClick, withPayout } from '../postback-helpers';

type Schema = { $ref?: string; description?: string; properties?: Record<string, Schema> };
interface Document {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
}

/** A request body field's description, following a $ref to the named schema. */
async function bodyFieldDescription(path: string, method: string, field: string): Promise<string> {
  const doc = (await (await worker('/api/openapi.json')).json()) as Document;
  let schema = doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
  if (schema?.$ref) schema = doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')];
  return schema?.properties?.[field]?.description ?? '';
}

describe('described behaviour', () => {
  it("a paused advertiser's clicks are refused and its postbacks accepted, as its status says", async () => {
    const f = await createFixture();
    await adminOk('PATCH', `/advertisers/${f.advertiserId}`, { status: 'paused' });
    const clicked = await worker(`/c/${f.offerId}/${f.publisherId}`);
    expect(clicked.status).toBe(404);
    const postback = await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'lead',
      order_id: 'PAUSED-1',
      key: f.postbackKey,
    });
    expect(postback.status).toBe(200);
    expect(await withPayout(postback)).toMatchObject({ outcome: 'created', payout: '2.00' });

    for (const [path, method] of [
      ['/api/v1/advertisers', 'post'],
      ['/api/v1/advertisers/{id}', 'patch'],
    ] as const) {
      const description = await bodyFieldDescription(path, method, 'status');
      expect(description).toMatch(/clicks on all its offers are refused/);
      expect(description).toMatch(/postbacks are still accepted/);
    }
  });
});
