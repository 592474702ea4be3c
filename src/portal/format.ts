// Small formatting and input helpers shared by the portal pages.
import { ApiError } from '../lib/errors';
import { DAY_MS, utcDay } from '../lib/time';

export { money } from '../dashboard/render';

export const utcTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;

export const count = new Intl.NumberFormat('en-US');

const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 366;

export interface DayRange {
  /** First and last UTC day, inclusive. */
  from: string;
  to: string;
}

const validDay = (text: string) => DAY.test(text) && utcDay(Date.parse(`${text}T00:00:00Z`) || 0) === text;

/**
 * The from/to query of a page (UTC days, inclusive); the last 30 days by default. A malformed
 * or reversed range is a 400 naming the field.
 */
export function dayRange(query: { from?: string; to?: string }, nowMs: number): DayRange {
  const to = query.to || utcDay(nowMs);
  const from = query.from || utcDay(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_RANGE_DAYS - 1) * DAY_MS);
  if (!validDay(to))
    throw new ApiError(400, 'invalid_request', 'to must be a day, YYYY-MM-DD', { to: 'must be a day, YYYY-MM-DD' });
  if (!validDay(from))
    throw new ApiError(400, 'invalid_request', 'from must be a day, YYYY-MM-DD', { from: 'must be a day, YYYY-MM-DD' });
  if (from > to)
    throw new ApiError(400, 'invalid_request', 'from must not be after to', { from: 'must not be after to' });
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
  if (days > MAX_RANGE_DAYS) {
    throw new ApiError(400, 'invalid_request', `A range covers at most ${MAX_RANGE_DAYS} days`, {
      from: `at most ${MAX_RANGE_DAYS} days before to`,
    });
  }
  return { from, to };
}

/** The ISO instants bounding a day range: [from 00:00, day after to 00:00). */
export const instants = (range: DayRange) => ({
  from: `${range.from}T00:00:00.000Z`,
  to: new Date(Date.parse(`${range.to}T00:00:00Z`) + DAY_MS).toISOString(),
});

/** A form field as text ('' when missing or a file). */
export const field = (form: Record<string, unknown>, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value.trim() : '';
};

/** A form field exactly as typed (passwords: spaces count). */
export const rawField = (form: Record<string, unknown>, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value : '';
};
