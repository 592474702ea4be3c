// Parameter mapping (pure): profile aliases onto canonical names, conflicts refused naming
// both parameters, the Bearer key, and the redaction of secrets for the log.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/lib/errors';
import { DAY_MS } from '../../src/lib/time';
import { checkAttributionWindow } from '../../src/postback/attribution';
import {
  canonicalProfile,
  hasOffersProfile,
  loggableParams,
  mapParams,
  tradeTrackerProfile,
} from '../../src/postback/profiles';

function raw(entries: [string, string][], bearer: string | null = null) {
  const values = new Map<string, string[]>();
  for (const [k, v] of entries) values.set(k, [...(values.get(k) ?? []), v]);
  return { values, bearer, hasAuthorization: bearer !== null };
}

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('mapParams', () => {
  it('maps TradeTracker names, fixes the goal from the path and ignores its own event', () => {
    const { params, names } = mapParams(
      tradeTrackerProfile('lead'),
      raw([
        ['data', 'CLICK'],
        ['tid', '123456'],
        ['tam', '9.99'],
        ['vc', 'V'],
        ['descrAffiliate', 'new player'],
        ['descrMerchant', 'internal'],
        ['event', 'sales'],
      ]),
    );
    expect(params).toEqual({
      click_id: 'CLICK',
      order_id: '123456',
      amount: '9.99',
      voucher: 'V',
      description: 'new player',
      event: 'lead',
    });
    expect(names).toMatchObject({ click_id: 'data', amount: 'tam' });
  });

  it('maps HasOffers names', () => {
    const { params } = mapParams(
      hasOffersProfile,
      raw([
        ['transaction_id', 'T'],
        ['adv_sub', 'O'],
        ['goal_id', '3'],
        ['security_token', 'K'],
        ['aff_sub3', 's3'],
      ]),
    );
    expect(params).toEqual({ click_id: 'T', order_id: 'O', event: '3', key: 'K', sub3: 's3' });
  });

  it('accepts an alias and its canonical name carrying the same value', () => {
    expect(
      mapParams(
        hasOffersProfile,
        raw([
          ['adv_sub', 'O'],
          ['order_id', 'O'],
        ]),
      ).params.order_id,
    ).toBe('O');
  });

  it('refuses an alias and its canonical name carrying different values, naming the alias', () => {
    const error = refusal(() =>
      mapParams(
        hasOffersProfile,
        raw([
          ['order_id', 'A'],
          ['adv_sub', 'B'],
        ]),
      ),
    );
    expect(error.status).toBe(400);
    expect(error.fields).toEqual({ adv_sub: 'conflicts with order_id (order_id)' });
  });

  it('refuses a repeated parameter with two values', () => {
    const error = refusal(() =>
      mapParams(
        canonicalProfile,
        raw([
          ['amount', '1'],
          ['amount', '2'],
        ]),
      ),
    );
    expect(error.fields).toHaveProperty('amount');
  });

  it('takes the key from Authorization: Bearer, and refuses a different key parameter', () => {
    expect(mapParams(canonicalProfile, raw([], 'pbk_1')).params.key).toBe('pbk_1');
    expect(mapParams(canonicalProfile, raw([['key', 'pbk_1']], 'pbk_1')).params.key).toBe('pbk_1');
    expect(refusal(() => mapParams(canonicalProfile, raw([['key', 'pbk_2']], 'pbk_1'))).fields).toHaveProperty('key');
  });

  it('does not read foreign names in the canonical profile', () => {
    expect(mapParams(canonicalProfile, raw([['transaction_id', 'T']])).params).toEqual({});
  });
});

describe('loggableParams', () => {
  it('redacts key, security_token, Authorization and mistyped secrets, and keeps the rest', () => {
    const logged = loggableParams(
      hasOffersProfile,
      raw(
        [
          ['key', 'k1'],
          ['Key', 'k2'],
          ['security_token', 's'],
          ['adv_sub', 'O'],
          ['amount', '1'],
          ['amount', '2'],
        ],
        'bearer',
      ),
    );
    expect(logged).toEqual({
      key: '[redacted]',
      Key: '[redacted]',
      security_token: '[redacted]',
      adv_sub: 'O',
      amount: ['1', '2'],
      Authorization: '[redacted]',
    });
  });
});

describe('checkAttributionWindow', () => {
  const now = Date.UTC(2026, 10, 23, 12);

  it('includes both ends of the window and nothing past it', () => {
    expect(checkAttributionWindow(now - 30 * DAY_MS, 30, now)).toBe('inside');
    expect(checkAttributionWindow(now - 30 * DAY_MS - 1, 30, now)).toBe('expired');
    expect(checkAttributionWindow(now, 1, now)).toBe('inside');
  });

  it('tolerates five minutes of clock skew, not more', () => {
    expect(checkAttributionWindow(now + 5 * 60_000, 1, now)).toBe('inside');
    expect(checkAttributionWindow(now + 5 * 60_000 + 1, 1, now)).toBe('future');
  });
});
