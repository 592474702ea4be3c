// Click ID codec: signed, self-describing, URL-safe, at most 48 characters; any altered
// character, a wrong key or an unknown key id is refused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLICK_ID_LENGTH, type ClickIdKeys, clickIdKeys, mintClickId, verifyClickId } from '../../src/click/click-id';
import { clickListCursor } from '../../src/clicks/list';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SECRET = 'unit-test-click-secret-0123456789';
const parts = { clickedAt: Date.UTC(2026, 10, 23, 10, 15, 0, 123), offerId: 42, publisherId: 7 };

const keysFor = (env: { CLICK_ID_SECRET?: string; CLICK_ID_KEY_ID?: string; CLICK_ID_PREVIOUS_SECRETS?: string }) =>
  clickIdKeys(env);

function replaceAt(text: string, index: number, char: string): string {
  return text.slice(0, index) + char + text.slice(index + 1);
}

describe('mintClickId / verifyClickId', () => {
  it('round-trips the key id, click time, offer and publisher', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    const id = await mintClickId(keys, parts);
    expect(await verifyClickId(keys, id)).toEqual({ keyId: 1, ...parts });
  });

  it('round-trips any time up to 2^48 ms and any 32-bit offer and publisher id', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        async (clickedAt, offerId, publisherId) => {
          const id = await mintClickId(keys, { clickedAt, offerId, publisherId });
          expect(await verifyClickId(keys, id)).toEqual({ keyId: 1, clickedAt, offerId, publisherId });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is at most 48 characters of the URL-safe base64url alphabet', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    for (let i = 0; i < 50; i++) {
      const id = await mintClickId(keys, parts);
      expect(id.length).toBeLessThanOrEqual(48);
      expect(id).toHaveLength(CLICK_ID_LENGTH);
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(encodeURIComponent(id)).toBe(id);
    }
  });

  it('mints a different ID for every click, even with equal parts', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add(await mintClickId(keys, parts));
    expect(ids.size).toBe(200);
  });

  it('refuses every single-character substitution at every position (exhaustive over the alphabet)', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    const id = await mintClickId(keys, parts);
    const accepted: string[] = [];
    for (let position = 0; position < id.length; position++) {
      for (const char of ALPHABET) {
        if (char === id[position]) continue;
        const tampered = replaceAt(id, position, char);
        if ((await verifyClickId(keys, tampered)) !== null) accepted.push(`${position}:${char}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('refuses any altered character (property: random position, random replacement of any kind)', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    const ids = await Promise.all(Array.from({ length: 8 }, () => mintClickId(keys, parts)));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ids),
        fc.nat({ max: CLICK_ID_LENGTH - 1 }),
        fc.oneof(fc.constantFrom(...ALPHABET), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
        async (id, position, char) => {
          fc.pre(char !== id[position]);
          expect(await verifyClickId(keys, replaceAt(id, position, char))).toBeNull();
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses IDs with a character added, removed, or padded', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    const id = await mintClickId(keys, parts);
    for (const candidate of [`${id}A`, id.slice(1), id.slice(0, -1), `${id}=`, `${id.slice(0, 44)}====`, '', ' '])
      expect(await verifyClickId(keys, candidate)).toBeNull();
  });

  it('refuses an ID signed with another secret under the same key id', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    const other = await keysFor({ CLICK_ID_SECRET: 'a-completely-different-secret-xyz' });
    const id = await mintClickId(other, parts);
    expect(await verifyClickId(keys, id)).toBeNull();
    expect(await verifyClickId(other, id)).not.toBeNull();
  });

  it('refuses random 48-character strings', async () => {
    const keys = await keysFor({ CLICK_ID_SECRET: SECRET });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 48, maxLength: 48 }),
        async (candidate) => {
          expect(await verifyClickId(keys, candidate)).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('clickIdKeys: key rotation', () => {
  const OLD = 'old-secret-retired-in-rotation-01';
  const NEW = 'new-secret-after-rotation-000002';

  it('verifies IDs minted with a retired key listed in CLICK_ID_PREVIOUS_SECRETS', async () => {
    const before = await keysFor({ CLICK_ID_SECRET: OLD, CLICK_ID_KEY_ID: '1' });
    const oldId = await mintClickId(before, parts);
    const after = await keysFor({ CLICK_ID_SECRET: NEW, CLICK_ID_KEY_ID: '2', CLICK_ID_PREVIOUS_SECRETS: `1:${OLD}` });
    expect(await verifyClickId(after, oldId)).toEqual({ keyId: 1, ...parts });
    const newId = await mintClickId(after, parts);
    expect(await verifyClickId(after, newId)).toEqual({ keyId: 2, ...parts });
  });

  it('accepts several previous secrets with spaces around entries', async () => {
    const keys: ClickIdKeys = await keysFor({
      CLICK_ID_SECRET: NEW,
      CLICK_ID_KEY_ID: '9',
      CLICK_ID_PREVIOUS_SECRETS: ` 3:${OLD} , 4 : another-old-secret-000000004 `,
    });
    expect([...keys.byKeyId.keys()].sort((a, b) => a - b)).toEqual([3, 4, 9]);
    expect(keys.current.keyId).toBe(9);
    const fromFour = await mintClickId(
      await keysFor({ CLICK_ID_SECRET: 'another-old-secret-000000004', CLICK_ID_KEY_ID: '4' }),
      parts,
    );
    expect(await verifyClickId(keys, fromFour)).toMatchObject({ keyId: 4 });
  });

  it('refuses an ID whose key id is unknown after rotation', async () => {
    const retired = await keysFor({ CLICK_ID_SECRET: OLD, CLICK_ID_KEY_ID: '1' });
    const oldId = await mintClickId(retired, parts);
    // The old secret was dropped from CLICK_ID_PREVIOUS_SECRETS.
    const after = await keysFor({ CLICK_ID_SECRET: NEW, CLICK_ID_KEY_ID: '2' });
    expect(await verifyClickId(after, oldId)).toBeNull();
    // A key id nobody ever had.
    const stranger = await keysFor({ CLICK_ID_SECRET: NEW, CLICK_ID_KEY_ID: '77' });
    expect(await verifyClickId(after, await mintClickId(stranger, parts))).toBeNull();
  });

  it('refuses an old key id whose secret in CLICK_ID_PREVIOUS_SECRETS is wrong', async () => {
    const retired = await keysFor({ CLICK_ID_SECRET: OLD, CLICK_ID_KEY_ID: '1' });
    const oldId = await mintClickId(retired, parts);
    const after = await keysFor({
      CLICK_ID_SECRET: NEW,
      CLICK_ID_KEY_ID: '2',
      CLICK_ID_PREVIOUS_SECRETS: '1:not-the-old-secret-at-all-0000',
    });
    expect(await verifyClickId(after, oldId)).toBeNull();
  });

  it('refuses to run without a secret of at least 16 characters or with a key id outside 0-255', async () => {
    expect(() => keysFor({})).toThrow(/CLICK_ID_SECRET/);
    expect(() => keysFor({ CLICK_ID_SECRET: 'short' })).toThrow(/CLICK_ID_SECRET/);
    await expect(keysFor({ CLICK_ID_SECRET: SECRET, CLICK_ID_KEY_ID: '256' })).rejects.toThrow(/CLICK_ID_KEY_ID/);
    await expect(keysFor({ CLICK_ID_SECRET: SECRET, CLICK_ID_KEY_ID: 'x' })).rejects.toThrow(/CLICK_ID_KEY_ID/);
  });
});

describe('clicks list cursor keys', () => {
  const time = '2026-04-05T06:07:08.009Z';
  it('reads a rowid as a D1 position and a click ID as a partition position', () => {
    expect(clickListCursor(time, '12')).toEqual({ clicked_at: time, rowid: 12 });
    const id = 'A'.repeat(48);
    expect(clickListCursor(time, id)).toEqual({ clicked_at: time, click_id: id });
  });

  it('refuses keys that are neither', () => {
    for (const key of ['cv_abc', '-1', '99999999999999999', 'A'.repeat(47), `${'A'.repeat(47)}!`, '']) {
      expect(clickListCursor(time, key), key).toBeNull();
    }
  });
});
