// TOTP against the published vectors: RFC 6238 appendix B (SHA-1, SHA-256, SHA-512, 8 digits),
// RFC 4226 appendix D (HOTP, 6 digits), RFC 4648 section 10 (base32); the drift window, replay
// refusal and the sealed secret at rest.
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openTotpSecret, sealTotpSecret } from '../../src/auth/secret-box';
import {
  fromBase32,
  hotp,
  matchTotp,
  newRecoveryCode,
  normalRecoveryCode,
  normalTotpCode,
  otpauthUri,
  toBase32,
  totpAt,
  totpStep,
} from '../../src/auth/totp';

const ascii = (text: string) => new TextEncoder().encode(text);

describe('RFC 6238 appendix B test vectors', () => {
  const times = [59, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000];
  const vectors = [
    {
      hash: undefined,
      seed: '12345678901234567890',
      codes: ['94287082', '07081804', '14050471', '89005924', '69279037', '65353130'],
    },
    {
      hash: sha256,
      seed: '12345678901234567890123456789012',
      codes: ['46119246', '68084774', '67062674', '91819424', '90698825', '77737706'],
    },
    {
      hash: sha512,
      seed: '1234567890123456789012345678901234567890123456789012345678901234',
      codes: ['90693936', '25091201', '99943326', '93441116', '38618901', '47863826'],
    },
  ];
  for (const { hash, seed, codes } of vectors) {
    it(`${hash ? `SHA-${hash.outputLen * 8}` : 'SHA-1'}: every published time gives the published code`, () => {
      expect(times.map((t) => totpAt(ascii(seed), t * 1000, 8, hash))).toEqual(codes);
    });
  }

  it('the six-digit code is the last six digits of the eight (the default used for sign-in)', () => {
    expect(totpAt(ascii('12345678901234567890'), 59_000)).toBe('287082');
    expect(totpAt(ascii('12345678901234567890'), 1111111109_000)).toBe('081804');
  });
});

describe('RFC 4226 appendix D HOTP values', () => {
  it('counters 0 to 9 give the published six-digit codes', () => {
    const secret = ascii('12345678901234567890');
    expect(Array.from({ length: 10 }, (_, counter) => hotp(secret, counter))).toEqual([
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ]);
  });
});

describe('base32 (RFC 4648 section 10)', () => {
  it('encodes the published vectors without padding and decodes them back, with or without it', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(toBase32(ascii(plain))).toBe(encoded);
      expect(new TextDecoder().decode(fromBase32(encoded) as Uint8Array)).toBe(plain);
    }
    expect(new TextDecoder().decode(fromBase32('mzxw 6ytb oi==') as Uint8Array)).toBe('foobar');
    expect(fromBase32('MZXW1')).toBeNull();
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(fromBase32(toBase32(bytes))).toEqual(bytes);
      }),
    );
  });
});

describe('matching a code', () => {
  const secret = ascii('12345678901234567890');
  const now = 1_700_000_015_000;
  const step = totpStep(now);

  it('accepts the current step and one step either side, not two', () => {
    for (const drift of [-1, 0, 1]) {
      expect(matchTotp(secret, hotp(secret, step + drift), now, null)).toBe(step + drift);
    }
    expect(matchTotp(secret, hotp(secret, step - 2), now, null)).toBeNull();
    expect(matchTotp(secret, hotp(secret, step + 2), now, null)).toBeNull();
    expect(matchTotp(secret, 'abcdef', now, null)).toBeNull();
  });

  it('refuses a step already used, or one before it: a code is good once', () => {
    const code = hotp(secret, step);
    expect(matchTotp(secret, code, now, step)).toBeNull();
    expect(matchTotp(secret, code, now, step - 1)).toBe(step);
    expect(matchTotp(secret, hotp(secret, step - 1), now, step - 1)).toBeNull();
  });

  it('reads codes and recovery codes as people type them', () => {
    expect(normalTotpCode(' 123 456 ')).toBe('123456');
    expect(normalTotpCode('12345')).toBeNull();
    expect(normalTotpCode('12345a')).toBeNull();
    const code = newRecoveryCode();
    expect(code).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect(normalRecoveryCode(code.toUpperCase().replaceAll('-', ' '))).toBe(code);
    expect(normalRecoveryCode('abcd-efgh')).toBeNull();
    expect(new Set(Array.from({ length: 200 }, newRecoveryCode)).size).toBe(200);
  });

  it('writes the otpauth URI authenticator apps read', () => {
    const uri = otpauthUri(ascii('12345678901234567890'), 'pat@blog.example', 'Clickhop');
    expect(uri).toBe(
      'otpauth://totp/Clickhop%3Apat%40blog.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Clickhop&algorithm=SHA1&digits=6&period=30',
    );
  });
});

describe('the secret at rest', () => {
  const env = { CLICK_ID_SECRET: 'current secret 0123456789', CLICK_ID_KEY_ID: '2' };
  const plain = ascii('12345678901234567890');

  it('is sealed (no base32 or bytes of it in the stored text) and opens for its own user only', async () => {
    const sealed = await sealTotpSecret(env, 7, plain);
    expect(sealed).toMatch(/^v1:2:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(toBase32(plain));
    expect(await openTotpSecret(env, 7, sealed)).toEqual({ secret: plain, stale: false });
    expect(await openTotpSecret(env, 8, sealed)).toBeNull();
    expect(await openTotpSecret(env, 7, `${sealed.slice(0, -2)}AA`)).toBeNull();
    expect(await sealTotpSecret(env, 7, plain)).not.toBe(sealed);
  });

  it('stays readable after a rotation while the old secret is kept, marked stale; not after', async () => {
    const sealed = await sealTotpSecret(env, 7, plain);
    const rotated = {
      CLICK_ID_SECRET: 'the next secret 0123456789',
      CLICK_ID_KEY_ID: '3',
      CLICK_ID_PREVIOUS_SECRETS: `2:${env.CLICK_ID_SECRET}`,
    };
    expect(await openTotpSecret(rotated, 7, sealed)).toEqual({ secret: plain, stale: true });
    expect(await openTotpSecret({ ...rotated, CLICK_ID_PREVIOUS_SECRETS: '' }, 7, sealed)).toBeNull();
  });
});
