// Cap periods in the operator's time zone: the key a period's counter is stored under and the
// instant the period ends (when a reached cap opens again). Weeks start on Monday. Pure.
import { fromWallTime, wallTime } from '../lib/timezone';

export const CAP_PERIODS = ['day', 'week', 'month', 'lifetime'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];

interface Bounds {
  /** Counter key: '2026-11-23' (day), 'W2026-11-23' (week of that Monday), '2026-11' (month), 'lifetime'. */
  key: string;
  /** UTC ms where the period starts and ends; null for lifetime. */
  start: number | null;
  end: number | null;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function periodBounds(period: CapPeriod, ms: number, zone: string): Bounds {
  if (period === 'lifetime') return { key: 'lifetime', start: null, end: null };
  const w = wallTime(ms, zone);
  if (period === 'month') {
    return {
      key: `${w.year}-${pad(w.month)}`,
      start: fromWallTime(w.year, w.month, 1, zone),
      end: fromWallTime(w.year, w.month + 1, 1, zone),
    };
  }
  if (period === 'day') {
    return {
      key: `${w.year}-${pad(w.month)}-${pad(w.day)}`,
      start: fromWallTime(w.year, w.month, w.day, zone),
      end: fromWallTime(w.year, w.month, w.day + 1, zone),
    };
  }
  // Monday of the local week: Date.UTC normalises day overflow across months and years.
  const weekday = (new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay() + 6) % 7;
  const monday = new Date(Date.UTC(w.year, w.month - 1, w.day - weekday));
  const [y, m, d] = [monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate()];
  return { key: `W${y}-${pad(m)}-${pad(d)}`, start: fromWallTime(y, m, d, zone), end: fromWallTime(y, m, d + 7, zone) };
}

/** The counter key of each period at instant `ms`: what the conversion write binds. */
export function periodKeys(ms: number, zone: string): Record<CapPeriod, string> {
  return {
    day: periodBounds('day', ms, zone).key,
    week: periodBounds('week', ms, zone).key,
    month: periodBounds('month', ms, zone).key,
    lifetime: 'lifetime',
  };
}

const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;

/**
 * How a click cap's period [start, end) is read from the rollups exactly: the whole UTC days
 * inside it from the daily table (first day, day after the last), and the quarter hours at its
 * edges from the quarter-hour table ([first, after last) each). Every zone's offset is a whole
 * number of quarter hours, so a local period starts and ends on quarter boundaries; in UTC the
 * edges are empty and only days are read.
 */
export interface ClickCountParts {
  days: [string, string] | null;
  quarters: [number, number][];
}

export function clickCountParts(start: number, end: number): ClickCountParts {
  const firstDay = Math.ceil(start / DAY_MS) * DAY_MS;
  const afterLastDay = Math.floor(end / DAY_MS) * DAY_MS;
  const q = (ms: number) => Math.floor(ms / QUARTER_MS);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  if (firstDay >= afterLastDay) return { days: null, quarters: [[q(start), Math.ceil(end / QUARTER_MS)]] };
  const quarters = [
    [q(start), q(firstDay)],
    [q(afterLastDay), Math.ceil(end / QUARTER_MS)],
  ].filter(([a, b]) => (a ?? 0) < (b ?? 0)) as [number, number][];
  return { days: [day(firstDay), day(afterLastDay)], quarters };
}
