// The conversion status lifecycle and what each status means for the daily rollup. Pure.
//   (new) -> pending | approved | rejected
//   pending -> approved | rejected
//   approved -> reversed
// rejected and reversed are final.
import type { ConversionRow, StatsColumn } from '../db/conversions';
import { ApiError } from '../lib/errors';
import type { ConversionEventType, ConversionStatus } from './status';

const NEXT: Record<ConversionStatus, readonly ConversionStatus[]> = {
  pending: ['approved', 'rejected'],
  approved: ['reversed'],
  rejected: [],
  reversed: [],
};

export function canChangeStatus(from: ConversionStatus, to: ConversionStatus): boolean {
  return NEXT[from].includes(to);
}

export function allowedNext(from: ConversionStatus): readonly ConversionStatus[] {
  return NEXT[from];
}

/** The 409 of a move the lifecycle does not allow, naming the moves it does. */
export function illegalStatusChange(from: ConversionStatus, to: ConversionStatus): ApiError {
  const next = allowedNext(from);
  const allowed = next.length > 0 ? `it can only become ${next.join(' or ')}` : `${from} is final`;
  // "an approved", "a pending": the statuses are English words, so is the sentence.
  const article = /^[aeiou]/.test(from) ? 'an' : 'a';
  return new ApiError(
    409,
    'illegal_status_change',
    `Cannot change ${article} ${from} conversion to ${to}: ${allowed}`,
    {
      status: `cannot change from ${from} to ${to}`,
    },
  );
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

/** What an adjustment of a conversion in `status` from `before` to `after` money adds to its rollup row. */
export function statsAdjust(status: ConversionStatus, before: Money, after: Money): Delta {
  const delta: Delta = {};
  for (const [column, value] of Object.entries(statsContribution(status, after)) as [StatsColumn, number][]) {
    delta[column] = value;
  }
  for (const [column, value] of Object.entries(statsContribution(status, before)) as [StatsColumn, number][]) {
    delta[column] = (delta[column] ?? 0) - value;
  }
  // Counts do not move: the conversion stays where it was.
  for (const column of ['pending', 'approved', 'rejected', 'reversed'] as const) delete delta[column];
  return delta;
}

/** Statuses whose amounts can still be adjusted (rejected and reversed ones pay nothing). */
export const ADJUSTABLE_STATUSES: readonly ConversionStatus[] = ['pending', 'approved'];
