// Sub IDs of a click link: sub1..sub6, the TUNE / Awin / impact aliases and their precedence,
// and the creative ids (src/click/sub-ids.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClickLinkIds,
  isLinkParamError,
  type LinkParamError,
  parseClickLinkIds,
  SUB_ID_NAMES,
} from '../../src/click/sub-ids';

const parse = (query: string) => parseClickLinkIds(new URLSearchParams(query));

function ids(query: string): ClickLinkIds {
  const parsed = parse(query);
  if (isLinkParamError(parsed)) throw new Error(`refused: ${parsed.field} ${parsed.message}`);
  return parsed;
}

function refusal(query: string): LinkParamError {
  const parsed = parse(query);
  if (!isLinkParamError(parsed)) throw new Error(`accepted: ${JSON.stringify(parsed)}`);
  return parsed;
}

describe('parseClickLinkIds: sub IDs', () => {
  it('reads sub1..sub6 by their own names', () => {
    expect(ids('sub1=a&sub2=b&sub3=c&sub4=d&sub5=e&sub6=f').subs).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('reads no sub IDs as six nulls, and an empty value as none', () => {
    expect(ids('').subs).toEqual([null, null, null, null, null, null]);
    expect(ids('sub1=&sub6=').subs).toEqual([null, null, null, null, null, null]);
  });

  it("maps TUNE's aff_sub, aff_sub2..aff_sub5 onto sub1..sub5", () => {
    expect(ids('aff_sub=a&aff_sub2=b&aff_sub3=c&aff_sub4=d&aff_sub5=e').subs).toEqual(['a', 'b', 'c', 'd', 'e', null]);
  });

  it("maps Awin's clickref, clickref2..clickref6 onto sub1..sub6", () => {
    expect(ids('clickref=a&clickref2=b&clickref3=c&clickref4=d&clickref5=e&clickref6=f').subs).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
    ]);
  });

  it("maps impact's subId1..subId3 onto sub1..sub3", () => {
    expect(ids('subId1=a&subId2=b&subId3=c').subs).toEqual(['a', 'b', 'c', null, null, null]);
  });

  it('lets the canonical subN win over any alias, whatever the order in the link', () => {
    expect(ids('clickref=alias&aff_sub=tune&subId1=impact&sub1=own').subs[0]).toBe('own');
    expect(ids('clickref6=alias&sub6=own').subs[5]).toBe('own');
  });

  it('takes aliases in the order TUNE, Awin, impact', () => {
    expect(ids('subId1=impact&clickref=awin&aff_sub=tune').subs[0]).toBe('tune');
    expect(ids('subId2=impact&clickref2=awin').subs[1]).toBe('awin');
  });

  it('passes over an empty value to the next name of the same sub ID', () => {
    expect(ids('sub1=&clickref=awin').subs[0]).toBe('awin');
    expect(ids('sub3=&aff_sub3=&subId3=impact').subs[2]).toBe('impact');
  });

  it('counts the first occurrence of a name given twice', () => {
    expect(ids('sub2=first&sub2=second').subs[1]).toBe('first');
    expect(ids('clickref2=first&clickref2=second').subs[1]).toBe('first');
  });

  it('matches names exactly: other spellings are not sub IDs', () => {
    expect(ids('SUB1=a&Clickref=b&subid1=c&aff_sub1=d&clickref1=e&subId4=f&aff_sub6=g').subs).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('refuses a long or control-character sub ID, naming the parameter the link used', () => {
    expect(refusal(`clickref6=${'x'.repeat(256)}`)).toMatchObject({ field: 'clickref6' });
    expect(refusal('aff_sub=a%0Ab')).toMatchObject({ field: 'aff_sub' });
    expect(refusal(`sub6=${'x'.repeat(256)}`).message).toBe(
      'sub6 must be at most 255 characters with no control characters',
    );
    expect(ids(`sub1=${'x'.repeat(255)}`).subs[0]).toHaveLength(255);
  });

  it('ignores an alias that loses to a value given first in precedence, even a malformed one', () => {
    expect(ids('sub1=ok&clickref=a%00b').subs[0]).toBe('ok');
  });

  it('gives every slot the value of its first non-empty name (property)', () => {
    const names = SUB_ID_NAMES.flat();
    const value = fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z0-9]{1,8}$/));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 12 }), (pairs) => {
        const query = new URLSearchParams(pairs);
        const expected = SUB_ID_NAMES.map((slot) => {
          for (const name of slot) {
            const v = query.get(name);
            if (v) return v;
          }
          return null;
        });
        expect(ids(query.toString()).subs).toEqual(expected);
      }),
    );
  });
});

describe('parseClickLinkIds: creative ids', () => {
  it('reads creative_id and creative_group_id as integers', () => {
    expect(ids('creative_id=12&creative_group_id=3')).toMatchObject({ creative_id: 12, creative_group_id: 3 });
    expect(ids('creative_id=0')).toMatchObject({ creative_id: 0, creative_group_id: null });
  });

  it('reads absent or empty creative ids as null', () => {
    expect(ids('creative_id=&sub1=a')).toMatchObject({ creative_id: null, creative_group_id: null });
  });

  it('refuses a creative id that is not a whole number, naming it', () => {
    for (const bad of ['abc', '1.5', '-1', '01', '1e3', ' 1', '1234567890123456']) {
      expect(refusal(`creative_id=${encodeURIComponent(bad)}`), bad).toEqual({
        field: 'creative_id',
        message: 'creative_id must be a whole number (0 or more)',
      });
    }
    expect(refusal('creative_id=5&creative_group_id=x').field).toBe('creative_group_id');
  });
});
