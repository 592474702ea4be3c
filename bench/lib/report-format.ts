// Formatting pieces of bench/RESULTS.md: number formats, Markdown tables, profile tables.
import type { ProfiledLoad } from './cpu-profile.ts';
import type { MemoryPoint, MemoryResult } from './memory.ts';
import { fmt, mb } from './stats.ts';

export const ratio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');
export const us = (x: number): string => (Number.isFinite(x) ? `${fmt(x)} µs` : '—');

export function table(head: readonly string[], rows: readonly (readonly string[])[], { left = false } = {}): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 || left ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function profileText(p: ProfiledLoad, what: string, unit: string): string[] {
  const out = [
    `A V8 sampling profile of the Clickhop isolate (${fmt(p.sampleCount)} samples, median interval ${fmt(p.intervalUs)} µs; each sample counts as one interval) during ${fmt(p.requests)} ${what} ` +
      `(${fmt(p.rps)}/s on the inspector-enabled runtime) and the queue-consumer work they caused. ` +
      `JavaScript of the isolate (its functions, built-ins and GC): **${us(p.jsUsPerRequest)} per ${unit}**. ` +
      `workerd as a whole used ${us(p.cpuUsPerRequest)} of CPU per ${unit} during this profile (at this low rate, with the inspector ` +
      'attached, fixed per-wake-up costs weigh more than under full load); what is not JavaScript of this isolate is the ' +
      "runtime's native work (HTTP, sockets, I/O between isolates) and the KV/Queue/D1 simulators, which are other isolates.",
    '',
  ];
  const ours = p.rows
    .filter((x) => x.ours)
    .sort((a, b) => b.totalUs - a.totalUs)
    .slice(0, 14);
  out.push(
    table(
      ['Clickhop function (inclusive)', `µs / ${unit}`],
      ours.map((x) => [`\`${x.label}\``, fmt(x.totalUs, 1)]),
    ),
    '',
  );
  const selfRows = [...p.rows].sort((a, b) => b.selfUs - a.selfUs).slice(0, 12);
  out.push(
    table(
      ['hottest code (self time)', `µs / ${unit}`],
      selfRows.map((x) => [`\`${x.label}\``, fmt(x.selfUs, 1)]),
    ),
    '',
  );
  return out;
}

/** What the heap did once the cache was full: the evidence that it is bounded. */
export function boundedText(m: MemoryResult): string {
  const bound = m.bound;
  const full = bound ? m.points.filter((p) => p.keys >= bound) : [];
  if (full.length < 2) {
    return 'This run did not reach the cache bound at two measuring points, so it does not show eviction at work. ';
  }
  const a = full[0] as MemoryPoint;
  const b = full[full.length - 1] as MemoryPoint;
  return (
    `From ${fmt(a.keys)} to ${fmt(b.keys)} distinct keys (cache full, evicting) the heap changed by ` +
    `${mb(b.heapUsed - a.heapUsed)} MB: bounded. `
  );
}

export function skipped(section: string, why: string): string {
  return `_${section} not measured: ${why}._`;
}

/** A section's result, or why it failed. */
export type Outcome<T> = T | { error: string };

export function okOf<T extends object>(x: Outcome<T> | undefined): T | undefined {
  return x === undefined || 'error' in x ? undefined : (x as T);
}

export function errorOf<T extends object>(x: Outcome<T> | undefined): string | undefined {
  return x !== undefined && 'error' in x ? x.error : undefined;
}
