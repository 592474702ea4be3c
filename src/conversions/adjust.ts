// Adjustments (impact.com's and TUNE's "modify conversion"): the operator or the advertiser
// changes the amount or the product lines of a conversion, for a partial refund for instance.
// Revenue and payout are repriced under the conversion's frozen terms and exchange rate; the
// status stays; the rollup moves by the difference, so it stays exact to the cent. Pure.
import type { ConversionRow, StatsColumn } from '../db/conversions';
import { ApiError } from '../lib/errors';
import { ADJUSTABLE_STATUSES, statsAdjust } from './lifecycle';
import { type ProductInput, repriceSale } from './sale';
import type { PricingTerms } from './terms';

export interface AdjustmentInput {
  amount?: string;
  products?: readonly ProductInput[];
}

export interface AdjustmentPlan {
  after: ConversionRow;
  /** What the conversion's daily rollup row gains (negative: loses). */
  stats: Partial<Record<StatsColumn, number>>;
}

export function planAdjustment(
  cv: ConversionRow,
  input: AdjustmentInput,
  pricing: PricingTerms,
  now: string,
): AdjustmentPlan {
  if (!ADJUSTABLE_STATUSES.includes(cv.status)) {
    throw new ApiError(409, 'not_adjustable', `A ${cv.status} conversion cannot be adjusted`, {
      status: `must be ${ADJUSTABLE_STATUSES.join(' or ')} to adjust`,
    });
  }
  if (cv.products && !input.products) {
    throw new ApiError(400, 'invalid_request', 'This conversion was priced by its product lines: send products', {
      products: 'is required: the conversion has product lines',
    });
  }
  const sale = repriceSale(input, cv, pricing);
  const after: ConversionRow = {
    ...cv,
    amount: sale.amount,
    // Adjusting the amount alone keeps the product lines as reported.
    products: input.products ? sale.products : cv.products,
    revenue: sale.revenue,
    payout: sale.payout,
    updated_at: now,
  };
  return { after, stats: statsAdjust(cv.status, cv, after) };
}
