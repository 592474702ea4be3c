// The portal's "Add an endpoint" form, through the Worker: it offers every format the endpoints
// API has (query, json, form, xml, the awin preset) with the fields each needs, stores each as the
// API would, and a refused form shows the API's own problem next to each field, keeping what was
// typed, with nothing stored.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONVERSION_EVENT_TYPES } from '../../src/conversions/status';
import { admin, createFixture, eventually, type Fixture, RECEIVER, received, uniqueKey } from '../helpers';
import { elementById, type PortalPerson, signedIn, textOf } from '../portal-helpers';

let fixture: Fixture;
let publisher: PortalPerson;

interface StoredEndpoint {
  method: string;
  format: string;
  preset: string | null;
  body_template: string | null;
  form_field: string | null;
  events: string;
  offer_ids: string | null;
  include_products: number;
  include_click_data: number;
}

const stored = (url: string) =>
  env.DB.prepare(
    `SELECT method, format, preset, body_template, form_field, events, offer_ids, include_products, include_click_data
     FROM endpoints WHERE url = ?`,
  )
    .bind(url)
    .first<StoredEndpoint>();

/** The option values of a select of the form. */
const optionValues = (form: string, name: string) => {
  const select = new RegExp(`<select name="${name}"[^>]*>([\\s\\S]*?)</select>`).exec(form)?.[1] ?? '';
  return [...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
};

const fieldError = (page: string, input: string) => textOf(elementById(page, `${input}-error`));

beforeAll(async () => {
  fixture = await createFixture({ name: 'Endpoint formats' });
  publisher = await signedIn('pat@formats.example', {
    role: 'publisher',
    publisher_id: fixture.publisherId,
    advertiser_id: null,
  });
});

describe('the endpoint form', () => {
  it('offers every format, the method, a body template, a form field, all five events and the payload options', async () => {
    const page = await publisher.page('/portal/endpoints');
    const form = elementById(page.text, 'endpoint-form');
    expect(optionValues(form, 'format')).toEqual(['query', 'json', 'form', 'xml', 'awin']);
    expect(optionValues(form, 'method')).toEqual(['', 'GET', 'POST']);
    expect(form).toMatch(/<textarea name="body_template"/);
    expect(form).toMatch(/<input name="form_field"/);
    expect(form).toMatch(/<input name="offer_ids"/);
    const events = [...form.matchAll(/name="events" value="([^"]+)"/g)].map((m) => m[1]);
    expect(events).toEqual([...CONVERSION_EVENT_TYPES]);
    for (const name of ['include_products', 'include_click_data']) expect(form).toContain(`name="${name}"`);
    expect(form).toContain(`name="_csrf" value="${publisher.csrf}"`);
  });

  it('stores each format as the API does', async () => {
    const url = (name: string) => `${RECEIVER}/hook/${uniqueKey(name)}?click={click_id}`;
    const template = '{\n  "click": "{click_id}",\n  "payout": "{payout}"\n}';
    const cases: [Record<string, string | string[]>, Partial<StoredEndpoint>][] = [
      [
        { format: 'query', offer_ids: `${fixture.offerId}`, events: ['conversion.approved'] },
        { method: 'GET', format: 'query', offer_ids: `[${fixture.offerId}]`, events: '["conversion.approved"]' },
      ],
      [
        {
          format: 'json',
          body_template: template,
          events: ['conversion.created', 'conversion.modified'],
          include_click_data: '1',
        },
        {
          method: 'POST',
          format: 'json',
          body_template: template,
          events: '["conversion.created","conversion.modified"]',
          include_click_data: 1,
          include_products: 0,
        },
      ],
      [
        { format: 'form', form_field: 'payload', include_products: '1' },
        { method: 'POST', format: 'form', form_field: 'payload', preset: null, include_products: 1 },
      ],
      [
        { format: 'xml', method: 'POST' },
        { method: 'POST', format: 'xml', body_template: null },
      ],
      [{ format: 'awin' }, { method: 'POST', format: 'form', preset: 'awin', body_template: null }],
    ];
    for (const [fields, expected] of cases) {
      const target = url(String(fields.format));
      const added = await publisher.post('/portal/endpoints', { url: target, events: 'conversion.created', ...fields });
      expect(added.status, textOf(added.text).slice(0, 400)).toBe(200);
      expect(added.text).toMatch(/Endpoint \d+ added/);
      expect(await stored(target), String(fields.format)).toMatchObject(expected);
    }
  });

  it('sends a test of a body template endpoint as the template says', async () => {
    const key = uniqueKey('template');
    const target = `${RECEIVER}/${key}`;
    const template = '<sale><click>{click_id}</click><sub>{sub1}</sub></sale>';
    const added = await publisher.post('/portal/endpoints', {
      url: target,
      format: 'xml',
      body_template: template,
      events: 'conversion.created',
    });
    const id = /Endpoint (\d+) added/.exec(added.text)?.[1];
    const tested = await publisher.post(`/portal/endpoints/${id}/test`, {});
    expect(tested.text).toContain(`Test sent to endpoint ${id}`);
    const [request] = await eventually(async () => {
      const got = await received(key);
      return got.length > 0 ? got : null;
    });
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toContain('application/xml');
    expect(request?.body).toMatch(/^<sale><click>[^<{]+<\/click><sub>[^<{]*<\/sub><\/sale>$/);
  });

  it('shows the API’s problem next to each refused field, keeps what was typed, stores nothing', async () => {
    const url = `${RECEIVER}/hook/${uniqueKey('refused')}?c={click_id}&x={nope}`;
    const template = '{"click": "{click_id}"}';
    const fields = {
      url,
      format: 'query',
      body_template: template,
      offer_ids: '999999999',
      events: 'conversion.created',
    };
    const refused = await publisher.post('/portal/endpoints', fields);
    expect(refused.status).toBe(400);
    // The API's own answer to the body the form makes, field by field.
    const api = await admin<{ error: { fields: Record<string, string> } }>('POST', '/endpoints', {
      publisher_id: fixture.publisherId,
      url,
      format: 'query',
      body_template: template,
      offer_ids: [999999999],
      events: ['conversion.created'],
    });
    expect(api.status).toBe(400);
    expect(Object.keys(api.body.error.fields).sort()).toEqual(['body_template', 'offer_ids', 'url']);
    for (const [name, problem] of Object.entries(api.body.error.fields)) {
      expect(fieldError(refused.text, name), name).toBe(`${name.replace('_', ' ')}: ${problem}`);
    }
    const form = elementById(refused.text, 'endpoint-form');
    expect(form).toContain(`value="${url.replace(/&/g, '&amp;')}"`);
    expect(textOf(/<textarea[^>]*>([\s\S]*?)<\/textarea>/.exec(form)?.[1] ?? '')).toBe(template);
    expect(form).toMatch(/<option value="query" selected>/);
    expect(form).toMatch(/name="url"[^>]*aria-invalid="true"/);
    expect(await stored(url)).toBeNull();
  });

  it('names the method, the preset and the events where they were chosen', async () => {
    const url = `${RECEIVER}/hook/${uniqueKey('awin-get')}`;
    const awinGet = await publisher.post('/portal/endpoints', {
      url,
      format: 'awin',
      method: 'GET',
      events: 'conversion.created',
    });
    expect(awinGet.status).toBe(400);
    expect(fieldError(awinGet.text, 'method')).toBe('method: format form is sent with POST (use format query for GET)');
    expect(elementById(awinGet.text, 'endpoint-form')).toMatch(/<option value="awin" selected>/);
    const awinTemplate = await publisher.post('/portal/endpoints', {
      url,
      format: 'awin',
      body_template: 'a={click_id}',
      events: 'conversion.created',
    });
    expect(fieldError(awinTemplate.text, 'body_template')).toBe(
      'body template: not with a preset (the preset writes the body)',
    );
    const noEvents = await publisher.post('/portal/endpoints', { url, format: 'json' });
    expect(fieldError(noEvents.text, 'events')).toBe('events: must name at least one event');
    const badOffer = await publisher.post('/portal/endpoints', {
      url,
      format: 'json',
      offer_ids: 'x',
      events: 'conversion.created',
    });
    expect(fieldError(badOffer.text, 'offer_ids')).toMatch(/^offer ids: /);
    expect(await stored(url)).toBeNull();
  });
});
