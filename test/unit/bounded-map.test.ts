// BoundedMap: the isolate memories' size limit (config cache, postback memory, key hashes,
// refusal throttle) forgets the least recently set entry, never more than one at a time.
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/lib/bounded-map';

describe('BoundedMap', () => {
  it('keeps at most its limit, forgetting the oldest entry first', () => {
    const map = new BoundedMap<string, number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, i);
    expect([...map.keys()]).toEqual(['b', 'c', 'd']);
    expect(map.get('a')).toBeUndefined();
  });

  it('makes a key set again the newest, without forgetting anything while within the limit', () => {
    const map = new BoundedMap<string, number>(3);
    map.set('a', 1).set('b', 2).set('c', 3).set('a', 4);
    expect([...map.entries()]).toEqual([
      ['b', 2],
      ['c', 3],
      ['a', 4],
    ]);
    map.set('d', 5);
    expect([...map.keys()]).toEqual(['c', 'a', 'd']);
  });
});
