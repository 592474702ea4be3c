// CSRF protection for the dashboard's forms (the parked messages' retry). The browser sends the
// Basic credential with any request to this site, a cross-site form post included, so a post
// must also carry a token that only a page of this site could have shown: the time it was made
// and an HMAC of that time under the admin token. No state is kept; a token expires after
// FORM_TOKEN_TTL_S, and rotating ADMIN_TOKEN voids every token.
import { hmacSha256, importHmacKey, timingSafeEqualString, toBase64Url } from '../lib/crypto';

/** How long a dashboard page's forms stay usable. */
export const FORM_TOKEN_TTL_S = 12 * 3600;
/** Clock difference between isolates tolerated for a token made "in the future". */
const SKEW_S = 300;

async function mac(adminToken: string, issuedAt: number): Promise<string> {
  const key = await importHmacKey(adminToken);
  return toBase64Url(await hmacSha256(key, `clickhop dashboard form ${issuedAt}`));
}

export async function dashboardFormToken(adminToken: string, nowMs = Date.now()): Promise<string> {
  const issuedAt = Math.floor(nowMs / 1000);
  return `${issuedAt}.${await mac(adminToken, issuedAt)}`;
}

export async function dashboardFormTokenMatches(
  adminToken: string,
  given: unknown,
  nowMs = Date.now(),
): Promise<boolean> {
  if (typeof given !== 'string') return false;
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(given);
  if (!match) return false;
  const issuedAt = Number(match[1]);
  const age = Math.floor(nowMs / 1000) - issuedAt;
  if (age > FORM_TOKEN_TTL_S || age < -SKEW_S) return false;
  return timingSafeEqualString(match[2] as string, await mac(adminToken, issuedAt));
}
