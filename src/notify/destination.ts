// Where notifications may go. Checked when an endpoint is saved and again before every send
// (a rendered URL, a changed setting): only http(s) on ports 80/443 to public hosts, unless the
// deployment explicitly allows private destinations (local development and tests only).
import { isNonPublicIp, parseIp } from '../lib/ip';

export type DestinationCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Names that never resolve to a public host (RFC 6761, RFC 6762, RFC 8375 and common LAN suffixes). */
const PRIVATE_SUFFIXES = ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa', '.lan', '.intranet'];

export function privateDestinationsAllowed(env: { ALLOW_PRIVATE_DESTINATIONS?: string }): boolean {
  return env.ALLOW_PRIVATE_DESTINATIONS === 'true';
}

/**
 * Parses and checks a destination. The WHATWG URL parser already turns every IPv4 spelling
 * (2130706433, 0x7f.1, 0177.0.0.1) into dotted decimal and every IPv6 literal into its
 * compressed form, so the address checks below see one canonical text.
 */
export function checkDestination(raw: string, env: { ALLOW_PRIVATE_DESTINATIONS?: string }): DestinationCheck {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\s\\\u0000-\u001f\u007f]/.test(raw))
    return { ok: false, reason: 'contains spaces, backslashes or control characters' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'must use http or https' };
  if (url.username || url.password) return { ok: false, reason: 'must not contain user information (user:password@)' };
  if (!url.hostname) return { ok: false, reason: 'has no host' };
  if (privateDestinationsAllowed(env)) return { ok: true, url };

  if (url.port !== '' && url.port !== '80' && url.port !== '443') {
    return { ok: false, reason: `port ${url.port} is not allowed (only 80 and 443)` };
  }
  // Any number of trailing dots names the same host ("localhost.." is localhost).
  const host = url.hostname.toLowerCase().replace(/\.+$/, '');
  if (host.startsWith('[')) {
    const bytes = parseIp(host.slice(1, -1));
    if (!bytes) return { ok: false, reason: 'has an invalid IPv6 address' };
    if (isNonPublicIp(bytes) || isIpv4Compatible(bytes)) {
      return { ok: false, reason: `address ${host} is not public (loopback, private, link-local or reserved)` };
    }
    return { ok: true, url };
  }
  const v4 = parseIp(host);
  if (v4) {
    if (isNonPublicIp(v4)) {
      return { ok: false, reason: `address ${host} is not public (loopback, private, link-local or reserved)` };
    }
    return { ok: true, url };
  }
  if (host === 'localhost' || PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return { ok: false, reason: `host ${host} is a local name` };
  }
  if (!host.includes('.')) return { ok: false, reason: `host ${host} is not a public domain name` };
  const spelled = spelledOutAddress(host);
  if (spelled) {
    return { ok: false, reason: `host ${host} names the non-public address ${spelled} (wildcard DNS)` };
  }
  return { ok: true, url };
}

/**
 * Wildcard DNS services (nip.io, sslip.io and the like) resolve names that spell out an address
 * to that address: dotted or dashed IPv4 (127.0.0.1.nip.io, 10-0-0-1.sslip.io), eight hex digits
 * alone or after a prefix (7f000001.nip.io, app-7f000001.nip.io), and IPv6 with dashes for colons
 * (--1.sslip.io, fd00--1.sslip.io, www-fd00--1.sslip.io). The Worker cannot see what a name
 * resolves to before fetch connects, so a name that spells out a non-public address in any of
 * these forms is refused; names that resolve privately without spelling it out cannot be detected.
 */
function spelledOutAddress(host: string): string | null {
  for (const match of host.matchAll(/(?:^|[^0-9])(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})(?=$|[^0-9])/g)) {
    const octets = match.slice(1, 5).map(Number);
    if (octets.every((o) => o <= 255) && isNonPublicIp(Uint8Array.from(octets))) return octets.join('.');
  }
  for (const label of host.split('.')) {
    for (const piece of label.split('-')) {
      if (!/^[0-9a-f]{8}$/.test(piece)) continue;
      const octets = Uint8Array.from((piece.match(/../g) ?? []).map((pair) => Number.parseInt(pair, 16)));
      if (isNonPublicIp(octets)) return octets.join('.');
    }
    const v6 = dashedIpv6(label);
    if (v6) return v6;
  }
  return null;
}

/** The non-public IPv6 address a label spells with dashes (sslip.io), after an optional prefix. */
function dashedIpv6(label: string): string | null {
  if (!label.includes('--') && label.split('-').length < 8) return null;
  // The address may follow a prefix ("www-fd00--1"): try the label and every tail after a dash.
  for (let start = 0; start < label.length; start = label.indexOf('-', start) + 1) {
    const text = label.slice(start).replaceAll('-', ':');
    const bytes = text.includes(':') ? parseIp(text) : null;
    if (bytes && bytes.length === 16 && (isNonPublicIp(bytes) || isIpv4Compatible(bytes))) return `[${text}]`;
    if (label.indexOf('-', start) < 0) break;
  }
  return null;
}

/** ::a.b.c.d (deprecated IPv4-compatible IPv6): never a public destination. */
function isIpv4Compatible(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes.slice(0, 12).every((b) => b === 0);
}
