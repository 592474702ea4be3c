// Small numeric helpers for the report.
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

export const min = (values: readonly number[]): number => Math.min(...values.filter(Number.isFinite));
export const max = (values: readonly number[]): number => Math.max(...values.filter(Number.isFinite));

/** Fixed decimals, thousands separated; '—' for a missing value. */
export function fmt(value: number | null | undefined, decimals = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export const ms = (value: number | null | undefined): string => fmt(value, (value ?? 0) < 10 ? 2 : 1);
export const mb = (bytes: number): string => fmt(bytes / 1048576, 1);
export const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** Adds up status-code counts of several load runs. */
export function mergeStatuses(list: readonly { status: Record<string, number> }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of list) for (const [k, v] of Object.entries(r.status)) out[k] = (out[k] ?? 0) + v;
  return out;
}
