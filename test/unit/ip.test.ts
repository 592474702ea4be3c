// IP parsing, the stored prefix (never the full address), CIDR matching and non-public ranges.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, ipPrefix, isNonPublicIp, parseCidr, parseIp } from '../../src/lib/ip';

const ip = (text: string) => {
  const bytes = parseIp(text);
  if (!bytes) throw new Error(`not an IP: ${text}`);
  return bytes;
};

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.'));

describe('parseIp', () => {
  it.each([
    ['1.2.3.4', [1, 2, 3, 4]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
  ])('parses IPv4 %s', (text, bytes) => {
    expect([...ip(text)]).toEqual(bytes);
  });

  it.each([
    ['::1', '00000000000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::1.2.3.4', '0064ff9b000000000000000001020304'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    ['[2001:db8::1]', '20010db8000000000000000000000001'],
  ])('parses IPv6 %s', (text, hex) => {
    expect([...ip(text)].map((b) => b.toString(16).padStart(2, '0')).join('')).toBe(hex);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.-4',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.a',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '12345::',
    'g::1',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
    '1.2.3.4::',
    '1.2.3.4::5',
    '::1.2.3.4:5',
    '::256.1.1.1',
    ':::',
    'localhost',
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe('ipPrefix', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['8.8.8.8', '8.8.8.0/24'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::/48'],
    ['2a02:1234:abcd:ffff::1', '2a02:1234:abcd::/48'],
    ['::ffff:198.51.100.9', '198.51.100.0/24'],
  ])('keeps only the network of %s', (text, prefix) => {
    expect(ipPrefix(text)).toBe(prefix);
  });

  it.each([null, undefined, '', 'not an ip', '999.1.1.1'])('stores nothing for %j', (text) => {
    expect(ipPrefix(text)).toBeNull();
  });

  it('never contains the host part of an IPv4 address (property)', () => {
    fc.assert(
      fc.property(v4, (address) => {
        const prefix = ipPrefix(address) as string;
        const [a, b, c] = address.split('.');
        expect(prefix).toBe(`${a}.${b}.${c}.0/24`);
        // The prefix is itself a network that contains the address.
        expect(cidrContains(parseCidr(prefix) as NonNullable<ReturnType<typeof parseCidr>>, ip(address))).toBe(true);
      }),
    );
  });

  it('keeps only the first 48 bits of an IPv6 address (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }), (groups) => {
        fc.pre(!(groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0));
        const address = groups.map((g) => g.toString(16)).join(':');
        const prefix = ipPrefix(address) as string;
        expect(prefix).toBe(
          `${groups
            .slice(0, 3)
            .map((g) => g.toString(16))
            .join(':')}::/48`,
        );
        const cidr = parseCidr(prefix);
        expect(cidr).not.toBeNull();
        expect(cidrContains(cidr as NonNullable<typeof cidr>, ip(address))).toBe(true);
      }),
    );
  });
});

describe('parseCidr / cidrContains', () => {
  const contains = (cidr: string, address: string) => {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`not a CIDR: ${cidr}`);
    return cidrContains(parsed, ip(address));
  };

  it('matches addresses inside the network only', () => {
    expect(contains('10.0.0.0/8', '10.255.1.1')).toBe(true);
    expect(contains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(contains('192.168.1.0/25', '192.168.1.127')).toBe(true);
    expect(contains('192.168.1.0/25', '192.168.1.128')).toBe(false);
    expect(contains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(contains('203.0.113.9', '203.0.113.9')).toBe(true);
    expect(contains('203.0.113.9', '203.0.113.10')).toBe(false);
    expect(contains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(contains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(contains(' 10.0.0.0/8 ', '10.1.1.1')).toBe(true);
  });

  it('compares IPv4-mapped IPv6 addresses as IPv4', () => {
    expect(contains('10.0.0.0/8', '::ffff:10.1.2.3')).toBe(true);
    expect(contains('::ffff:10.0.0.0/104', '10.1.2.3')).toBe(true);
    expect(contains('::ffff:0:0/96', '8.8.8.8')).toBe(true);
    expect(contains('10.0.0.0/8', '2001:db8::1')).toBe(false);
    expect(contains('2001:db8::/32', '10.0.0.1')).toBe(false);
  });

  it.each(['', '10.0.0.0/', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/8/1', '10.0.0.0/abc', '10.0.0/8', '/8'])(
    'refuses %j',
    (text) => {
      expect(parseCidr(text)).toBeNull();
    },
  );

  it('every address is inside any network built from it (property)', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), (address, bits) => {
        expect(contains(`${address}/${bits}`, address)).toBe(true);
      }),
    );
  });
});

describe('isNonPublicIp', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '2001:db8::1',
  ])('%s is not public', (address) => {
    expect(isNonPublicIp(ip(address))).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(isNonPublicIp(ip(address))).toBe(false);
    },
  );
});
