// A store's sale and its refunds, through the postback path: the sale is attributed and stored
// as /postback stores one (src/postback/*: click or coupon, dedup by order ID, terms, caps,
// notifications, rollups, the log row in the conversion's batch); a refund is recorded first and
// then applied to the sale, whichever arrives first, so order of arrival and replays never count
// a refund twice (the sale's amount becomes its amount as sold minus every refund so far).
import { afterCommit, changeConversionStatus } from '../conversions';
import { adjustConversion } from '../conversions/adjustments';
import type { ConversionWithGoal } from '../db/conversions';
import { getConversion } from '../db/conversions';
import { findOrder, linkOrderStatement, type Provider, recordRefundStatement, refundedTotal } from '../db/integrations';
import { formatAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { resolveTarget } from '../postback/attribution';
import { recordPostback } from '../postback/conversion';
import { parsePostbackInput } from '../postback/input';
import { clipId, createdLogStatement } from '../postback/log';
import type { CanonicalParams, MappedParams } from '../postback/profiles';
import { PostbackReads } from '../postback/reads';
import type { VerifiedWebhook, WebhookAnswer } from './webhook';

export interface SaleReport {
  provider: Provider;
  clickId?: string;
  voucher?: string;
  orderId: string;
  /** Decimal text in `currency`. */
  amount: string;
  currency: string;
  /** What the provider's refunds name the sale by (Stripe: payment intent; Shopify: order id). */
  ref: string;
  /** The provider's names of the fields, for error messages. */
  names: MappedParams['names'];
}

export async function recordSale(hook: VerifiedWebhook, sale: SaleReport): Promise<WebhookAnswer> {
  const { c, advertiser, entry } = hook;
  const db = c.env.DB;
  entry.click_id = clipId(sale.clickId);
  entry.order_id = clipId(sale.orderId);
  const params: CanonicalParams = {
    order_id: sale.orderId,
    amount: sale.amount,
    currency: sale.currency,
    ...(sale.clickId !== undefined ? { click_id: sale.clickId } : {}),
    ...(sale.voucher !== undefined ? { voucher: sale.voucher } : {}),
  };
  const input = parsePostbackInput({ params, names: sale.names });
  const reads = await PostbackReads.prefetch(c.env, params, null);
  const seen: { offer_id?: number } = {};
  const target = await resolveTarget(reads, advertiser, input, sale.names, Date.now(), seen).finally(() => {
    entry.offer_id = seen.offer_id ?? null;
  });
  // A store reports sales: the offer's sale goal when it has one, else its default goal.
  const goals = await reads.goals(target.offer.id);
  const event = goals.some((g) => g.goal.key === 'sale') ? 'sale' : undefined;
  const result = await recordPostback(reads, target, { ...input, event }, sale.names, sale.provider, (row) =>
    createdLogStatement(db, entry, row),
  );
  entry.conversion_id = result.conversion.id;
  afterCommit(c.env, c.executionCtx, result.committed);

  await linkOrderStatement(db, {
    provider: sale.provider,
    advertiser_id: advertiser.id,
    ref: sale.ref,
    conversion_id: result.conversion.id,
    amount: result.conversion.amount,
    currency: result.conversion.currency,
    created_at: nowIso(),
  }).run();
  // Refunds that came first were parked under the same reference: apply them now.
  const link = await findOrder(db, sale.provider, advertiser.id, sale.ref);
  const refunded = link ? await refundedTotal(db, sale.provider, advertiser.id, sale.ref) : 0;
  const cv = refunded > 0 && link ? await applyRefunds(hook, link.conversion_id, link.amount, refunded) : null;
  const shown = cv ?? result.conversion;
  return {
    outcome: result.outcome,
    logged: result.logged,
    body: {
      conversion_id: shown.id,
      duplicate: result.outcome === 'duplicate',
      conversion_status: shown.status,
      order_id: shown.order_id,
      amount: formatAmount(shown.amount, shown.currency),
      currency: shown.currency,
      attribution: shown.attribution ?? (shown.click_id ? 'click' : 'affiliate'),
      ...(refunded > 0 ? { refunded: formatAmount(refunded, shown.currency) } : {}),
    },
  };
}

export interface RefundReport {
  provider: Provider;
  /** Stripe: the charge id (its refunded total only grows); Shopify: the refund id. */
  refundId: string;
  ref: string;
  /** Minor units of the sale's currency. */
  amount: number;
}

export async function recordRefund(hook: VerifiedWebhook, refund: RefundReport): Promise<WebhookAnswer> {
  const { c, advertiser, entry } = hook;
  const db = c.env.DB;
  await recordRefundStatement(db, {
    provider: refund.provider,
    advertiser_id: advertiser.id,
    refund_id: refund.refundId,
    ref: refund.ref,
    amount: refund.amount,
    now: nowIso(),
  }).run();
  const link = await findOrder(db, refund.provider, advertiser.id, refund.ref);
  if (!link) {
    // The sale has not arrived (events are not ordered), or it was no affiliate sale: the refund
    // waits for it; answered 200 so the provider does not retry for nothing.
    return {
      outcome: 'duplicate',
      body: { parked: true },
      note: { code: 'refund_parked', message: `No sale for ${refund.ref} yet: the refund applies when it arrives` },
    };
  }
  const total = await refundedTotal(db, refund.provider, advertiser.id, refund.ref);
  const before = await getConversion(db, link.conversion_id);
  const cv = await applyRefunds(hook, link.conversion_id, link.amount, total);
  entry.conversion_id = link.conversion_id;
  entry.offer_id = cv?.offer_id ?? null;
  entry.order_id = clipId(cv?.order_id ?? undefined);
  const changed = cv !== null && before !== null && (cv.amount !== before.amount || cv.status !== before.status);
  return {
    outcome: changed ? 'updated' : 'duplicate',
    body: cv
      ? {
          conversion_id: cv.id,
          conversion_status: cv.status,
          amount: formatAmount(cv.amount, cv.currency),
          refunded: formatAmount(total, cv.currency),
          currency: cv.currency,
        }
      : {},
  };
}

/**
 * Makes the sale's amount its amount as sold minus `refunded` (every refund so far): an
 * adjustment, or for a full refund a reversal (rejected while still pending). Idempotent.
 */
async function applyRefunds(
  hook: VerifiedWebhook,
  conversionId: string,
  soldAmount: number,
  refunded: number,
): Promise<ConversionWithGoal | null> {
  const { c } = hook;
  const db = c.env.DB;
  const cv = await getConversion(db, conversionId);
  if (!cv || (cv.status !== 'pending' && cv.status !== 'approved')) return cv;
  const reason = `refunded ${formatAmount(Math.min(refunded, soldAmount), cv.currency)} ${cv.currency} (${hook.entry.profile})`;
  if (refunded >= soldAmount) {
    const to = cv.status === 'approved' ? 'reversed' : 'rejected';
    const result = await changeConversionStatus(db, cv, to, 'postback', reason, nowIso);
    afterCommit(c.env, c.executionCtx, result.committed);
    return result.conversion;
  }
  const amount = soldAmount - refunded;
  if (cv.amount === amount) return cv;
  const result = await adjustConversion(
    c.env,
    cv,
    { amount: formatAmount(amount, cv.currency) },
    'postback',
    reason,
    nowIso,
  );
  afterCommit(c.env, c.executionCtx, result.committed);
  return result.conversion;
}
