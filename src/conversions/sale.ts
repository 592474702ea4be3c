// A reported sale turned into stored amounts: products and amount parsed in the sale currency,
// converted into the offer's currency at the rate in force when the sale is in another one,
// and revenue and payout priced under the conversion's terms (terms.ts, pricing.ts). Amounts in
// minor units. The sale currency defaults to the offer's. Pure.
import type { ConversionRow } from '../db/conversions';
import { ApiError, badRequest, type FieldErrors } from '../lib/errors';
import { formatAmount, parseAmount } from '../lib/money';
import { convertAmount, parseRate } from './exchange';
import { baseUsesPercent, type PricedLine, priceConversion, usesPercent } from './pricing';
import type { ProductLine } from './snapshot';
import { chooseTerms, goalRulesOf, type PricingTerms, type TermsInput } from './terms';

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

/** What a sale is priced under: the offer's currency, the goal's rules and the rate in force. */
export interface SaleTerms extends Partial<Omit<TermsInput, 'rules' | 'publisherId'>> {
  offerCurrency: string;
  goalKey: string;
  rules: TermsInput['rules'];
  publisherId: number;
  /** The rate from the sale currency into the offer's in force at conversion time, if any. */
  exchangeRate?: string | null;
}

export type Sale = Pick<
  ConversionRow,
  'currency' | 'amount' | 'payout_currency' | 'revenue' | 'payout' | 'products' | 'pricing' | 'exchange_rate'
>;

type SaleField = 'amount' | 'currency' | 'products';
type FieldName = (name: SaleField) => string;

/**
 * The stored amounts of a new sale, or a 400 naming each bad field; `field` gives the name the
 * sender used for a field (a TradeTracker postback says `tam`, not `amount`).
 */
export function priceSale(input: SaleInput, terms: SaleTerms, field: FieldName = (n) => n): Sale {
  const pricing = chooseTerms({
    rules: terms.rules,
    publisherId: terms.publisherId,
    at: terms.at ?? new Date().toISOString(),
    tiers: terms.tiers ?? [],
    before: terms.before ?? 0,
  });
  const rules = goalRulesOf(pricing);
  const currency = input.currency ?? terms.offerCurrency;
  const rate = currency === terms.offerCurrency ? null : (terms.exchangeRate ?? null);
  const errors: FieldErrors = {};
  if (currency !== terms.offerCurrency && rate === null && usesPercent(rules)) {
    errors[field('currency')] =
      `has no exchange rate into ${terms.offerCurrency} in force: goal ${terms.goalKey} pays a percentage (PUT /api/v1/exchange-rates/${currency}/${terms.offerCurrency})`;
  }
  if (input.amount === undefined && input.products === undefined && baseUsesPercent(rules)) {
    throw new ApiError(400, 'amount_required', `Goal ${terms.goalKey} pays a percentage of the sale: send its amount`, {
      [field('amount')]: 'is required: the goal pays a percentage of the sale',
    });
  }
  return priceWithTerms(input, currency, terms.offerCurrency, pricing, rate, field, errors);
}

/** An adjustment of a stored conversion: the same terms and rate, new amount or products. */
export function repriceSale(
  input: Omit<SaleInput, 'currency'>,
  cv: Pick<ConversionRow, 'currency' | 'payout_currency' | 'exchange_rate'>,
  pricing: PricingTerms,
): Sale {
  return priceWithTerms(input, cv.currency, cv.payout_currency, pricing, cv.exchange_rate ?? null, (n) => n, {});
}

function priceWithTerms(
  input: Omit<SaleInput, 'currency'>,
  currency: string,
  offerCurrency: string,
  pricing: PricingTerms,
  rateText: string | null,
  field: FieldName,
  errors: FieldErrors,
): Sale {
  const parsedRate = rateText === null ? null : parseRate(rateText);
  const rate = parsedRate?.ok ? parsedRate.rate : null;
  // Pricing happens in the offer's currency: line totals and the amount are converted first.
  const toOffer = (minor: number) => (rate ? convertAmount(minor, currency, offerCurrency, rate) : minor);
  let lines: PricedLine[] | null = null;
  let products: ProductLine[] | null = null;
  let amount = 0;
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
      amount += total;
      lines?.push({ total: toOffer(total), quantity: product.quantity, commission_group: product.commission_group });
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
  if (input.amount !== undefined) {
    const parsed = parseAmount(input.amount, currency);
    if (parsed.ok) amount = parsed.minor;
    else errors[field('amount')] = parsed.reason;
  }
  if (Object.keys(errors).length > 0) throw badRequest(`Invalid ${Object.keys(errors).join(', ')}`, errors);
  const price = priceConversion(goalRulesOf(pricing), { amount: toOffer(amount), lines });
  if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(price.revenue) || !Number.isSafeInteger(price.payout)) {
    throw badRequest('Amounts are too large', { [field('amount')]: 'is too large' });
  }
  return {
    currency,
    amount,
    payout_currency: offerCurrency,
    revenue: price.revenue,
    payout: price.payout,
    products: products ? JSON.stringify(products) : null,
    pricing: JSON.stringify(pricing),
    exchange_rate: rate ? rateText : null,
  };
}
