// Program terms, pure parts: cap periods in the operator's time zone, the click path's access
// decision, and the smart link's weighted choice.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type OfferTerms, offerTerms, refusalFor } from '../../src/terms/access';
import { CAP_PERIODS, clickCountParts, periodBounds, periodKeys } from '../../src/terms/periods';
import { matchesVisitor, pickByWeight, type SmartLinkRule } from '../../src/terms/smart-links';

const at = (text: string) => Date.parse(text);

describe('cap periods', () => {
  it('keys a UTC day, week (Monday) and month, ending at the next boundary', () => {
    const ms = at('2026-11-25T10:00:00.000Z'); // a Wednesday
    expect(periodKeys(ms, 'UTC')).toEqual({
      day: '2026-11-25',
      week: 'W2026-11-23',
      month: '2026-11',
      lifetime: 'lifetime',
    });
    expect(periodBounds('day', ms, 'UTC')).toEqual({
      key: '2026-11-25',
      start: at('2026-11-25T00:00:00.000Z'),
      end: at('2026-11-26T00:00:00.000Z'),
    });
    expect(periodBounds('week', ms, 'UTC').end).toBe(at('2026-11-30T00:00:00.000Z'));
    expect(periodBounds('month', ms, 'UTC').end).toBe(at('2026-12-01T00:00:00.000Z'));
    expect(periodBounds('lifetime', ms, 'UTC')).toEqual({ key: 'lifetime', start: null, end: null });
  });

  it('follows the operator time zone: 23:30 UTC is already the next day in Berlin', () => {
    const ms = at('2026-11-30T23:30:00.000Z');
    expect(periodKeys(ms, 'Europe/Berlin')).toMatchObject({ day: '2026-12-01', month: '2026-12', week: 'W2026-11-30' });
    expect(periodBounds('day', ms, 'Europe/Berlin').end).toBe(at('2026-12-01T23:00:00.000Z'));
  });

  it('has a 23-hour day when the clocks go forward', () => {
    const b = periodBounds('day', at('2026-03-29T12:00:00.000Z'), 'Europe/Berlin');
    expect(b.key).toBe('2026-03-29');
    expect((b.end as number) - (b.start as number)).toBe(23 * 3_600_000);
  });

  it('keys weeks across a year end by their Monday', () => {
    expect(periodKeys(at('2027-01-01T12:00:00.000Z'), 'UTC').week).toBe('W2026-12-28');
    expect(periodKeys(at('2026-12-28T00:00:00.000Z'), 'UTC').week).toBe('W2026-12-28');
    expect(periodKeys(at('2026-12-27T23:59:59.999Z'), 'UTC').week).toBe('W2026-12-21');
  });
});

describe('click cap counting parts', () => {
  const Q = 900_000;
  const dayStart = (day: string) => at(`${day}T00:00:00.000Z`);

  it('reads a UTC period from whole days only', () => {
    const { start, end } = periodBounds('month', at('2026-11-25T10:00:00.000Z'), 'UTC');
    expect(clickCountParts(start ?? 0, end ?? 0)).toEqual({ days: ['2026-11-01', '2026-12-01'], quarters: [] });
  });

  it('reads a +05:30 day from the quarters of the two UTC days it straddles', () => {
    const { start, end } = periodBounds('day', at('2026-03-10T20:00:00.000Z'), 'Asia/Kolkata');
    expect(clickCountParts(start ?? 0, end ?? 0)).toEqual({
      days: null,
      quarters: [[at('2026-03-10T18:30:00.000Z') / Q, at('2026-03-11T18:30:00.000Z') / Q]],
    });
  });

  it('reads a +05:30 month as whole UTC days plus its two edges', () => {
    const { start, end } = periodBounds('month', at('2026-03-10T20:00:00.000Z'), 'Asia/Kolkata');
    expect(clickCountParts(start ?? 0, end ?? 0)).toEqual({
      days: ['2026-03-01', '2026-03-31'],
      quarters: [
        [at('2026-02-28T18:30:00.000Z') / Q, at('2026-03-01T00:00:00.000Z') / Q],
        [at('2026-03-31T00:00:00.000Z') / Q, at('2026-03-31T18:30:00.000Z') / Q],
      ],
    });
  });

  it('covers every period in any zone exactly once, with no gap and no overlap', () => {
    const zones = ['UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'Europe/Berlin', 'America/St_Johns', 'Pacific/Chatham'];
    fc.assert(
      fc.property(
        fc.integer({ min: at('2020-01-01T00:00:00Z'), max: at('2030-01-01T00:00:00Z') }),
        fc.constantFrom(...zones),
        fc.constantFrom(...CAP_PERIODS.filter((p) => p !== 'lifetime')),
        (ms, zone, period) => {
          const { start, end } = periodBounds(period, ms, zone);
          if (start === null || end === null) return;
          const parts = clickCountParts(start, end);
          const pieces: [number, number][] = parts.quarters.map(([a, b]) => [a * Q, b * Q]);
          if (parts.days) pieces.push([dayStart(parts.days[0]), dayStart(parts.days[1])]);
          pieces.sort((x, y) => x[0] - y[0]);
          expect(pieces[0]?.[0]).toBe(start);
          expect(pieces.at(-1)?.[1]).toBe(end);
          for (let i = 1; i < pieces.length; i++) expect(pieces[i]?.[0]).toBe(pieces[i - 1]?.[1]);
          for (const [a, b] of pieces) expect(a).toBeLessThan(b);
        },
      ),
    );
  });
});

describe('access decision', () => {
  const now = at('2026-11-25T10:00:00.000Z');

  it('lets every click through when no terms are in force (no terms cached at all)', () => {
    expect(offerTerms('public', [], null, [])).toBeUndefined();
    expect(refusalFor(undefined, 7, now)).toBeNull();
  });

  it('refuses a private offer to a publisher who is not approved', () => {
    const terms = offerTerms('private', [2, 5, 9, 40], null, []) as OfferTerms;
    for (const approved of [2, 5, 9, 40]) expect(refusalFor(terms, approved, now)).toBeNull();
    for (const other of [1, 3, 8, 41]) expect(refusalFor(terms, other, now)).toBe('offer_not_available');
  });

  it('refuses a capped publisher until the period ends, and only that publisher for a per-publisher cap', () => {
    const until = at('2026-11-26T00:00:00.000Z');
    const terms = offerTerms('public', [], null, [{ capId: 1, publisherId: 7, period: 'day', until }]) as OfferTerms;
    expect(refusalFor(terms, 7, now)).toBe('offer_capped');
    expect(refusalFor(terms, 8, now)).toBeNull();
    expect(refusalFor(terms, 7, until)).toBeNull();
  });

  it('refuses everyone for an offer-wide lifetime cap', () => {
    const terms = offerTerms('public', [], null, [{ capId: 1, publisherId: null, period: 'lifetime', until: null }]);
    expect(refusalFor(terms, 1, now + 10 * 365 * 86_400_000)).toBe('offer_capped');
  });
});

describe('smart link choice', () => {
  const rule = (offerId: number, weight: number, extra: Partial<SmartLinkRule> = {}): SmartLinkRule => ({
    offerId,
    weight,
    countries: null,
    devices: null,
    ...extra,
  });

  it('splits traffic by weight', () => {
    const rules = [rule(1, 3), rule(2, 1)];
    const counts = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const chosen = pickByWeight(rules, i / 1000) as SmartLinkRule;
      counts.set(chosen.offerId, (counts.get(chosen.offerId) ?? 0) + 1);
    }
    expect(counts.get(1)).toBe(750);
    expect(counts.get(2)).toBe(250);
  });

  it('chooses nothing among no eligible rules', () => {
    expect(pickByWeight([], 0.5)).toBeNull();
  });

  it('matches country and device when the rule names them', () => {
    const de = rule(1, 1, { countries: ['DE', 'AT'], devices: ['mobile'] });
    expect(matchesVisitor(de, 'DE', 'mobile')).toBe(true);
    expect(matchesVisitor(de, 'FR', 'mobile')).toBe(false);
    expect(matchesVisitor(de, 'DE', 'desktop')).toBe(false);
    expect(matchesVisitor(de, null, 'mobile')).toBe(false);
    expect(matchesVisitor(rule(2, 1), null, 'unknown')).toBe(true);
  });
});
