// What a delivery sends: the URL (template rendered with macros) and, for POST formats, a body
// built from the frozen snapshot. Rendering is deterministic: every attempt of a delivery sends
// the same URL and the same body bytes; only webhook-timestamp and the signature change.

import type { ConversionSnapshot } from '../conversions/snapshot';
import { AWIN_CONTENT_TYPE, awinBody } from './awin';
import { CONTENT_TYPES, renderBodyTemplate } from './body-template';
import { renderTemplate } from './macros';
import { signatureHeader } from './signing';
import { type CommissionGroup, payloadGroups, type RenderedSnapshot } from './snapshot-fields';
import { xmlDocument } from './xml';

export type EndpointMethod = 'GET' | 'POST';
export type EndpointFormat = 'query' | 'json' | 'form' | 'xml';
export type EndpointPreset = 'awin';

/** The part of an endpoint that decides what is sent. */
export interface EndpointShape {
  url: string;
  method: EndpointMethod;
  format: EndpointFormat;
  /** For format 'form': null = flat fields; a name = one field holding the JSON envelope. */
  form_field: string | null;
  include_products: boolean;
  include_click_data: boolean;
  /** A network's exact payload; wins over format details (form_field, body_template). */
  preset?: EndpointPreset | null;
  /** POST formats: the receiver's own body, macros escaped for the format's content type. */
  body_template?: string | null;
}

export interface OutboundRequest {
  method: EndpointMethod;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

export const USER_AGENT = 'Clickhop-Notifications/1.0';

/** On conversion.modified, the values before the adjustment; revenue stays out (see payloadData). */
function previousData(s: ConversionSnapshot, includeProducts: boolean) {
  if (!s.previous) return {};
  const { amount, payout, products } = s.previous;
  return { previous: { amount, payout, ...(includeProducts ? { products } : {}) } };
}

/**
 * The event's data as publishers receive it. Revenue (what the advertiser pays the network) is
 * not part of payloads; an operator who wants to share it puts the {revenue} macro in a URL.
 * With products come the commission groups their lines name ({id, code, name, description}).
 */
export function payloadData(
  s: ConversionSnapshot,
  endpoint: Pick<EndpointShape, 'include_products' | 'include_click_data'>,
  groups: readonly CommissionGroup[] = [],
) {
  const commissionGroups = endpoint.include_products ? payloadGroups(s, groups) : [];
  return {
    conversion_id: s.conversion_id,
    status: s.status,
    goal: s.goal,
    offer_id: s.offer_id,
    offer_name: s.offer_name,
    advertiser_id: s.advertiser_id,
    publisher_id: s.publisher_id,
    click_id: s.click_id,
    click_time: s.click_time,
    conversion_time: s.conversion_time,
    order_id: s.order_id,
    amount: s.amount,
    currency: s.currency,
    payout: s.payout,
    payout_currency: s.payout_currency,
    voucher: s.voucher,
    sub1: s.sub1,
    sub2: s.sub2,
    sub3: s.sub3,
    sub4: s.sub4,
    sub5: s.sub5,
    sub6: (s as RenderedSnapshot).sub6 ?? null,
    ...previousData(s, endpoint.include_products),
    ...(endpoint.include_products ? { products: s.products } : {}),
    ...(commissionGroups.length > 0 ? { commission_groups: commissionGroups } : {}),
    ...(endpoint.include_click_data ? { click: s.click } : {}),
    ...(s.click_data ? { click_data: s.click_data } : {}),
    ...(s.test ? { test: true } : {}),
  };
}

/** The JSON envelope, Standard Webhooks style: {"type","timestamp","data"}. */
export function envelope(s: ConversionSnapshot, endpoint: EndpointShape, groups: readonly CommissionGroup[] = []) {
  return { type: s.event, timestamp: s.event_time, data: payloadData(s, endpoint, groups) };
}

export function jsonEnvelope(
  s: ConversionSnapshot,
  endpoint: EndpointShape,
  groups: readonly CommissionGroup[] = [],
): string {
  return JSON.stringify(envelope(s, endpoint, groups));
}

/** Flat form fields: the payload with nested parts flattened, null as an empty string. */
export function flatFormFields(
  s: ConversionSnapshot,
  endpoint: EndpointShape,
  groups: readonly CommissionGroup[] = [],
): [string, string][] {
  const { products, click, test, previous, commission_groups, ...scalar } = payloadData(
    s,
    endpoint,
    groups,
  ) as ReturnType<typeof payloadData> & {
    products?: unknown;
    click?: ConversionSnapshot['click'];
    test?: boolean;
    previous?: { amount: string; payout: string; products?: unknown };
    commission_groups?: unknown;
  };
  const fields: [string, string][] = [
    ['event', s.event],
    ['timestamp', s.event_time],
  ];
  for (const [name, value] of Object.entries(scalar)) fields.push([name, value === null ? '' : String(value)]);
  if (endpoint.include_click_data) {
    fields.push(
      ['referrer', click?.referrer ?? ''],
      ['search_engine', click?.search_engine ?? ''],
      ['phrase', click?.search_phrase ?? ''],
      ['country', click?.country ?? ''],
      ['device', click?.device ?? ''],
      ['deep_link', click?.deep_link ?? ''],
    );
  }
  if (previous) {
    fields.push(['previous_amount', previous.amount], ['previous_payout', previous.payout]);
    if (previous.products !== undefined) fields.push(['previous_products', JSON.stringify(previous.products)]);
  }
  if (products !== undefined) fields.push(['products', JSON.stringify(products)]);
  if (commission_groups !== undefined) fields.push(['commission_groups', JSON.stringify(commission_groups)]);
  if (test) fields.push(['test', '1']);
  return fields;
}

/** Body and content type for POST formats; null for GET ('query'). */
export function renderBody(
  s: ConversionSnapshot,
  endpoint: EndpointShape,
  groups: readonly CommissionGroup[] = [],
): { contentType: string; body: string } | null {
  if (endpoint.format === 'query') return null;
  if (endpoint.preset === 'awin') return { contentType: AWIN_CONTENT_TYPE, body: awinBody(s, groups) };
  if (endpoint.body_template) {
    return {
      contentType: CONTENT_TYPES[endpoint.format],
      body: renderBodyTemplate(endpoint.body_template, endpoint.format, s, groups),
    };
  }
  if (endpoint.format === 'xml') {
    const data = JSON.parse(JSON.stringify(envelope(s, endpoint, groups)));
    return { contentType: CONTENT_TYPES.xml, body: xmlDocument(data) };
  }
  if (endpoint.format === 'json') return { contentType: 'application/json', body: jsonEnvelope(s, endpoint, groups) };
  if (endpoint.format === 'form') {
    const params = endpoint.form_field
      ? new URLSearchParams([[endpoint.form_field, jsonEnvelope(s, endpoint, groups)]])
      : new URLSearchParams(flatFormFields(s, endpoint, groups));
    return { contentType: 'application/x-www-form-urlencoded', body: params.toString() };
  }
  return null;
}

/**
 * The full request of one attempt. POST carries the Standard Webhooks headers; GET carries
 * webhook-id and webhook-timestamp (for deduplication) but no signature, because a signature
 * over an empty body would not cover the URL and could be mistaken for protecting it.
 */
export async function buildRequest(
  endpoint: EndpointShape,
  snapshot: ConversionSnapshot,
  signing: { webhookId: string; timestamp: number; secrets: string[] },
  /** The offer's commission groups (Awin's commissionGroups and cgId). */
  groups: readonly CommissionGroup[] = [],
): Promise<OutboundRequest> {
  const url = renderTemplate(endpoint.url, snapshot, groups);
  const rendered = endpoint.method === 'POST' ? renderBody(snapshot, endpoint, groups) : null;
  const headers: Record<string, string> = {};
  if (rendered) headers['content-type'] = rendered.contentType;
  headers['user-agent'] = USER_AGENT;
  headers['webhook-id'] = signing.webhookId;
  headers['webhook-timestamp'] = String(signing.timestamp);
  if (rendered) {
    headers['webhook-signature'] = await signatureHeader(
      signing.secrets,
      signing.webhookId,
      signing.timestamp,
      rendered.body,
    );
  }
  if (snapshot.test) headers['clickhop-test'] = 'true';
  return { method: endpoint.method, url, headers, body: rendered?.body ?? null };
}
