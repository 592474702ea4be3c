// TOTP (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 6 digits, 30-second steps, one step of clock
// drift either way; plus the secret's base32 form and otpauth:// URI that authenticator apps
// read, and recovery codes. Pure, synchronous functions; second-factor.ts stores and checks.
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { randomBytes, timingSafeEqualBytes } from '../lib/crypto';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps either side of now a code is accepted for (phone clocks drift). */
export const TOTP_DRIFT_STEPS = 1;
/** RFC 4226 recommends at least 128 bits; 160 is SHA-1's block-friendly size most apps expect. */
export const TOTP_SECRET_BYTES = 20;
export const RECOVERY_CODE_COUNT = 10;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const encoder = new TextEncoder();

/** RFC 4648 base32 without padding (what authenticator apps take). */
export function toBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32.charAt((buffer >>> (bits - 5)) & 31);
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32.charAt((buffer << (5 - bits)) & 31);
  return out;
}

/** Base32 as people type it (any case, spaces, padding); null on a character outside the alphabet. */
export function fromBase32(text: string): Uint8Array | null {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32.indexOf(char);
    if (value < 0) return null;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 255);
      bits -= 8;
      buffer &= (1 << bits) - 1;
    }
  }
  return new Uint8Array(out);
}

/** RFC 4226 HOTP with `hash` (RFC 6238 allows SHA-256 and SHA-512 too; apps use SHA-1). */
export function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS, hash = sha1): string {
  const message = new Uint8Array(8);
  const view = new DataView(message.buffer);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
  const mac = hmac(hash, secret, message);
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary =
    (((mac[offset] as number) & 0x7f) << 24) |
    ((mac[offset + 1] as number) << 16) |
    ((mac[offset + 2] as number) << 8) |
    (mac[offset + 3] as number);
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step of a moment: floor(unix seconds / 30). */
export const totpStep = (nowMs: number): number => Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS);

export const totpAt = (secret: Uint8Array, nowMs: number, digits = TOTP_DIGITS, hash = sha1): string =>
  hotp(secret, totpStep(nowMs), digits, hash);

/**
 * The step a code is right for, within the drift window and after `afterStep` (a code already
 * used, or an older one, is refused: replays fail), or null. Every candidate is computed and
 * compared in constant time, so timing tells nothing about which step or digit matched.
 */
export function matchTotp(secret: Uint8Array, code: string, nowMs: number, afterStep: number | null): number | null {
  const given = encoder.encode(code.replace(/\s/g, ''));
  const now = totpStep(nowMs);
  let matched: number | null = null;
  for (let step = now - TOTP_DRIFT_STEPS; step <= now + TOTP_DRIFT_STEPS; step++) {
    const ok = timingSafeEqualBytes(encoder.encode(hotp(secret, step)), given);
    if (ok && (afterStep === null || step > afterStep) && matched === null) matched = step;
  }
  return matched;
}

export const newTotpSecret = (): Uint8Array => randomBytes(TOTP_SECRET_BYTES);

/** What an authenticator app reads (typed in or pasted; no QR code is drawn). */
export function otpauthUri(secret: Uint8Array, account: string, issuer: string): string {
  const label = encodeURIComponent(`${issuer}:${account}`);
  const params = new URLSearchParams({
    secret: toBase32(secret),
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_STEP_SECONDS),
  });
  return `otpauth://totp/${label}?${params}`;
}

/** The secret in groups of four, easier to type into an app. */
export const groupedBase32 = (secret: Uint8Array): string => toBase32(secret).replace(/(.{4})(?=.)/g, '$1 ');

const RECOVERY_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** A recovery code: 16 characters (80 bits) in four groups, without look-alike characters. */
export function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  let code = '';
  for (const byte of bytes) code += RECOVERY_ALPHABET.charAt(byte & 31);
  return code.replace(/(.{4})(?=.)/g, '$1-');
}

/** A recovery code as typed (case, spaces and dashes ignored), or null when it cannot be one. */
export function normalRecoveryCode(text: string): string | null {
  const bare = text.toLowerCase().replace(/[\s-]/g, '');
  if (bare.length !== 16 || [...bare].some((c) => !RECOVERY_ALPHABET.includes(c))) return null;
  return bare.replace(/(.{4})(?=.)/g, '$1-');
}

/** A six-digit code as typed (spaces ignored), or null. */
export const normalTotpCode = (text: string): string | null => {
  const bare = text.replace(/\s/g, '');
  return /^\d{6}$/.test(bare) ? bare : null;
};
