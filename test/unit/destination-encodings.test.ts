// Destination safety against names and literals that spell out a non-public address: every
// encoding a wildcard-DNS service or an IPv6 literal offers, generated over whole private ranges.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDestination } from '../../src/notify/destination';

const PRODUCTION = { ALLOW_PRIVATE_DESTINATIONS: 'false' };
const refused = (url: string) => checkDestination(url, PRODUCTION).ok === false;

describe('names and literals that spell out a private address (issue 18)', () => {
  it.each([
    'http://app-7f000001.nip.io/',
    'http://app-0a000001.nip.io/',
    'http://app-a9fea9fe.nip.io/latest/meta-data/',
    'http://customer.app-7F000001.nip.io/',
    'http://--1.sslip.io/',
    'http://fd00--1.sslip.io/',
    'http://www-fd00--1.sslip.io/',
    'http://fe80--1.sslip.io/',
    'http://--ffff-7f00-1.sslip.io/',
    'http://localhost../',
    'http://localhost.../x',
    'http://[::ffff:0:7f00:1]/',
    'http://[::ffff:0:a00:1]/',
  ])('refuses %s', (url) => {
    expect(checkDestination(url, PRODUCTION)).toMatchObject({ ok: false });
  });

  it.each([
    'https://app-5db8d822.nip.io/',
    'https://2606-4700-4700--1111.sslip.io/',
    'https://hooks-2024.publisher.example/',
    'https://a--b.publisher.example/',
    'https://deadbeef.publisher.example/',
  ])('still allows the public %s', (url) => {
    expect(checkDestination(url, PRODUCTION)).toMatchObject({ ok: true });
  });
});

// Non-public IPv4 ranges as [first octets, prefix bits]; the rest of the address is random.
const V4_RANGES: [number[], number][] = [
  [[0], 8],
  [[10], 8],
  [[100, 64], 10],
  [[127], 8],
  [[169, 254], 16],
  [[172, 16], 12],
  [[192, 168], 16],
  [[198, 18], 15],
];

const privateV4 = fc
  .tuple(fc.constantFrom(...V4_RANGES), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([[net, bits], random]) => {
    const base = (net.concat([0, 0, 0, 0]).slice(0, 4) as number[]).reduce((a, o) => a * 256 + o, 0);
    const hostMask = 2 ** (32 - bits) - 1;
    const value = base + (random % (hostMask + 1));
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256);
  });

const hex4 = (n: number) => n.toString(16);
// Non-public IPv6: unique local, link local, loopback and v4 mapped/translated/compatible forms.
const privateV6 = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0xfc00, max: 0xfdff }),
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }),
    )
    .map(([first, rest]) => [first, ...rest]),
  fc
    .tuple(
      fc.integer({ min: 0xfe80, max: 0xfebf }),
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }),
    )
    .map(([first, rest]) => [first, ...rest]),
  fc.constant([0, 0, 0, 0, 0, 0, 0, 1]),
  fc
    .tuple(fc.constantFrom([0, 0xffff], [0xffff, 0], [0, 0]), privateV4)
    .map(([[a, b], v4]) => [
      0,
      0,
      0,
      0,
      a as number,
      b as number,
      ((v4[0] as number) << 8) | (v4[1] as number),
      ((v4[2] as number) << 8) | (v4[3] as number),
    ]),
);

/** An IPv6 text with the longest run of zero groups (if any) compressed, the way people write it. */
function v6Text(groups: readonly number[], sep: string): string {
  let best = [-1, 0];
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > (best[1] as number)) best = [i, j - i];
    i = j;
  }
  const [at, length] = best as [number, number];
  if (length < 2) return groups.map(hex4).join(sep);
  return `${groups.slice(0, at).map(hex4).join(sep)}${sep}${sep}${groups
    .slice(at + length)
    .map(hex4)
    .join(sep)}`;
}

const prefix = fc.constantFrom('', 'app-', 'www-', 'hooks-');
const sub = fc.constantFrom('', 'customer.', 'a.b.');
const suffix = fc.constantFrom('nip.io', 'sslip.io', 'nip.io.', 'sslip.io..', 'xip.example');
const caseOf = fc.boolean();

describe('every encoding of a non-public address is refused (property)', () => {
  it('IPv4 spelled dotted, dashed, or as eight hex digits, with any prefix', () => {
    fc.assert(
      fc.property(privateV4, prefix, sub, suffix, caseOf, fc.nat(2), (octets, pre, labels, zone, upper, form) => {
        const hex = octets.map((o) => o.toString(16).padStart(2, '0')).join('');
        const spelled = [octets.join('.'), octets.join('-'), upper ? hex.toUpperCase() : hex][form] as string;
        const host = `${labels}${form === 0 ? '' : pre}${spelled}.${zone}`;
        return refused(`http://${host}/x`);
      }),
      { seed: 180001, numRuns: 2000 },
    );
  });

  it('IPv6 as a literal, and with dashes for colons after any prefix', () => {
    fc.assert(
      fc.property(privateV6, prefix, sub, fc.boolean(), (groups, pre, labels, literal) =>
        literal
          ? refused(`http://[${v6Text(groups, ':')}]/x`)
          : refused(`http://${labels}${pre}${v6Text(groups, '-')}.sslip.io/x`),
      ),
      { seed: 180002, numRuns: 2000 },
    );
  });

  it('a public address in the same encodings stays allowed, so the properties can fail', () => {
    const publicV4 = fc.constantFrom([93, 184, 216, 34], [1, 1, 1, 1], [8, 8, 4, 4], [151, 101, 1, 69]);
    fc.assert(
      fc.property(publicV4, prefix, fc.nat(2), (octets, pre, form) => {
        const hex = octets.map((o) => o.toString(16).padStart(2, '0')).join('');
        const spelled = [octets.join('.'), octets.join('-'), hex][form] as string;
        return !refused(`https://${form === 0 ? '' : pre}${spelled}.nip.io/x`);
      }),
      { seed: 180003, numRuns: 300 },
    );
  });
});
