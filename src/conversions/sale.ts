// A reported sale turned into stored amounts: products and amount parsed in the sale currency,
// revenue and payout priced by the goal's rules (pricing.ts). Amounts in minor units. The sale
// currency defaults to the offer's; a percentage of a sale in another currency would need an
// exchange rate, which Clickhop does not have, so it is refused.
import type { ConversionRow } from '../db/conversions';
import type { PayoutRuleRow } from '../db/offers';
import { badRequest, type FieldErrors } from '../lib/errors';
import { formatAmount, parseAmount } from '../lib/money';
import { type PricedLine, priceConversion, selectRules, usesPercent } from './pricing';
import type { ProductLine } from './snapshot';

/** One product line as reported (shape already checked; the price is still text). */
export interface ProductInput {
  sku: string | null;
  name: string | null;
  unit_price: string;
  quantity: number;
  category: string | null;
  commission_group: string | null;
}

export interface SaleInput {
  currency?: string;
  amount?: string;
  products?: readonly ProductInput[];
}

/** What a sale is priced under: the offer's currency and the goal's payout rules. */
export interface SaleTerms {
  offerCurrency: string;
  goalKey: string;
  rules: readonly PayoutRuleRow[];
  publisherId: number;
}

export type Sale = Pick<ConversionRow, 'currency' | 'amount' | 'payout_currency' | 'revenue' | 'payout' | 'products'>;

type SaleField = 'amount' | 'currency' | 'products';

/**
 * The stored amounts of a sale, or a 400 naming each bad field; `field` gives the name the
 * sender used for a field (a TradeTracker postback says `tam`, not `amount`).
 */
export function priceSale(input: SaleInput, terms: SaleTerms, field: (name: SaleField) => string = (n) => n): Sale {
  const errors: FieldErrors = {};
  const currency = input.currency ?? terms.offerCurrency;
  let lines: PricedLine[] | null = null;
  let products: ProductLine[] | null = null;
  if (input.products) {
    lines = [];
    products = [];
    input.products.forEach((product, i) => {
      const price = parseAmount(product.unit_price, currency);
      if (!price.ok) {
        errors[`${field('products')}.${i}.unit_price`] = price.reason;
        return;
      }
      const total = price.minor * product.quantity;
      if (!Number.isSafeInteger(total)) errors[`${field('products')}.${i}.quantity`] = 'makes the line total too large';
      lines?.push({ total, quantity: product.quantity, commission_group: product.commission_group });
      products?.push({
        sku: product.sku,
        name: product.name,
        unit_price: formatAmount(price.minor, currency),
        quantity: product.quantity,
        category: product.category,
        commission_group: product.commission_group,
      });
    });
  }
  let amount = lines ? lines.reduce((sum, line) => sum + line.total, 0) : 0;
  if (input.amount !== undefined) {
    const parsed = parseAmount(input.amount, currency);
    if (parsed.ok) amount = parsed.minor;
    else errors[field('amount')] = parsed.reason;
  }
  const rules = selectRules(terms.rules, terms.publisherId);
  if (currency !== terms.offerCurrency && usesPercent(rules)) {
    errors[field('currency')] =
      `must be ${terms.offerCurrency}: goal ${terms.goalKey} pays a percentage and sales in other currencies are not converted`;
  }
  if (Object.keys(errors).length > 0) throw badRequest(`Invalid ${Object.keys(errors).join(', ')}`, errors);
  const price = priceConversion(rules, { amount, lines });
  if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(price.revenue) || !Number.isSafeInteger(price.payout)) {
    throw badRequest('Amounts are too large', { [field('amount')]: 'is too large' });
  }
  return {
    currency,
    amount,
    payout_currency: terms.offerCurrency,
    revenue: price.revenue,
    payout: price.payout,
    products: products ? JSON.stringify(products) : null,
  };
}
