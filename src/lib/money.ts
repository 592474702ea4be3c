// Money is integer minor units of an ISO 4217 currency. Decimal strings are parsed exactly
// (never through floating point) and percentages are basis points with half-up rounding. One
// amount is a safe integer (parseAmount refuses more); sums of amounts are bigints.

/** ISO 4217 active currencies whose minor unit is not 2 decimals. */
const EXPONENT_EXCEPTIONS: Record<string, number> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

/** ISO 4217 active currencies with 2 decimals. */
const TWO_DECIMALS =
  'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
  'GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR ' +
  'LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD ' +
  'PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC ' +
  'SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG';

const EXPONENTS = new Map<string, number>(Object.entries(EXPONENT_EXCEPTIONS));
for (const code of TWO_DECIMALS.split(' ')) EXPONENTS.set(code, 2);

export function isCurrency(code: string): boolean {
  return EXPONENTS.has(code);
}

/** Decimal places of a currency's minor unit; throws for an unknown code. */
export function currencyExponent(code: string): number {
  const exponent = EXPONENTS.get(code);
  if (exponent === undefined) throw new RangeError(`Unknown currency ${code}`);
  return exponent;
}

const DECIMAL = /^(\d{1,15})(?:\.(\d{1,12}))?$/;

export type ParsedAmount = { ok: true; minor: number } | { ok: false; reason: string };

/**
 * Parses a non-negative decimal string ("26.09", "1999", "1.234") into minor units of the
 * currency. Extra decimals are accepted only when they are zeros ("10.500" GBP = 1050); a
 * non-zero digit below the minor unit is refused rather than silently rounded.
 */
export function parseAmount(text: string, currency: string): ParsedAmount {
  const match = DECIMAL.exec(text.trim());
  if (!match) return { ok: false, reason: 'must be a non-negative decimal number like 26.09' };
  const exponent = currencyExponent(currency);
  const whole = match[1] as string;
  const fraction = match[2] ?? '';
  if (/[^0]/.test(fraction.slice(exponent))) {
    return { ok: false, reason: `${currency} has ${exponent} decimal places` };
  }
  const minor =
    BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.slice(0, exponent).padEnd(exponent, '0') || '0');
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'is too large' };
  return { ok: true, minor: Number(minor) };
}

/**
 * Minor units: a stored amount (a safe integer, see parseAmount) or a sum of them, which can pass
 * 2^53 and is then only exact as a bigint (report totals, src/db/rollups.ts).
 */
export type Minor = number | bigint;

/** Minor units back to a decimal string with exactly the currency's decimals ("26.09"). */
export function formatAmount(minor: Minor, currency: string): string {
  const exponent = currencyExponent(currency);
  const value = BigInt(minor);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, '0');
  const text = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative ? `-${text}` : text;
}

/** numerator / denominator rounded half away from zero, exactly (EPC: payout per click). */
export function divideRounded(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (2n * n + d) / (2n * d);
  return negative ? -quotient : quotient;
}

/**
 * amount × basisPoints / 10000, exactly, rounded half up for non-negative amounts and
 * symmetrically (half away from zero) for negative ones, so a reversal mirrors its sale.
 */
export function percentOf(amountMinor: number, basisPoints: number): number {
  const product = BigInt(amountMinor) * BigInt(basisPoints);
  // BigInt division truncates toward zero; round the magnitude and restore the sign.
  return Number(product < 0n ? -((-product + 5000n) / 10000n) : (product + 5000n) / 10000n);
}

/** A percentage given as a number (10, 2.5, 0.01) to basis points; null if finer than 0.01%. */
export function percentToBasisPoints(percent: number): number | null {
  const bp = Math.round(percent * 100);
  return Math.abs(bp - percent * 100) < 1e-6 ? bp : null;
}
