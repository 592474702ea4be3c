import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hmacSha256, importHmacKey, randomInto } from '../../src/lib/crypto';
import { HmacSha256 } from '../../src/lib/hmac-sha256';

const webCryptoMac = async (key: Uint8Array | string, message: Uint8Array | string) =>
  bytesToHex(await hmacSha256(await importHmacKey(key), message));

describe('allocation-free HMAC-SHA256 of the click path', () => {
  it('equals WebCrypto for every message length from 0 to 200 bytes (each padding case: one block, two blocks, 55/56/64 edges)', async () => {
    const key = new Uint8Array(32).map((_, i) => i * 7);
    const signer = new HmacSha256(key);
    for (let length = 0; length <= 200; length++) {
      const message = new Uint8Array(length).map((_, i) => (i * 31 + length) & 255);
      expect(bytesToHex(signer.sign(message)), `length ${length}`).toBe(await webCryptoMac(key, message));
    }
  });

  it('writes a truncated MAC in place and leaves the bytes around it alone', async () => {
    const signer = new HmacSha256('click-secret-0123456789');
    const buffer = new Uint8Array(40).fill(0xee);
    buffer.set([1, 2, 3, 4, 5], 0);
    signer.macInto(buffer, 24, buffer, 24, 12);
    const expected = (await webCryptoMac('click-secret-0123456789', buffer.slice(0, 24))).slice(0, 24);
    expect(bytesToHex(buffer.subarray(24, 36))).toBe(expected);
    expect([...buffer.subarray(36)]).toEqual([0xee, 0xee, 0xee, 0xee]);
  });

  it('equals WebCrypto over random keys (also longer than a block) and random strings, UTF-8 included (property)', async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ minLength: 1, maxLength: 100 }), fc.uint8Array({ minLength: 1, maxLength: 150 })),
        fc.string({ unit: 'binary', maxLength: 700 }),
        async (key, message) => {
          tried++;
          const signer = new HmacSha256(key);
          const out = new Uint8Array(16);
          signer.macStringInto(message, out, 0, 16);
          const expected = await webCryptoMac(key, message);
          expect(bytesToHex(out)).toBe(expected.slice(0, 32));
          // Reused: each MAC starts again from the keyed state.
          expect(bytesToHex(signer.sign(message))).toBe(expected);
        },
      ),
      { numRuns: 400 },
    );
    expect(tried).toBe(400);
  });

  it('grows its string buffer for a message longer than it (a 3,000-character user agent)', async () => {
    const signer = new HmacSha256('k');
    const message = `1.2.3.4\n${'Mozilla/5.0 é€𝄞 '.repeat(200)}`;
    expect(bytesToHex(signer.sign(message))).toBe(await webCryptoMac('k', message));
  });
});

describe('random bytes from the pool', () => {
  it('hands out fresh bytes across pool refills (no 8-byte value repeats in 20,000 draws)', () => {
    const seen = new Set<string>();
    const out = new Uint8Array(8);
    for (let i = 0; i < 20_000; i++) {
      randomInto(out, 0, 8);
      seen.add(bytesToHex(out));
    }
    expect(seen.size).toBe(20_000);
  });
});
