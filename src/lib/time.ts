// Time in Clickhop is UTC ISO 8601 with milliseconds; it sorts as text in D1.

export const iso = (ms: number): string => new Date(ms).toISOString();

export const nowIso = (): string => new Date().toISOString();

/** UTC calendar day of an ISO timestamp or epoch ms, 'YYYY-MM-DD'. */
export const utcDay = (t: string | number): string => (typeof t === 'string' ? t : iso(t)).slice(0, 10);

export const DAY_MS = 86_400_000;
