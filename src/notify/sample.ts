// POST /api/v1/endpoints/:id/test: a synthetic, clearly marked event sent straight to the
// endpoint (not through the Queue, not logged as a delivery), with the request made and the
// answer received returned to the operator.
import { endpointAudience, snapshotFor } from '../auth/money-view';
import type { ConversionSnapshot, ProductLine } from '../conversions/snapshot';
import type { ConversionEventType } from '../conversions/status';
import type { EndpointRow } from '../db/endpoints';
import { randomId } from '../lib/crypto';
import { checkDestination } from './destination';
import { buildRequest, type OutboundRequest } from './payload';
import { SEND_TIMEOUT_MS, sendRequest } from './send';
import { activeSecrets } from './signing';
import type { CommissionGroup, RenderedSnapshot } from './snapshot-fields';

/** The sample's one commission group (its products name it). */
const SAMPLE_GROUPS: CommissionGroup[] = [
  { id: 1, code: 'TEST', name: 'Test group', description: 'Sample commission group' },
];

const STATUS_OF_EVENT: Record<ConversionEventType, ConversionSnapshot['status']> = {
  'conversion.created': 'pending',
  'conversion.approved': 'approved',
  'conversion.rejected': 'rejected',
  'conversion.reversed': 'reversed',
  'conversion.modified': 'approved',
};

const product: ProductLine = {
  sku: 'TEST-SKU-1',
  name: 'Test product',
  unit_price: '50.00',
  quantity: 2,
  category: 'test',
  commission_group: 'TEST',
};

/**
 * A sample event for an endpoint: every field filled, ids prefixed `test_`, `test: true`; a
 * conversion.modified sample carries previous values (a return of one of three products: 150.00 to 100.00).
 */
export function sampleSnapshot(endpoint: EndpointRow, event: ConversionEventType, now: Date): RenderedSnapshot {
  const offerIds = endpoint.offer_ids ? (JSON.parse(endpoint.offer_ids) as number[]) : [];
  const conversionTime = now.toISOString();
  return {
    event,
    event_time: conversionTime,
    conversion_id: randomId('cv_test_', 9),
    status: STATUS_OF_EVENT[event],
    goal: 'sale',
    offer_id: offerIds[0] ?? 0,
    offer_name: 'Test offer',
    advertiser_id: 0,
    publisher_id: endpoint.publisher_id,
    click_id: 'test_click_id',
    click_time: new Date(now.getTime() - 3_600_000).toISOString(),
    conversion_time: conversionTime,
    order_id: 'TEST-ORDER-1',
    amount: '100.00',
    currency: 'EUR',
    revenue: '10.00',
    payout: '5.00',
    payout_currency: 'EUR',
    voucher: 'TESTVOUCHER',
    description: 'Test notification from Clickhop',
    sub1: 'test_sub1',
    sub2: 'test_sub2',
    sub3: 'test_sub3',
    sub4: 'test_sub4',
    sub5: 'test_sub5',
    sub6: 'test_sub6',
    creative_id: 1,
    creative_group_id: 1,
    products: [product],
    click: {
      referrer: 'https://www.example.com/test-page',
      search_engine: null,
      search_phrase: null,
      country: 'NL',
      device: 'desktop',
      deep_link: null,
    },
    ...(event === 'conversion.modified'
      ? { previous: { amount: '150.00', revenue: '15.00', payout: '7.50', products: [{ ...product, quantity: 3 }] } }
      : {}),
    test: true,
  };
}

export interface TestReport {
  ok: boolean;
  request: OutboundRequest;
  /** Null when no answer arrived (refused destination, timeout, connection error). */
  response: { status: number; latency_ms: number; body_snippet: string | null } | null;
  error: string | null;
}

export async function sendTestNotification(
  env: Env,
  endpoint: EndpointRow,
  event: ConversionEventType,
  timeoutMs = SEND_TIMEOUT_MS,
): Promise<TestReport> {
  const now = new Date();
  const request = await buildRequest(
    {
      url: endpoint.url,
      method: endpoint.method,
      format: endpoint.format,
      form_field: endpoint.form_field,
      preset: endpoint.preset,
      body_template: endpoint.body_template,
      include_products: endpoint.include_products === 1,
      include_click_data: endpoint.include_click_data === 1,
    },
    snapshotFor(endpointAudience(endpoint.saved_by), sampleSnapshot(endpoint, event, now)),
    {
      webhookId: randomId('dlv_test_', 12),
      timestamp: Math.floor(now.getTime() / 1000),
      secrets: activeSecrets(endpoint, now.toISOString()),
    },
    SAMPLE_GROUPS,
  );
  const destination = checkDestination(request.url, env);
  if (!destination.ok) {
    return { ok: false, request, response: null, error: `destination refused: URL ${destination.reason}` };
  }
  const outcome = await sendRequest(request, timeoutMs);
  const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
  return {
    ok,
    request,
    response:
      outcome.status === null
        ? null
        : { status: outcome.status, latency_ms: outcome.latencyMs, body_snippet: outcome.snippet },
    error:
      outcome.error ??
      (ok
        ? null
        : outcome.status !== null && outcome.status >= 300 && outcome.status < 400
          ? `HTTP ${outcome.status}: redirect not followed`
          : `HTTP ${outcome.status}`),
  };
}
