// Currency conversion of sale amounts, exactly: a rate is decimal text ("1.0845": one unit of
// the sale currency is worth 1.0845 units of the offer's), parsed into an integer fraction and
// applied with BigInt, so no binary floating point touches money. Rounding: once, half away
// from zero, to the minor unit of the target currency (e.g. 10.00 USD at 0.9217 = 9.217 EUR ->
// 9.22; 1,999 JPY at 0.0061 = 12.1939 EUR -> 12.19). Pure.
import { currencyExponent } from '../lib/money';

const RATE = /^(\d{1,9})(?:\.(\d{1,12}))?$/;

export interface Rate {
  numerator: bigint;
  denominator: bigint;
}

/** A positive rate from decimal text, or null with a reason. */
export function parseRate(text: string): { ok: true; rate: Rate; text: string } | { ok: false; reason: string } {
  const match = RATE.exec(text.trim());
  if (!match) return { ok: false, reason: 'must be a positive decimal number like 1.0845 (at most 12 decimals)' };
  const fraction = match[2] ?? '';
  const numerator = BigInt((match[1] as string) + fraction);
  if (numerator === 0n) return { ok: false, reason: 'must be greater than 0' };
  // Normalised text: no leading zeros beyond one, no trailing fraction zeros.
  const whole = String(BigInt(match[1] as string));
  const trimmed = fraction.replace(/0+$/, '');
  return {
    ok: true,
    rate: { numerator, denominator: 10n ** BigInt(fraction.length) },
    text: trimmed ? `${whole}.${trimmed}` : whole,
  };
}

/** `minor` units of `from` in minor units of `to` at `rate`, rounded once (see above). */
export function convertAmount(minor: number, from: string, to: string, rate: Rate): number {
  const scaleFrom = 10n ** BigInt(currencyExponent(from));
  const scaleTo = 10n ** BigInt(currencyExponent(to));
  const numerator = BigInt(minor) * rate.numerator * scaleTo;
  const denominator = rate.denominator * scaleFrom;
  const magnitude = (2n * (numerator < 0n ? -numerator : numerator) + denominator) / (2n * denominator);
  return Number(numerator < 0n ? -magnitude : magnitude);
}
