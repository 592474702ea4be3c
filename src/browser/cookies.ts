// The two cookies Clickhop sets on its own tracking domain (docs/browser-tracking.md):
// `ch_cid`, the click ID, set by the redirect for offers with browser tracking, read by the pixel
// when it is given no click ID; `ch_vid`, a signed view (offer, publisher, time), set by an
// impression for offers with a view-through window. Both are read only by this Worker (HttpOnly)
// from pixels embedded on other sites, so they must be SameSite=None, which browsers accept only
// with Secure. (The tag's own `ch_cid` on the advertiser's domain is another cookie: see tag.ts.)
import { hmacSigner, timingSafeEqualBytes, toBase64Url } from '../lib/crypto';

export const CLICK_COOKIE = 'ch_cid';
export const VIEW_COOKIE = 'ch_vid';

const DAY_S = 86_400;
const ATTRIBUTES = 'Path=/; HttpOnly; Secure; SameSite=None';

/** The redirect's click cookie: lives as long as the offer's attribution window. */
export function clickCookie(clickId: string, attributionWindowDays = 30): string {
  return `${CLICK_COOKIE}=${clickId}; Max-Age=${attributionWindowDays * DAY_S}; ${ATTRIBUTES}`;
}

/** The impression's view cookie: lives as long as the offer's view-through window. */
export function viewCookie(token: string, viewThroughHours: number): string {
  return `${VIEW_COOKIE}=${token}; Max-Age=${viewThroughHours * 3600}; ${ATTRIBUTES}`;
}

/** One cookie's value from a Cookie header (the first of that name), or null. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? null : value;
  }
  return null;
}

export interface View {
  offerId: number;
  publisherId: number;
  /** Epoch ms of the impression (whole seconds). */
  viewedAt: number;
}

let signer: { secret: string; key: ReturnType<typeof hmacSigner> } | undefined;

// A key of its own, derived from the click ID secret: a view token can never pass for a click ID.
function viewMac(env: Pick<Env, 'CLICK_ID_SECRET'>, payload: string): Uint8Array {
  if (signer?.secret !== env.CLICK_ID_SECRET) {
    signer = { secret: env.CLICK_ID_SECRET, key: hmacSigner(`view:${env.CLICK_ID_SECRET}`) };
  }
  return signer.key.sign(payload).subarray(0, 16);
}

/** `v1.<offer>.<publisher>.<seconds>.<mac>`: short, cookie-safe, signed like a click ID. */
export function mintViewToken(env: Pick<Env, 'CLICK_ID_SECRET'>, view: View): string {
  const payload = `v1.${view.offerId}.${view.publisherId}.${Math.floor(view.viewedAt / 1000)}`;
  return `${payload}.${toBase64Url(viewMac(env, payload))}`;
}

const TOKEN = /^(v1\.([1-9]\d{0,9})\.([1-9]\d{0,9})\.(\d{1,11}))\.([A-Za-z0-9_-]{22})$/;

/** The view a genuine token names, or null for anything altered or malformed. */
export function verifyViewToken(env: Pick<Env, 'CLICK_ID_SECRET'>, token: string | null): View | null {
  const match = token ? TOKEN.exec(token) : null;
  if (!match) return null;
  const [, payload, offer, publisher, seconds, mac] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const expected = toBase64Url(viewMac(env, payload));
  const encoder = new TextEncoder();
  if (!timingSafeEqualBytes(encoder.encode(expected), encoder.encode(mac))) return null;
  return { offerId: Number(offer), publisherId: Number(publisher), viewedAt: Number(seconds) * 1000 };
}
