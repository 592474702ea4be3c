// IP address parsing for privacy (truncate before storing), advertiser allow-lists (CIDR) and
// destination safety (private, loopback and link-local ranges). Pure; no DNS.

/** Parses an IPv4 or IPv6 text address into 4 or 16 bytes; null if it is not one. */
export function parseIp(text: string): Uint8Array | null {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part[0] === '0')) return null;
    const n = Number(part);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(input: string): Uint8Array | null {
  let text = input;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  // An embedded IPv4 address may only end the address, never come before a "::".
  const groups = (part: string, beforeGap: boolean): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (i === pieces.length - 1 && piece.includes('.') && !beforeGap) {
        const v4 = parseIpv4(piece);
        if (!v4) return null;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] as string, halves.length === 2);
  const tail = halves.length === 2 ? groups(halves[1] as string, false) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 255;
  });
  return out;
}

/** The network part of an address (IPv4 /24, IPv6 /48), the only form of an IP we store. */
export function ipPrefix(text: string | null | undefined): string | null {
  if (!text) return null;
  const parsed = parseIp(text);
  if (!parsed) return null;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is an IPv4 visitor: keep its /24, not 0:0:0::/48.
  const bytes = normalize(parsed);
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.0/24`;
  const hex = (i: number) => (((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16);
  return `${hex(0)}:${hex(2)}:${hex(4)}::/48`;
}

export interface Cidr {
  bytes: Uint8Array;
  bits: number;
}

/** Parses "203.0.113.0/24", "2001:db8::/32" or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | null {
  const [address, bitsText, ...rest] = text.trim().split('/');
  if (rest.length > 0 || !address) return null;
  const bytes = parseIp(address);
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (bitsText === undefined) return { bytes, bits: max };
  if (!/^\d{1,3}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  return bits <= max ? { bytes, bits } : null;
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) is compared as the IPv4 address it carries. */
function normalize(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) {
    return bytes.slice(12);
  }
  return bytes;
}

export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  const a = normalize(address);
  const net = normalize(cidr.bytes);
  const bits = cidr.bits - (cidr.bytes.length - net.length) * 8;
  if (a.length !== net.length || bits < 0) return false;
  const full = Math.floor(bits / 8);
  for (let i = 0; i < full; i++) if (a[i] !== net[i]) return false;
  const rest = bits % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[full] as number) & mask) === ((net[full] as number) & mask);
}

const NON_PUBLIC_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  // Deprecated IPv4-compatible addresses (::a.b.c.d), e.g. ::127.0.0.1.
  '::/96',
  // IPv4-translated addresses (::ffff:0:a.b.c.d, RFC 2765 SIIT), e.g. [::ffff:0:7f00:1]: never
  // routed on the internet, and some stacks hand them to the IPv4 address they carry.
  '::ffff:0:0:0/96',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
].map((range) => parseCidr(range) as Cidr);

/** True for loopback, private, link-local, shared, documentation, multicast and reserved. */
export function isNonPublicIp(address: Uint8Array): boolean {
  return NON_PUBLIC_RANGES.some((range) => cidrContains(range, address));
}

/**
 * The widest networks an advertiser's allow-list may hold: an IPv4 /16 (65,536 addresses) and an
 * IPv6 /32 (one ISP's allocation). Anything wider (0.0.0.0/0 at worst) names no one in particular,
 * so it would only look like a restriction. IPv4-mapped IPv6 networks count as IPv4.
 */
export const WIDEST_ALLOWED_PREFIX = { ipv4: 16, ipv6: 32 } as const;

export function isTooWideForAllowList(cidr: Cidr): boolean {
  const net = normalize(cidr.bytes);
  if (net.length === 4) return cidr.bits - (cidr.bytes.length - 4) * 8 < WIDEST_ALLOWED_PREFIX.ipv4;
  return cidr.bits < WIDEST_ALLOWED_PREFIX.ipv6;
}
