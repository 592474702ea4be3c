// Small crypto helpers (base64url, HMAC, SHA-256, constant-time compare) and cursor pagination.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, page, pageQuery } from '../../src/admin/pagination';
import {
  bytesToHex,
  fromBase64UrlStrict,
  hmacSha256,
  hmacSigner,
  importHmacKey,
  randomId,
  sha256Hex,
  timingSafeEqualBytes,
  timingSafeEqualString,
  toBase64Url,
} from '../../src/lib/crypto';

/** Reference base64url through btoa, for comparison. */
const reference = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

describe('base64url', () => {
  it('encodes like standard base64 with the URL alphabet and no padding (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(toBase64Url(bytes)).toBe(reference(bytes));
      }),
    );
  });

  it('decodes strictly what it encodes, for lengths that are multiples of 3 (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }).chain((n) => fc.uint8Array({ minLength: n * 3, maxLength: n * 3 })),
        (bytes) => {
          expect(fromBase64UrlStrict(toBase64Url(bytes))).toEqual(bytes);
        },
      ),
    );
  });

  it.each(['abc', 'ab+/', 'abc=', 'ab c', 'abç1', 'a\u0000bc', 'AAAAAAA'])('refuses %j', (text) => {
    expect(fromBase64UrlStrict(text)).toBeNull();
  });
});

describe('hashes and HMAC', () => {
  it('computes SHA-256 (FIPS 180-2 "abc" vector)', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('computes HMAC-SHA256 (RFC 4231 test case 2)', async () => {
    const mac = await hmacSha256(await importHmacKey('Jefe'), 'what do ya want for nothing?');
    expect(bytesToHex(mac)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('signs with hmacSigner exactly as WebCrypto HMAC-SHA256 does (RFC 4231 and random keys and messages)', async () => {
    expect(bytesToHex(hmacSigner('Jefe').sign('what do ya want for nothing?'))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    // RFC 4231 test case 6: a key longer than the block size is hashed first.
    const longKey = new Uint8Array(131).fill(0xaa);
    expect(bytesToHex(hmacSigner(longKey).sign('Test Using Larger Than Block-Size Key - Hash Key First'))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        async (key, message) => {
          tried++;
          const signer = hmacSigner(key);
          const expected = bytesToHex(await hmacSha256(await importHmacKey(key), message));
          // The signer is reused: each MAC starts again from the keyed state.
          expect(bytesToHex(signer.sign(message))).toBe(expected);
          expect(bytesToHex(signer.sign(message))).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
    expect(tried).toBe(300);
  });

  it('makes prefixed random ids of the asked size', () => {
    const id = randomId('cv_');
    expect(id).toMatch(/^cv_[A-Za-z0-9_-]{22}$/);
    expect(randomId('pbk_', 24)).toMatch(/^pbk_[A-Za-z0-9_-]{32}$/);
    expect(new Set(Array.from({ length: 100 }, () => randomId('x_'))).size).toBe(100);
  });
});

describe('constant-time compare', () => {
  it('compares bytes', () => {
    expect(timingSafeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqualBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(timingSafeEqualBytes(new Uint8Array([]), new Uint8Array([]))).toBe(true);
  });

  it('compares strings, including prefixes and different lengths', async () => {
    expect(await timingSafeEqualString('token-123', 'token-123')).toBe(true);
    expect(await timingSafeEqualString('token-12', 'token-123')).toBe(false);
    expect(await timingSafeEqualString('token-1234', 'token-123')).toBe(false);
    expect(await timingSafeEqualString('', 'token-123')).toBe(false);
    expect(await timingSafeEqualString('tokén', 'token')).toBe(false);
  });

  it('agrees with === (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), async (a, b) => {
        expect(await timingSafeEqualString(a, b)).toBe(a === b);
        expect(await timingSafeEqualString(a, a)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('cursor pagination', () => {
  it('round-trips numbers and strings through an opaque URL-safe cursor (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.string({ unit: 'binary' })),
        (key) => {
          const cursor = encodeCursor(key);
          expect(cursor).toMatch(/^[A-Za-z0-9_-]*$/);
          expect(decodeCursor(cursor)).toEqual(key);
        },
      ),
    );
  });

  it('answers undefined for no cursor and null for one that is not ours', () => {
    expect(decodeCursor(undefined)).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
    expect(decodeCursor('!!!')).toBeNull();
    expect(decodeCursor('bm90IGpzb24')).toBeNull(); // "not json"
    expect(decodeCursor(encodeCursor('x').slice(0, -1))).toBeNull();
    expect(decodeCursor(btoa('{"a":1}'))).toBeNull();
    expect(decodeCursor(btoa('null'))).toBeNull();
  });

  it('builds a page from limit+1 rows with a cursor at the last kept row', () => {
    const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
    expect(page(rows, 2, (r) => r.id)).toEqual({ data: [{ id: 1 }, { id: 2 }], next_cursor: encodeCursor(2) });
    expect(page(rows, 3, (r) => r.id)).toEqual({ data: rows, next_cursor: null });
    expect(page([], 3, (r: { id: number }) => r.id)).toEqual({ data: [], next_cursor: null });
    expect(
      page(
        rows,
        1,
        (r) => r.id,
        (r) => r.id * 10,
      ),
    ).toEqual({ data: [10], next_cursor: encodeCursor(1) });
  });

  it('walks any list exactly once, in order (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(10_000), { maxLength: 60 }), fc.integer({ min: 1, max: 7 }), (keys, limit) => {
        const sorted = [...keys].sort((a, b) => a - b);
        const seen: number[] = [];
        let cursor: string | null | undefined;
        for (let guard = 0; guard < 100; guard++) {
          const after = cursor ? (decodeCursor(cursor) as number) : -1;
          const rows = sorted.filter((k) => k > after).slice(0, limit + 1);
          const result = page(rows, limit, (k) => k);
          seen.push(...result.data);
          cursor = result.next_cursor;
          if (!cursor) break;
        }
        expect(seen).toEqual(sorted);
      }),
    );
  });

  it('validates limit (1-200, default 50) and cursor length', () => {
    expect(pageQuery.parse({})).toEqual({ limit: 50 });
    expect(pageQuery.parse({ limit: '10', cursor: 'abc' })).toEqual({ limit: 10, cursor: 'abc' });
    for (const limit of ['0', '201', '-1', '1.5', 'ten']) expect(pageQuery.safeParse({ limit }).success).toBe(false);
    expect(pageQuery.safeParse({ cursor: 'x'.repeat(401) }).success).toBe(false);
  });
});
