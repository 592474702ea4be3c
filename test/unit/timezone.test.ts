// Wall-clock arithmetic: the UTC fast path (no Intl) must agree with Intl's answer for the same
// zone spelled another way, so caps, tiers and report days cannot move by taking it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromWallTime, wallTime, zonedDay } from '../../src/lib/timezone';

describe('wallTime in UTC', () => {
  it('agrees with Intl (Etc/UTC) at every instant from 1971 to 2100', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) => {
        expect(wallTime(ms, 'UTC')).toEqual(wallTime(ms, 'Etc/UTC'));
      }),
      { seed: 150001, numRuns: 2000 },
    );
  });

  it('keeps day and month boundaries exact', () => {
    const midnight = Date.UTC(2026, 11, 1);
    expect(zonedDay(midnight - 1, 'UTC')).toBe('2026-11-30');
    expect(zonedDay(midnight, 'UTC')).toBe('2026-12-01');
    expect(fromWallTime(2026, 12, 1, 'UTC')).toBe(midnight);
    expect(wallTime(midnight - 1, 'UTC')).toEqual({ year: 2026, month: 11, day: 30, hour: 23, minute: 59, second: 59 });
  });
});
