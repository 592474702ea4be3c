// The retry schedule and how each kind of outcome is classified (pure).
import { describe, expect, it } from 'vitest';
import {
  classify,
  MAX_ATTEMPTS,
  MAX_QUEUE_DELAY_S,
  parseRetryAfter,
  retryDelaySeconds,
} from '../../src/notify/schedule';
import type { SendOutcome } from '../../src/notify/send';

const outcome = (over: Partial<SendOutcome>): SendOutcome => ({
  status: 200,
  latencyMs: 5,
  snippet: 'ok',
  error: null,
  retryAfter: null,
  location: null,
  ...over,
});

const NOW = Date.parse('2026-11-23T10:00:00.000Z');

describe('retry schedule', () => {
  it('doubles from 15 s to a 2 h cap', () => {
    expect(Array.from({ length: 20 }, (_, i) => retryDelaySeconds(i + 1))).toEqual([
      15, 30, 60, 120, 240, 480, 960, 1920, 3840, 7200, 7200, 7200, 7200, 7200, 7200, 7200, 7200, 7200, 7200, 7200,
    ]);
  });

  it('spreads 21 attempts over about a day, matching max_retries 20 in wrangler.jsonc', () => {
    expect(MAX_ATTEMPTS).toBe(21);
    const total = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => retryDelaySeconds(i + 1)).reduce(
      (a, b) => a + b,
      0,
    );
    expect(total).toBe(86_865);
    expect(total / 3600).toBeGreaterThan(23);
    expect(total / 3600).toBeLessThan(25);
  });

  it('never asks the Queue for more than its 12 h limit', () => {
    for (let attempt = 1; attempt <= 100; attempt++)
      expect(retryDelaySeconds(attempt)).toBeLessThanOrEqual(MAX_QUEUE_DELAY_S);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120],
    [' 0 ', 0],
    ['Mon, 23 Nov 2026 10:05:00 GMT', 300],
    ['Mon, 23 Nov 2026 09:00:00 GMT', 0],
    ['soon', null],
    ['-5', null],
    [null, null],
  ])('%s -> %s', (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });
});

describe('classify', () => {
  it.each([200, 201, 204, 299])('%i is delivered', (status) => {
    expect(classify(outcome({ status }), 1, NOW)).toEqual({ kind: 'delivered' });
  });

  it('a 2xx whose body was cut off still counts as delivered', () => {
    expect(classify(outcome({ status: 200, error: 'answer cut off: x' }), 1, NOW)).toEqual({ kind: 'delivered' });
  });

  it.each([
    [301, 'https://elsewhere.example/', 'HTTP 301: redirect not followed (Location: https://elsewhere.example/)'],
    [307, null, 'HTTP 307: redirect not followed'],
    [400, null, 'HTTP 400'],
    [404, null, 'HTTP 404'],
    [500, null, 'HTTP 500'],
  ])('%i is retried on the schedule', (status, location, error) => {
    expect(classify(outcome({ status, location }), 3, NOW)).toEqual({ kind: 'retry', delaySeconds: 60, error });
  });

  it('a timeout or connection error is retried with its message', () => {
    expect(classify(outcome({ status: null, error: 'timeout: no complete answer within 20000 ms' }), 1, NOW)).toEqual({
      kind: 'retry',
      delaySeconds: 15,
      error: 'timeout: no complete answer within 20000 ms',
    });
  });

  it('410 ends the delivery and disables the endpoint, whatever the attempt', () => {
    expect(classify(outcome({ status: 410 }), 1, NOW)).toEqual({
      kind: 'dead',
      error: 'HTTP 410: endpoint gone, endpoint disabled',
      deadLetter: false,
      disableEndpoint: true,
    });
  });

  it('429 and 503 wait for Retry-After when it is longer than the schedule, capped at 12 h', () => {
    expect(classify(outcome({ status: 429, retryAfter: '600' }), 1, NOW)).toMatchObject({
      kind: 'retry',
      delaySeconds: 600,
    });
    expect(classify(outcome({ status: 503, retryAfter: '5' }), 2, NOW)).toMatchObject({
      kind: 'retry',
      delaySeconds: 30,
    });
    expect(classify(outcome({ status: 503, retryAfter: '86400' }), 1, NOW)).toMatchObject({
      kind: 'retry',
      delaySeconds: 43_200,
      error: 'HTTP 503 (Retry-After: 86400)',
    });
    // Other statuses do not get to set the pace.
    expect(classify(outcome({ status: 500, retryAfter: '600' }), 1, NOW)).toMatchObject({ delaySeconds: 15 });
  });

  it('the 21st failed attempt is the last: dead, and the message goes to the DLQ', () => {
    expect(classify(outcome({ status: 500 }), 20, NOW)).toMatchObject({ kind: 'retry', delaySeconds: 7200 });
    expect(classify(outcome({ status: 500 }), 21, NOW)).toEqual({
      kind: 'dead',
      error: 'HTTP 500; gave up after 21 attempts',
      deadLetter: true,
      disableEndpoint: false,
    });
  });
});
