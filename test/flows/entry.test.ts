import { describe, expect, it } from 'vitest';
import * as entry from '../../src/index';

describe('Worker entry module', () => {
  // workerd (wrangler dev, production) refuses to start when the main module exports anything
  // that is not a handler; the test runtime does not, so this guards it.
  it('exports only the default handler object', () => {
    expect(Object.keys(entry)).toEqual(['default']);
    expect(Object.keys(entry.default).sort()).toEqual(['fetch', 'queue', 'scheduled']);
  });
});
