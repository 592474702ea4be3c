// Deduplication keys of new conversions (src/conversions/dedup.ts): which key a conversion gets
// decides which later postbacks are its replays.
import { describe, expect, it } from 'vitest';
import { clickKey, dedupeKey, isRepeatKey, orderKey } from '../../src/conversions';

describe('dedupeKey', () => {
  it('uses the order ID when there is one, whatever the goal', () => {
    expect(dedupeKey({ allow_repeats: 1 }, { orderId: 'A-1', clickId: 'c' })).toBe(orderKey('A-1'));
    expect(dedupeKey({ allow_repeats: 0 }, { orderId: 'A-1' })).toBe('o:A-1');
  });

  it('gives a repeatable goal a fresh key each time when there is no order ID', () => {
    const first = dedupeKey({ allow_repeats: 1 }, { clickId: 'c' });
    const second = dedupeKey({ allow_repeats: 1 }, { clickId: 'c' });
    expect(first !== null && isRepeatKey(first)).toBe(true);
    expect(first).not.toBe(second);
  });

  it('keys a once-only goal by its click ID', () => {
    expect(dedupeKey({ allow_repeats: 0 }, { clickId: 'abc' })).toBe(clickKey('abc'));
    expect(isRepeatKey(clickKey('abc'))).toBe(false);
  });

  it('has no key for a once-only goal without order ID or click ID', () => {
    expect(dedupeKey({ allow_repeats: 0 }, {})).toBeNull();
  });
});
