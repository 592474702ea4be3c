// Payload formats beyond Clickhop's own: the `awin` preset against the field list of Awin's
// Transaction Notification, XML, and body templates, each value read back with a real parser
// (JSON.parse, fast-xml-parser, URLSearchParams) byte for byte.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { AWIN_CONTENT_TYPE, awinTransaction } from '../../src/notify/awin';
import { bodyTemplateProblem } from '../../src/notify/body-template';
import { buildRequest, type EndpointShape, renderBody } from '../../src/notify/payload';
import type { CommissionGroup, RenderedSnapshot } from '../../src/notify/snapshot-fields';
import { escapeXml, xmlProblem } from '../../src/notify/xml';

/** A sale in USD for a program paying in EUR: two products in two commission groups, clickRef and clickRef4. */
const sale: RenderedSnapshot = {
  event: 'conversion.created',
  event_time: '2026-11-23T10:15:00.000Z',
  conversion_id: 'cv_awin1',
  status: 'pending',
  goal: 'sale',
  offer_id: 7,
  offer_name: 'Shoes',
  advertiser_id: 3661,
  publisher_id: 45628,
  click_id: 'CLK',
  click_time: '2026-11-23T09:05:06.789Z',
  conversion_time: '2026-11-23T10:15:00.000Z',
  order_id: 'AA000006',
  amount: '26.09',
  currency: 'USD',
  revenue: '2.40',
  payout: '1.85',
  payout_currency: 'EUR',
  converted_amount: '24.01',
  voucher: '10OFF',
  description: null,
  sub1: 'LINKCMP2013-06',
  sub2: null,
  sub3: null,
  sub4: 'member-42',
  sub5: null,
  products: [
    { sku: 'CD-1', name: 'A CD', unit_price: '11.10', quantity: 1, category: 'music', commission_group: 'CD' },
    { sku: 'DVD-9', name: 'A DVD', unit_price: '7.495', quantity: 2, category: null, commission_group: 'DVD' },
  ],
  click: {
    referrer: 'https://www.example.com/shoes?a=1&b=2',
    search_engine: null,
    search_phrase: null,
    country: 'GB',
    device: 'desktop',
    deep_link: null,
  },
};

const groups: CommissionGroup[] = [
  { id: 11, code: 'CD', name: 'Music CDs', description: 'Compact discs' },
  { id: 12, code: 'DVD', name: 'Films', description: null },
  { id: 13, code: 'UNUSED', name: 'Not in this sale', description: null },
];

const AWIN_KEYS = [
  'transactionId',
  'transactionDate',
  'transactionCurrency',
  'transactionAmount',
  'trackedCurrency',
  'trackedAmount',
  'affiliateId',
  'merchantId',
  'groupId',
  'bannerId',
  'clickRef',
  'clickRef2',
  'clickRef3',
  'clickRef4',
  'clickRef5',
  'clickRef6',
  'clickThroughTime',
  'clickTime',
  'url',
  'phrase',
  'searchEngine',
  'commission',
  'commissionGroups',
  'products',
];

const endpoint = (over: Partial<EndpointShape>): EndpointShape => ({
  url: 'https://publisher.example/hook',
  method: 'POST',
  format: 'json',
  form_field: null,
  include_products: true,
  include_click_data: true,
  ...over,
});

/** Every scalar in a decoded JSON value, with its path. */
function scalars(value: unknown, path = '$'): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => scalars(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => scalars(v, `${path}.${k}`));
  }
  return [[path, value]];
}

describe('awin preset', () => {
  it("posts one form field AwinTransactionPush holding exactly Awin's JSON", () => {
    const body = renderBody(sale, endpoint({ format: 'form', preset: 'awin' }), groups);
    expect(body?.contentType).toBe(AWIN_CONTENT_TYPE);
    expect(body?.contentType).toBe('application/x-www-form-urlencoded; charset=UTF-8');
    const form = new URLSearchParams(body?.body);
    expect([...form.keys()]).toEqual(['AwinTransactionPush']);
    const decoded = JSON.parse(form.get('AwinTransactionPush') ?? '') as Record<string, unknown>;
    expect(decoded).toEqual({
      transactionId: 'cv_awin1',
      transactionDate: '2026-11-23 10:15:00',
      transactionCurrency: 'EUR',
      transactionAmount: '24.01',
      trackedCurrency: 'USD',
      trackedAmount: '26.09',
      affiliateId: '45628',
      merchantId: '3661',
      groupId: '0',
      bannerId: '0',
      clickRef: 'LINKCMP2013-06',
      clickRef4: 'member-42',
      clickThroughTime: '2026-11-23 09:05:06',
      clickTime: '2026-11-23 09:05:06',
      url: 'https://www.example.com/shoes?a=1&b=2',
      commission: '1.85',
      commissionGroups: [
        { id: '11', name: 'Music CDs', code: 'CD', description: 'Compact discs' },
        { id: '12', name: 'Films', code: 'DVD' },
      ],
      products: [
        {
          productName: 'A CD',
          unitPrice: '11.10',
          skuType: 'sku',
          skuCode: 'CD-1',
          quantity: '1',
          category: 'music',
          cgId: '11',
        },
        { productName: 'A DVD', unitPrice: '7.495', skuType: 'sku', skuCode: 'DVD-9', quantity: '2', cgId: '12' },
      ],
    });
    for (const key of Object.keys(decoded)) expect(AWIN_KEYS).toContain(key);
    for (const [path, value] of scalars(decoded)) expect(typeof value, path).toBe('string');
    for (const [path, value] of scalars(decoded)) expect(value, path).not.toBe('');
  });

  it('leaves out trackedCurrency and trackedAmount when the sale is in the program currency', () => {
    const home = awinTransaction({ ...sale, currency: 'EUR', amount: '24.01', converted_amount: undefined }, groups);
    expect(home.transactionCurrency).toBe('EUR');
    expect(home.transactionAmount).toBe('24.01');
    expect(home).not.toHaveProperty('trackedCurrency');
    expect(home).not.toHaveProperty('trackedAmount');
  });

  it('fills clickRef6, bannerId and groupId from the click', () => {
    const full = awinTransaction({ ...sale, sub6: 'six', creative_id: 501, creative_group_id: 77 }, groups);
    expect(full).toMatchObject({ clickRef6: 'six', bannerId: '501', groupId: '77' });
  });

  it('is signed like every POST', async () => {
    const request = await buildRequest(
      endpoint({ format: 'form', preset: 'awin' }),
      sale,
      { webhookId: 'dlv_1', timestamp: 1_700_000_000, secrets: [`whsec_${btoa('k'.repeat(32))}`] },
      groups,
    );
    expect(request.headers['webhook-signature']).toMatch(/^v1,/);
    expect(request.headers['content-type']).toBe(AWIN_CONTENT_TYPE);
  });
});

/** Quotes, markup, ampersands, every newline kind, a tab, non-ASCII and an astral character. */
const HOSTILE = `He said "hi" & 'bye' <b>x</b> ]]> \n line2\r\n\tü€😀 {sub1} !!!clickRef!!!`;
const hostile: RenderedSnapshot = { ...sale, sub1: HOSTILE, voucher: HOSTILE, sub6: HOSTILE };

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
});

describe('body templates', () => {
  it('json: every value survives JSON.parse byte for byte', () => {
    const template = '{"ref":"{sub1}","v":"!!!voucherCode!!!","nested":{"six":"{sub6}"},"amount":"{amount}"}';
    expect(bodyTemplateProblem(template, 'json')).toBeNull();
    const body = renderBody(hostile, endpoint({ format: 'json', body_template: template }), groups);
    expect(body?.contentType).toBe('application/json');
    expect(JSON.parse(body?.body ?? '')).toEqual({
      ref: HOSTILE,
      v: HOSTILE,
      nested: { six: HOSTILE },
      amount: '26.09',
    });
  });

  it('xml: every value survives an XML parser in text and in attributes, byte for byte', () => {
    const template =
      '<?xml version="1.0" encoding="UTF-8"?>\n<conv id="{conversion_id}" ref="{sub1}" alt=\'!!!clickRef!!!\'><v>!!!voucherCode!!!</v><s6>{sub6}</s6></conv>';
    expect(bodyTemplateProblem(template, 'xml')).toBeNull();
    const body = renderBody(hostile, endpoint({ format: 'xml', body_template: template }), groups);
    expect(body?.contentType).toBe('application/xml');
    expect(XMLValidator.validate(body?.body ?? '')).toBe(true);
    const doc = xmlParser.parse(body?.body ?? '') as { conv: Record<string, unknown> };
    expect(doc.conv['@_id']).toBe('cv_awin1');
    expect(doc.conv['@_ref']).toBe(HOSTILE);
    expect(doc.conv['@_alt']).toBe(HOSTILE);
    expect(doc.conv.v).toBe(HOSTILE);
    expect(doc.conv.s6).toBe(HOSTILE);
  });

  it('form: every value survives URLSearchParams byte for byte', () => {
    const template = 'ref={sub1}&v=!!!voucherCode!!!&id={conversion_id}';
    expect(bodyTemplateProblem(template, 'form')).toBeNull();
    const body = renderBody(hostile, endpoint({ format: 'form', body_template: template }), groups);
    expect(body?.contentType).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(body?.body);
    expect([...form.keys()]).toEqual(['ref', 'v', 'id']);
    expect(form.get('ref')).toBe(HOSTILE);
    expect(form.get('v')).toBe(HOSTILE);
  });

  it('refuses an unknown macro, naming it', () => {
    expect(bodyTemplateProblem('{"a":"{sub7}","b":"!!!clickref!!!"}', 'json')).toBe(
      'unknown macros: {sub7}, !!!clickref!!!',
    );
  });

  it('refuses JSON with a macro outside a string, and XML that is not well-formed', () => {
    expect(bodyTemplateProblem('{"amount": {amount}}', 'json')).toMatch(/not valid JSON/);
    expect(bodyTemplateProblem('<a><b>{sub1}</a></b>', 'xml')).toMatch(/not well-formed XML/);
    expect(bodyTemplateProblem('<a>{sub1}</a><b/>', 'xml')).toMatch(/more than one root/);
    expect(bodyTemplateProblem('<a>x & y</a>', 'xml')).toMatch(/bare &/);
    expect(bodyTemplateProblem('<{sub1}/>', 'xml')).toMatch(/not well-formed/);
    expect(bodyTemplateProblem('<a><![CDATA[{sub1}]]></a>', 'xml')).toMatch(/CDATA/);
    expect(bodyTemplateProblem('<!DOCTYPE a><a/>', 'xml')).toMatch(/DOCTYPE/);
  });
});

describe('xml format', () => {
  it('sends the JSON payload as XML that a parser reads back to the same values', () => {
    const body = renderBody(hostile, endpoint({ format: 'xml' }), groups);
    expect(body?.contentType).toBe('application/xml');
    expect(XMLValidator.validate(body?.body ?? '')).toBe(true);
    const doc = xmlParser.parse(body?.body ?? '') as {
      notification: { type: string; data: Record<string, unknown> & { products: { product: unknown[] } } };
    };
    expect(doc.notification.type).toBe('conversion.created');
    expect(doc.notification.data.sub1).toBe(HOSTILE);
    expect(doc.notification.data.sub6).toBe(HOSTILE);
    expect(doc.notification.data.payout).toBe('1.85');
    expect(doc.notification.data.payout_currency).toBe('EUR');
    expect(doc.notification.data.products.product).toHaveLength(2);
  });

  it('escapes what XML cannot carry into characters a parser accepts', () => {
    expect(escapeXml('a\u0001b\uD800c')).toBe('a\uFFFDb\uFFFDc');
    expect(xmlProblem(`<a t="${escapeXml(HOSTILE)}">${escapeXml(HOSTILE)}</a>`)).toBeNull();
  });
});
