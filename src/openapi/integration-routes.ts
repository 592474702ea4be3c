// Declarations of the store integrations' webhook routes (src/integrations/): the provider's
// signature is their authentication, so no security scheme applies.
import * as z from 'zod';
import { idParam } from '../admin/schemas';
import { SHOPIFY_TOPICS } from '../integrations/shopify';
import { STRIPE_EVENTS } from '../integrations/stripe';
import { component, type DeclaredOperation, lazy, pathParam } from './operation';
import { error } from './postback-routes';

export const INTEGRATIONS_TAG = {
  name: 'Store integrations',
  description:
    'Webhooks from an advertiser’s Stripe account or Shopify store, signed with the secret the advertiser set (docs/store-integrations.md).',
};

const webhookResult = lazy(() =>
  component(
    'WebhookResult',
    z
      .object({
        status: z.enum(['ok', 'refused']).describe('refused: a signed event that can never be attributed (see error)'),
        outcome: z.enum(['created', 'duplicate', 'updated', 'refused']),
        conversion_id: z.string().optional(),
        duplicate: z.boolean().optional(),
        conversion_status: z.string().optional(),
        order_id: z.string().nullable().optional(),
        amount: z.string().optional(),
        refunded: z.string().optional().describe('Everything refunded of the sale so far'),
        currency: z.string().optional(),
        attribution: z.string().optional(),
        parked: z.boolean().optional().describe('A refund whose sale has not arrived: applied when it does'),
        ignored: z.boolean().optional().describe('An event Clickhop does not use, or a sale without a click ID'),
        reason: z.string().optional(),
        error: z.object({ code: z.string(), message: z.string() }).loose().optional(),
      })
      .describe('What the event did'),
  ),
);

const advertiserId = pathParam({
  what: 'Advertiser',
  schema: idParam,
  description: 'The advertiser whose secret signs the events',
  example: 1,
  read: (t) => t,
});

const event = z.object({}).loose();

const responses = (what: string) => ({
  200: { description: `${what} applied, acknowledged or refused for good (status)`, schema: webhookResult },
  400: error('A signed body that is not a JSON object'),
  401: error('invalid_signature: no secret set, a missing or wrong signature (nothing stored but a log row)'),
  409: error('conflict: the conversion was being changed concurrently; the provider retries'),
  413: error('Body larger than 256 KiB'),
});

export const integrationOperations = lazy((): DeclaredOperation[] => [
  {
    method: 'post',
    path: '/integrations/stripe/{advertiserId}',
    operationId: 'stripeWebhook',
    tag: INTEGRATIONS_TAG.name,
    summary: 'Receive a Stripe event',
    description: `Verifies Stripe-Signature (t and v1: hex HMAC-SHA256 of "t.body" with the endpoint secret, any v1 may match, 5-minute tolerance). Uses ${STRIPE_EVENTS.join(' and ')}: a completed checkout session with a click ID in client_reference_id (or metadata.click_id) is a sale of amount_total in currency, order ID the session id; a refunded charge lowers or reverses it. Replays change nothing.`,
    auth: 'none',
    params: { advertiserId },
    body: { schema: event, required: true, description: 'The Stripe event, exactly as Stripe sends it' },
    responses: responses('The event'),
  },
  {
    method: 'post',
    path: '/integrations/shopify/{advertiserId}',
    operationId: 'shopifyWebhook',
    tag: INTEGRATIONS_TAG.name,
    summary: 'Receive a Shopify webhook',
    description: `Verifies X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the body with the app’s secret); X-Shopify-Webhook-Id deduplicates deliveries, X-Shopify-Topic names the event. Uses ${SHOPIFY_TOPICS.join(' and ')}: an order with a click ID in note_attributes (click_id or ch_cid) or the landing_site query (or a discount code that is a Clickhop coupon) is a sale of total_price, order ID the order id; a refund lowers it.`,
    auth: 'none',
    params: { advertiserId },
    body: { schema: event, required: true, description: 'The Shopify order or refund, exactly as Shopify sends it' },
    responses: responses('The webhook'),
  },
]);
