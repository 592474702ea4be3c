// Money in integer minor units: exact decimal parsing per ISO 4217 exponent, formatting, percentages,
// and sums past 2^53 (bigints) formatted and divided exactly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minorOf } from '../../src/db/rollups';
import {
  currencyExponent,
  divideRounded,
  formatAmount,
  isCurrency,
  parseAmount,
  percentOf,
  percentToBasisPoints,
} from '../../src/lib/money';

describe('parseAmount', () => {
  it.each([
    ['5.00', 'EUR', 500],
    ['26.09', 'EUR', 2609],
    ['0.5', 'EUR', 50],
    ['7', 'USD', 700],
    ['10.500', 'GBP', 1050],
    ['1999', 'JPY', 1999],
    ['1999.000', 'JPY', 1999],
    ['1.234', 'BHD', 1234],
    ['0.001', 'KWD', 1],
    ['1.2345', 'CLF', 12345],
    [' 3.10 ', 'EUR', 310],
    ['0', 'EUR', 0],
    ['000012.30', 'EUR', 1230],
  ])('reads %s %s as %i minor units', (text, currency, minor) => {
    expect(parseAmount(text, currency)).toEqual({ ok: true, minor });
  });

  it.each([
    ['1.001', 'EUR'],
    ['1.5', 'JPY'],
    ['1.2345', 'BHD'],
  ])('refuses %s %s rather than rounding below the minor unit', (text, currency) => {
    expect(parseAmount(text, currency)).toEqual({
      ok: false,
      reason: `${currency} has ${currencyExponent(currency)} decimal places`,
    });
  });

  it.each(['', '-1', '-0.01', '1e3', '1,00', '.5', '5.', '1.2.3', 'abc', '0x10', 'NaN', 'Infinity', '１２'])(
    'refuses the malformed amount %j',
    (text) => {
      expect(parseAmount(text, 'EUR').ok).toBe(false);
    },
  );

  it('refuses amounts beyond the safe integer range', () => {
    expect(parseAmount('999999999999999', 'CLF')).toEqual({ ok: false, reason: 'is too large' });
    expect(parseAmount('90071992547409.91', 'EUR')).toEqual({ ok: true, minor: 9007199254740991 });
    expect(parseAmount('90071992547409.92', 'EUR')).toEqual({ ok: false, reason: 'is too large' });
  });

  it('throws for an unknown currency (callers validate the code first)', () => {
    expect(() => parseAmount('1.00', 'XYZ')).toThrow(RangeError);
  });
});

describe('formatAmount', () => {
  it.each([
    [500, 'EUR', '5.00'],
    [5, 'EUR', '0.05'],
    [0, 'EUR', '0.00'],
    [1999, 'JPY', '1999'],
    [1234, 'BHD', '1.234'],
    [1, 'BHD', '0.001'],
    [-250, 'EUR', '-2.50'],
    [12345, 'CLF', '1.2345'],
  ])('writes %i %s as %s', (minor, currency, text) => {
    expect(formatAmount(minor, currency)).toBe(text);
  });

  it('round-trips with parseAmount for any safe amount (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom('EUR', 'USD', 'JPY', 'BHD', 'KWD', 'CLF', 'KRW'),
        (minor, currency) => {
          const text = formatAmount(minor, currency);
          expect(text).toMatch(currencyExponent(currency) === 0 ? /^\d+$/ : /^\d+\.\d+$/);
          const parsed = parseAmount(text, currency);
          if (minor <= 999_999_999_999_999 * 10 ** currencyExponent(currency)) {
            expect(parsed).toEqual({ ok: true, minor });
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('currencies', () => {
  it('knows ISO 4217 codes and their exponents', () => {
    expect(isCurrency('EUR')).toBe(true);
    expect(isCurrency('JPY')).toBe(true);
    expect(isCurrency('BHD')).toBe(true);
    expect(isCurrency('eur')).toBe(false);
    expect(isCurrency('XYZ')).toBe(false);
    expect(isCurrency('')).toBe(false);
    expect(currencyExponent('EUR')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('BHD')).toBe(3);
    expect(currencyExponent('CLF')).toBe(4);
    expect(() => currencyExponent('XYZ')).toThrow(RangeError);
  });
});

describe('percentOf', () => {
  it.each([
    [10000, 1000, 1000],
    [1999, 1000, 200],
    [5, 1000, 1],
    [4, 1000, 0],
    [15, 1000, 2],
    [14, 1000, 1],
    [12345, 250, 309],
    [0, 5000, 0],
    [100, 0, 0],
    [100, 1000000, 10000],
  ])('%i × %i bp = %i (half up)', (amount, bp, expected) => {
    expect(percentOf(amount, bp)).toBe(expected);
  });

  it('rounds negative amounts symmetrically, so a reversal mirrors its sale', () => {
    expect(percentOf(-5, 1000)).toBe(-1);
    expect(percentOf(-4, 1000)).toBe(0);
    expect(percentOf(-6, 1000)).toBe(-1);
    expect(percentOf(-1999, 1000)).toBe(-200);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 9 }), fc.integer({ min: 0, max: 1_000_000 }), (amount, bp) => {
        expect(percentOf(-amount, bp)).toBe(0 - percentOf(amount, bp));
      }),
    );
  });

  it('is exact where floating point is not (property against a decimal reference)', () => {
    fc.assert(
      // Results stay below 2^53: amounts up to 9e13 minor units, percentages up to 10000%.
      fc.property(fc.integer({ min: 0, max: 9 * 10 ** 13 }), fc.integer({ min: 0, max: 1_000_000 }), (amount, bp) => {
        const product = BigInt(amount) * BigInt(bp);
        const floor = product / 10000n;
        const rest = product % 10000n;
        const expected = rest >= 5000n ? floor + 1n : floor;
        expect(BigInt(percentOf(amount, bp))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('percentToBasisPoints', () => {
  it.each([
    [10, 1000],
    [2.5, 250],
    [0.01, 1],
    [0.29, 29],
    [33.33, 3333],
    [0, 0],
    [100, 10000],
  ])('%d%% = %i bp', (percent, bp) => {
    expect(percentToBasisPoints(percent)).toBe(bp);
  });

  it.each([0.001, 33.333, 1.005])('refuses %d%% (finer than 0.01%%)', (percent) => {
    expect(percentToBasisPoints(percent)).toBeNull();
  });
});

describe('sums past 2^53', () => {
  it('format exactly, where a number would lose the last cent', () => {
    expect(formatAmount(2n ** 53n + 1n, 'EUR')).toBe('90071992547409.93');
    expect(formatAmount(Number(2n ** 53n + 1n), 'EUR')).toBe('90071992547409.92');
    expect(formatAmount(-(2n ** 64n), 'JPY')).toBe('-18446744073709551616');
    expect(formatAmount(5n, 'BHD')).toBe('0.005');
  });

  it('read back from the two parts the SQL sums return, for any sum', () => {
    const part = 2n ** 32n;
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), (sum) => {
        // SQLite divides toward zero and gives the remainder the dividend's sign, as BigInt does.
        expect(minorOf(`${sum / part}:${sum % part}`)).toBe(sum);
      }),
    );
    expect(minorOf(null)).toBe(0n);
  });

  it('divide rounding half away from zero', () => {
    expect(divideRounded(5n, 2n)).toBe(3n);
    expect(divideRounded(-5n, 2n)).toBe(-3n);
    expect(divideRounded(4n, 3n)).toBe(1n);
    expect(divideRounded(2n ** 53n + 1n, 6n)).toBe(1_501_199_875_790_166n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 70n }), fc.bigInt({ min: 1n, max: 2n ** 40n }), (n, d) => {
        const q = divideRounded(n, d);
        // |n - q d| <= d / 2, a tie going up (away from zero).
        expect(2n * (n - q * d) < d && 2n * (q * d - n) <= d).toBe(true);
      }),
    );
  });
});
