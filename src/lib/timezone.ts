// Wall-clock arithmetic in IANA time zones through Intl (workerd ships full ICU): the UTC
// instant where a local day or month starts, and the local day of an instant. Used for the
// operator's TIMEZONE (tier periods, report days).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when `zone` is an IANA time zone name this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function wallTime(ms: number, zone: string): Wall {
  // UTC, the default TIMEZONE, needs no Intl: formatToParts costs tens of µs a call, and a
  // postback with caps and tiers asks for several wall times (measured: 149 µs a postback).
  if (zone === 'UTC') {
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  }
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at instant `ms`, in ms (UTC+02:00 -> 7,200,000). */
export function zoneOffset(ms: number, zone: string): number {
  const w = wallTime(ms, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The UTC instant of a local wall time (the earlier one when a DST change repeats it). */
export function fromWallTime(year: number, month: number, day: number, zone: string): number {
  const guess = Date.UTC(year, month - 1, day);
  let t = guess - zoneOffset(guess, zone);
  t = guess - zoneOffset(t, zone);
  return t;
}

/** The UTC instants (ISO) from the start of local day `from` to the start of the day after `to`,
 * both 'YYYY-MM-DD' in `zone`: the window of a report over whole local days. */
export function zonedDaysWindow(from: string, to: string, zone: string): { from: string; to: string } {
  const start = (day: string) => {
    const [y, m, d] = day.split('-').map(Number);
    return new Date(fromWallTime(y ?? 1970, m ?? 1, d ?? 1, zone)).toISOString();
  };
  const after = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { from: start(from), to: start(after) };
}

/** The local calendar day of instant `ms` in `zone`, 'YYYY-MM-DD'. */
export function zonedDay(ms: number, zone: string): string {
  const w = wallTime(ms, zone);
  return `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** The UTC instant where the local month holding `ms` starts in `zone`. */
export function zonedMonthStart(ms: number, zone: string): number {
  const w = wallTime(ms, zone);
  return fromWallTime(w.year, w.month, 1, zone);
}

/** The operator's time zone (wrangler var TIMEZONE, default UTC; an unknown name falls back to UTC). */
export function operatorTimeZone(env: Pick<Env, 'TIMEZONE'>): string {
  const zone = env.TIMEZONE || 'UTC';
  return isTimeZone(zone) ? zone : 'UTC';
}
