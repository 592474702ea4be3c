// Passwords: PBKDF2-SHA256 with a per-user random salt. workerd refuses more than 100,000
// iterations, so that is the cost; the stored form names its parameters
// ('pbkdf2-sha256$100000$<salt>$<hash>'), so a later change of cost can still verify old hashes.
import { fromBase64UrlStrict, randomBytes, timingSafeEqualBytes, toBase64Url } from '../lib/crypto';

export const PBKDF2_ITERATIONS = 100_000;
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

// Multiples of 3 bytes: their base64url has no padding bits, which the strict decoder requires.
const SALT_BYTES = 15;
const HASH_BYTES = 33;
const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array, iterations: number, bytes: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    key,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, iterations, HASH_BYTES);
  return `pbkdf2-sha256$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

/** False for a wrong password and for a stored value this code does not understand. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterationsText, saltText, hashText] = stored.split('$');
  const iterations = Number(iterationsText);
  if (scheme !== 'pbkdf2-sha256' || !Number.isInteger(iterations) || iterations < 1) return false;
  if (iterations > PBKDF2_ITERATIONS) return false;
  const salt = fromBase64UrlStrict(saltText ?? '');
  const expected = fromBase64UrlStrict(hashText ?? '');
  if (!salt || !expected || expected.length === 0) return false;
  return timingSafeEqualBytes(await derive(password, salt, iterations, expected.length), expected);
}

/**
 * Spends the time of one verification without a user, so an unknown email answers as slowly as
 * a wrong password and timing does not tell which addresses have accounts.
 */
let decoy: Promise<string> | undefined;
export async function verifyNothing(password: string): Promise<false> {
  decoy ??= hashPassword('decoy password, never matches');
  await verifyPassword(password, await decoy);
  return false;
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, email: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  if (password.trim().toLowerCase() === email.trim().toLowerCase()) return 'must not be your email address';
  return null;
}
