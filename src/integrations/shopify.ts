// POST /integrations/shopify/:advertiserId — Shopify webhooks (docs/store-integrations.md).
// orders/create with a click ID in a note attribute (click_id or ch_cid) or in the landing
// site's query is a sale (total_price in the shop's currency, the order id as order ID); without
// one, a discount code that is a Clickhop coupon credits its publisher. refunds/create lowers
// the sale by the refund's successful refund transactions. Each delivery's X-Shopify-Webhook-Id
// is remembered, so a redelivery changes nothing; refunds also count once by their own id.
import type { Context } from 'hono';
import { eventSeen, markEventStatement } from '../db/integrations';
import { isCurrency, parseAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { recordRefund, recordSale } from './orders';
import { verifyShopifyHmac } from './signatures';
import { handleWebhook, object, text, type VerifiedWebhook, type WebhookAnswer, type WebhookEnv } from './webhook';

export const SHOPIFY_TOPICS = ['orders/create', 'refunds/create'] as const;

/** Names under which a shop's theme may keep the click ID (note attributes, landing URL query). */
const CLICK_ID_NAMES = ['click_id', 'ch_cid'];

const ignored = (code: string, message: string): WebhookAnswer => ({
  outcome: 'duplicate',
  body: { ignored: true, reason: code },
  note: { code, message },
});

/** An id Shopify sends as a number, exactly (the GraphQL id carries every digit). */
function exactId(resource: Record<string, unknown>, kind: string): string | undefined {
  const gid = text(resource.admin_graphql_api_id);
  const fromGid = gid?.startsWith(`gid://shopify/${kind}/`) ? gid.slice(`gid://shopify/${kind}/`.length) : undefined;
  const id = fromGid ?? text(resource.id);
  return id !== undefined && /^\d{1,20}$/.test(id) ? id : undefined;
}

function clickIdOf(order: Record<string, unknown>): { clickId?: string; field?: string } {
  const attributes = Array.isArray(order.note_attributes) ? order.note_attributes : [];
  for (const attribute of attributes) {
    const { name, value } = object(attribute);
    if (typeof name === 'string' && CLICK_ID_NAMES.includes(name.trim().toLowerCase()) && text(value)) {
      return { clickId: text(value)?.trim(), field: `note_attributes.${name}` };
    }
  }
  const landing = text(order.landing_site);
  if (landing !== undefined) {
    try {
      const query = new URL(landing, 'https://shop.invalid').searchParams;
      for (const name of CLICK_ID_NAMES) {
        const value = query.get(name);
        if (value) return { clickId: value, field: `landing_site.${name}` };
      }
    } catch {
      // A landing site that is no URL holds no click ID.
    }
  }
  return {};
}

async function orderCreated(hook: VerifiedWebhook, order: Record<string, unknown>): Promise<WebhookAnswer> {
  const orderId = exactId(order, 'Order');
  if (!orderId) return ignored('no_order_id', 'The order has no id');
  const { clickId, field } = clickIdOf(order);
  const codes = Array.isArray(order.discount_codes) ? order.discount_codes : [];
  const voucher = codes.map((d) => text(object(d).code)).find((code) => code !== undefined);
  if (clickId === undefined && voucher === undefined) {
    return ignored('no_click_id', 'No click ID in note_attributes or landing_site, and no discount code');
  }
  const currency = text(order.currency)?.toUpperCase();
  const amount = text(order.total_price);
  if (!currency || !isCurrency(currency) || amount === undefined) {
    return ignored('no_amount', 'The order has no total_price and currency');
  }
  return recordSale(hook, {
    provider: 'shopify',
    clickId,
    voucher,
    orderId,
    amount,
    currency,
    ref: orderId,
    names: {
      click_id: field ?? 'note_attributes.click_id',
      voucher: 'discount_codes.code',
      order_id: 'id',
      amount: 'total_price',
      currency: 'currency',
    },
  });
}

async function refundCreated(hook: VerifiedWebhook, refund: Record<string, unknown>): Promise<WebhookAnswer> {
  const refundId = exactId(refund, 'Refund');
  const orderId = text(refund.order_id);
  if (!refundId || !orderId || !/^\d{1,20}$/.test(orderId)) return ignored('no_order_id', 'The refund names no order');
  const transactions = Array.isArray(refund.transactions) ? refund.transactions.map(object) : [];
  let minor = 0;
  for (const t of transactions) {
    if (t.kind !== 'refund' || t.status !== 'success') continue;
    const currency = text(t.currency)?.toUpperCase();
    const parsed = currency && isCurrency(currency) ? parseAmount(text(t.amount) ?? '', currency) : null;
    if (!parsed?.ok) return ignored('bad_amount', 'A refund transaction has no amount in a known currency');
    minor += parsed.minor;
  }
  return recordRefund(hook, { provider: 'shopify', refundId, ref: orderId, amount: minor });
}

export function shopifyWebhook(c: Context<WebhookEnv>): Promise<Response> {
  const signature = c.req.header('x-shopify-hmac-sha256');
  const topic = c.req.header('x-shopify-topic');
  const webhookId = c.req.header('x-shopify-webhook-id');
  return handleWebhook(
    c,
    'shopify',
    { topic, webhook_id: webhookId, shop: c.req.header('x-shopify-shop-domain') },
    (raw, secret) => verifyShopifyHmac(signature, raw, secret),
    async (hook) => {
      const db = hook.c.env.DB;
      if (!webhookId || !topic)
        return ignored('no_webhook_id', 'X-Shopify-Webhook-Id and X-Shopify-Topic are required');
      if (await eventSeen(db, 'shopify', hook.advertiser.id, webhookId)) {
        return ignored('replayed_event', `Delivery ${webhookId} was applied already`);
      }
      const answer =
        topic === 'orders/create'
          ? await orderCreated(hook, hook.payload)
          : topic === 'refunds/create'
            ? await refundCreated(hook, hook.payload)
            : ignored('unused_topic', `Clickhop uses only ${SHOPIFY_TOPICS.join(' and ')}`);
      await markEventStatement(db, 'shopify', hook.advertiser.id, webhookId, nowIso()).run();
      return answer;
    },
  );
}
