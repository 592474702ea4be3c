// POST /integrations/stripe/:advertiserId — Stripe webhook events (docs/store-integrations.md).
// checkout.session.completed with a click ID in client_reference_id (or metadata.click_id) is a
// sale: amount_total (minor units), currency, the session id as order ID; charge.refunded
// adjusts it by amount_refunded, or reverses it when fully refunded. Other events are
// acknowledged and logged. Replays change nothing: the sale is deduplicated by its order ID, a
// refund is the charge's refunded total (it only grows), and the event id is remembered.
import type { Context } from 'hono';
import { eventSeen, markEventStatement } from '../db/integrations';
import { formatAmount, isCurrency } from '../lib/money';
import { nowIso } from '../lib/time';
import { recordRefund, recordSale } from './orders';
import { verifyStripeSignature } from './signatures';
import { handleWebhook, object, text, type VerifiedWebhook, type WebhookAnswer, type WebhookEnv } from './webhook';

export const STRIPE_EVENTS = ['checkout.session.completed', 'charge.refunded'] as const;

const ignored = (code: string, message: string): WebhookAnswer => ({
  outcome: 'duplicate',
  body: { ignored: true, reason: code },
  note: { code, message },
});

/** Minor units as Stripe sends them, as a whole number, or null. */
const minor = (value: unknown): number | null =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;

async function checkoutCompleted(hook: VerifiedWebhook, session: Record<string, unknown>): Promise<WebhookAnswer> {
  const metadata = object(session.metadata);
  const clickId = text(session.client_reference_id) ?? text(metadata.click_id);
  const sessionId = text(session.id);
  if (!sessionId) return ignored('no_session_id', 'The checkout session has no id');
  if (clickId === undefined) {
    return ignored('no_click_id', 'No click ID in client_reference_id or metadata.click_id: not an affiliate sale');
  }
  const currency = text(session.currency)?.toUpperCase();
  const amount = minor(session.amount_total);
  if (!currency || !isCurrency(currency) || amount === null) {
    return ignored('no_amount', 'The session has no amount_total and currency');
  }
  return recordSale(hook, {
    provider: 'stripe',
    clickId,
    orderId: sessionId,
    amount: formatAmount(amount, currency),
    currency,
    // A refund names the charge's payment intent; a session without one (subscription mode) is
    // found by its own id, which no refund names (docs/store-integrations.md).
    ref: text(session.payment_intent) ?? sessionId,
    names: {
      click_id: text(session.client_reference_id) !== undefined ? 'client_reference_id' : 'metadata.click_id',
      order_id: 'id',
      amount: 'amount_total',
      currency: 'currency',
    },
  });
}

async function chargeRefunded(hook: VerifiedWebhook, charge: Record<string, unknown>): Promise<WebhookAnswer> {
  const chargeId = text(charge.id);
  const paymentIntent = text(charge.payment_intent);
  const refunded = minor(charge.amount_refunded);
  if (!chargeId || !paymentIntent || refunded === null) {
    return ignored('no_payment_intent', 'The charge names no payment intent or refunded amount');
  }
  return recordRefund(hook, { provider: 'stripe', refundId: chargeId, ref: paymentIntent, amount: refunded });
}

export function stripeWebhook(c: Context<WebhookEnv>): Promise<Response> {
  const signature = c.req.header('stripe-signature');
  return handleWebhook(
    c,
    'stripe',
    {},
    (raw, secret) => verifyStripeSignature(signature, raw, secret, Math.floor(Date.now() / 1000)),
    async (hook) => {
      const type = text(hook.payload.type);
      const eventId = text(hook.payload.id);
      const data = object(object(hook.payload.data).object);
      hook.entry.params = { type: type ?? '', event_id: eventId ?? '', object_id: text(data.id) ?? '' };
      if (!eventId || !type) return ignored('not_an_event', 'The body is not a Stripe event');
      const db = hook.c.env.DB;
      if (await eventSeen(db, 'stripe', hook.advertiser.id, eventId)) {
        return ignored('replayed_event', `Event ${eventId} was applied already`);
      }
      const answer =
        type === 'checkout.session.completed'
          ? await checkoutCompleted(hook, data)
          : type === 'charge.refunded'
            ? await chargeRefunded(hook, data)
            : ignored('unused_event', `Clickhop uses only ${STRIPE_EVENTS.join(' and ')}`);
      await markEventStatement(db, 'stripe', hook.advertiser.id, eventId, nowIso()).run();
      return answer;
    },
  );
}
