// What one validation row asks of the conversion it names, decided against that conversion's
// current state with the lifecycle's own rules (src/conversions/lifecycle.ts): an amendment of
// the amount (an adjustment), a status change, both, nothing (it already is so), or why not.
// Pure: the dry run answers with it, and the apply step decides again with a fresh read.
import { ADJUSTABLE_STATUSES, canChangeStatus, illegalStatusChange } from '../conversions/lifecycle';
import type { ConversionStatus } from '../conversions/status';
import { formatAmount, parseAmount } from '../lib/money';
import type { UploadRow } from './upload';

/** The columns of a conversion a plan reads. */
export interface ConversionState {
  id: string;
  offer_id: number;
  order_id: string | null;
  goal_key: string;
  status: ConversionStatus;
  currency: string;
  amount: number;
  has_products: number;
}

export type Outcome = 'changed' | 'unchanged' | 'failed';

export interface RowPlan {
  outcome: Outcome;
  code: string | null;
  message: string;
  /** The new amount in minor units when it is amended. */
  adjustTo: number | null;
  /** The new status when it changes. */
  statusTo: ConversionStatus | null;
}

export const failed = (code: string, message: string): RowPlan => ({
  outcome: 'failed',
  code,
  message,
  adjustTo: null,
  statusTo: null,
});

export function planRow(row: UploadRow, cv: ConversionState): RowPlan {
  const to = row.status;
  if (row.error || to === null) return failed(row.error?.code ?? 'bad_status', row.error?.message ?? 'no status');
  let amount: number | null = null;
  if (row.amount !== null) {
    if (to !== 'approved') return failed('bad_amount', `an amended amount goes with status approved, not ${to}`);
    const parsed = parseAmount(row.amount, cv.currency);
    if (!parsed.ok) return failed('bad_amount', `amount "${row.amount}" ${parsed.reason}`);
    amount = parsed.minor;
  }
  const statusTo = cv.status === to ? null : to;
  if (statusTo && !canChangeStatus(cv.status, statusTo)) {
    return failed('illegal_status_change', illegalStatusChange(cv.status, statusTo).message);
  }
  const adjustTo = amount !== null && amount !== cv.amount ? amount : null;
  if (adjustTo !== null) {
    if (!ADJUSTABLE_STATUSES.includes(cv.status))
      return failed('not_adjustable', `a ${cv.status} conversion cannot be adjusted`);
    if (cv.has_products) {
      return failed(
        'not_adjustable',
        `conversion ${cv.id} was priced by its product lines: adjust it with products (POST /api/v1/conversions/${cv.id}/adjust)`,
      );
    }
    if (row.reason === null) return failed('reason_required', 'an amended amount needs a reason');
  }
  const money = (minor: number) => `${formatAmount(minor, cv.currency)} ${cv.currency}`;
  if (statusTo === null && adjustTo === null) {
    return {
      outcome: 'unchanged',
      code: null,
      message: `already ${cv.status}${amount !== null ? ` at ${money(cv.amount)}` : ''}`,
      adjustTo: null,
      statusTo: null,
    };
  }
  const parts = [
    ...(statusTo ? [`${cv.status} -> ${statusTo}`] : []),
    ...(adjustTo !== null ? [`amount ${money(cv.amount)} -> ${money(adjustTo)}`] : []),
  ];
  return { outcome: 'changed', code: null, message: parts.join('; '), adjustTo, statusTo };
}
