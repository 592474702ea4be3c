// A period is a calendar month in the operator's TIMEZONE, written 'YYYY-MM'. Its bounds are
// the UTC instants where that month starts and where the next one starts.
import { badRequest } from '../lib/errors';
import { fromWallTime } from '../lib/timezone';

export interface Period {
  period: string;
  /** UTC ISO instants, [start, end). */
  start: string;
  end: string;
}

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The period's bounds in `zone`, or null for text that is not a month. */
export function periodBounds(text: string, zone: string): Period | null {
  const match = PERIOD.exec(text);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (year < 2000 || year > 2999) return null;
  const start = fromWallTime(year, month, 1, zone);
  const end = month === 12 ? fromWallTime(year + 1, 1, 1, zone) : fromWallTime(year, month + 1, 1, zone);
  return { period: text, start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

/**
 * The period a run may close: a month that has started (the current month states what is
 * approved so far; a later run of it rebuilds its drafts). A month to come is a 400.
 */
export function closablePeriod(text: string, zone: string, nowMs: number): Period {
  const bounds = periodBounds(text, zone);
  if (!bounds) throw badRequest('Invalid period', { period: 'must be a month, YYYY-MM' });
  if (Date.parse(bounds.start) > nowMs) {
    throw badRequest(`Period ${text} has not started`, { period: 'must not be a month to come' });
  }
  return bounds;
}
