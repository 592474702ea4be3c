// The conversion status lifecycle and what each status means for the daily rollup. Pure.
//   (new) -> pending | approved | rejected
//   pending -> approved | rejected
//   approved -> reversed
// rejected and reversed are final.
import type { ConversionEventType, ConversionRow, ConversionStatus, StatsColumn } from '../db/conversions';

const NEXT: Record<ConversionStatus, readonly ConversionStatus[]> = {
  pending: ['approved', 'rejected'],
  approved: ['reversed'],
  rejected: [],
  reversed: [],
};

/** Statuses a conversion may be created in (a reversal of something never recorded is not). */
export const INITIAL_STATUSES: readonly ConversionStatus[] = ['pending', 'approved', 'rejected'];

export function canChangeStatus(from: ConversionStatus, to: ConversionStatus): boolean {
  return NEXT[from].includes(to);
}

export function allowedNext(from: ConversionStatus): readonly ConversionStatus[] {
  return NEXT[from];
}

/** The event a conversion entering `status` emits (pending has none beyond conversion.created). */
export function statusEventType(status: ConversionStatus): ConversionEventType | null {
  return status === 'pending' ? null : `conversion.${status}`;
}

/** Events of a new conversion: created, plus approved/rejected when it starts that way. */
export function creationEventTypes(status: ConversionStatus): ConversionEventType[] {
  const extra = statusEventType(status);
  return extra ? ['conversion.created', extra] : ['conversion.created'];
}

type Money = Pick<ConversionRow, 'revenue' | 'payout'>;
type Delta = Partial<Record<StatsColumn, number>>;

/** What one conversion in `status` contributes to its daily_conversion_stats row. */
export function statsContribution(status: ConversionStatus, money: Money): Delta {
  switch (status) {
    case 'pending':
      return { pending: 1, revenue_pending: money.revenue, payout_pending: money.payout };
    case 'approved':
      return { approved: 1, revenue_approved: money.revenue, payout_approved: money.payout };
    case 'rejected':
      return { rejected: 1 };
    case 'reversed':
      return { reversed: 1 };
  }
}

/** Moves a conversion's count and money from one status column to another. */
export function statsMove(from: ConversionStatus, to: ConversionStatus, money: Money): Delta {
  const delta: Delta = {};
  for (const [column, value] of Object.entries(statsContribution(from, money)) as [StatsColumn, number][]) {
    delta[column] = (delta[column] ?? 0) - value;
  }
  for (const [column, value] of Object.entries(statsContribution(to, money)) as [StatsColumn, number][]) {
    delta[column] = (delta[column] ?? 0) + value;
  }
  return delta;
}
