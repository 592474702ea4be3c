// Where a click is sent: the offer's landing URL (or an allowed deep link) with the click ID put
// where the advertiser asked. Pure string work: this runs on every redirect.

/** Macros an offer's landing URL may contain; values are always URL-encoded. */
export const LANDING_MACROS = [
  'click_id',
  'offer_id',
  'publisher_id',
  'sub1',
  'sub2',
  'sub3',
  'sub4',
  'sub5',
  'deep_link',
] as const;
export type LandingMacro = (typeof LANDING_MACROS)[number];

const MACRO = /\{([a-z0-9_]+)\}/g;
// Wider than MACRO on purpose: {CLICK_ID} or {click-id} would otherwise be saved, never filled,
// and the advertiser would silently get the click ID in the default parameter instead.
const MACRO_LIKE = /\{([A-Za-z0-9_.-]+)\}/g;

/** Names in {braces} that are not landing macros (checked when an offer is saved). */
/** True when a macro sits in the scheme or host: a sub ID could then choose the redirect host. */
export function landingMacroInAuthority(template: string): boolean {
  const authority = /^[^/?#]*\/\/[^/?#]*/.exec(template)?.[0] ?? template.split(/[/?#]/, 1)[0] ?? '';
  return /\{[^{}]*\}/.test(authority);
}

export function unknownLandingMacros(template: string): string[] {
  const unknown = new Set<string>();
  for (const match of template.matchAll(MACRO_LIKE)) {
    const name = match[1] as string;
    if (!(LANDING_MACROS as readonly string[]).includes(name)) unknown.add(name);
  }
  return [...unknown];
}

/**
 * The redirect target. With a {click_id} macro in the URL the macros are filled in; without
 * one the click ID is added as `clickParam`, before any #fragment, keeping the existing query.
 * A deep link replaces the landing URL unless the landing URL routes it through {deep_link}.
 */
export function buildLandingUrl(
  landingUrl: string,
  clickParam: string,
  values: Partial<Record<LandingMacro, string>>,
  deepLink?: string,
): string {
  const clickId = values.click_id ?? '';
  if (deepLink !== undefined && !landingUrl.includes('{deep_link}')) return appendParam(deepLink, clickParam, clickId);
  const filled = landingUrl.includes('{')
    ? landingUrl.replace(MACRO, (whole, name: string) =>
        (LANDING_MACROS as readonly string[]).includes(name)
          ? encodeURIComponent(values[name as LandingMacro] ?? '')
          : whole,
      )
    : landingUrl;
  return asciiUrl(landingUrl.includes('{click_id}') ? filled : appendParam(filled, clickParam, clickId));
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "everything outside ASCII"
const HAS_NON_ASCII = /[^\u0000-\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "everything outside ASCII"
const NON_ASCII = /[^\u0000-\u007f]+/gu;

/**
 * A URL safe for a Location header: an advertiser may save "https://shop.example/ページ", but a
 * header value is a byte string, and browsers read raw UTF-8 there as Latin-1. Non-ASCII
 * characters are percent-encoded as UTF-8, which browsers decode back (IDNA for hosts).
 */
export function asciiUrl(url: string): string {
  return HAS_NON_ASCII.test(url) ? url.replace(NON_ASCII, (text) => encodeURIComponent(text.toWellFormed())) : url;
}

/** Adds name=value to a URL's query, before any #fragment, keeping what is there. */
function appendParam(url: string, name: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${encodeURIComponent(name)}=${encodeURIComponent(value)}${fragment}`;
}

/**
 * Checks a publisher's deep link against the offer's host allow-list. Refuses anything that is
 * not a plain absolute http(s) URL: scheme-relative (//host), other schemes, userinfo (@),
 * backslashes, whitespace and control characters, or a host not on the list. An allow-list
 * entry "example.com" allows that host only; "*.example.com" allows its subdomains too.
 */
export function checkDeepLink(
  raw: string,
  allowedHosts: string[],
): { ok: true; url: string } | { ok: false; reason: string } {
  if (raw.length > 2048) return { ok: false, reason: 'is longer than 2048 characters' };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\\\s\u0000-\u001f\u007f]/.test(raw))
    return { ok: false, reason: 'contains backslashes, spaces or control characters' };
  if (!/^https?:\/\/[^/?#]/i.test(raw)) return { ok: false, reason: 'must be an absolute http or https URL' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  const authority = raw.slice(raw.indexOf('//') + 2).split(/[/?#]/, 1)[0] as string;
  if (url.username || url.password || authority.includes('@')) {
    return { ok: false, reason: 'must not contain user information (@)' };
  }
  if (url.port && url.port !== '80' && url.port !== '443') return { ok: false, reason: 'must not name a port' };
  const host = url.hostname.toLowerCase();
  const allowed = allowedHosts.some((entry) => {
    const rule = entry.toLowerCase();
    return rule.startsWith('*.') ? host === rule.slice(2) || host.endsWith(rule.slice(1)) : host === rule;
  });
  if (!allowed) return { ok: false, reason: `host ${host} is not allowed for this offer` };
  return { ok: true, url: url.href };
}
