import { DurableObject } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import * as entry from '../../src/index';

describe('Worker entry module', () => {
  // workerd (wrangler dev, production) refuses to start when the main module exports anything
  // that is not a handler or a Durable Object class; the test runtime does not, so this guards it.
  it('exports the default handler object and the Durable Object classes, nothing else', () => {
    const { default: handlers, ...classes } = entry;
    expect(Object.keys(handlers).sort()).toEqual(['fetch', 'queue', 'scheduled']);
    expect(Object.keys(classes).sort()).toEqual(['ClickPartition']);
    for (const exported of Object.values(classes)) {
      expect(exported.prototype).toBeInstanceOf(DurableObject);
    }
  });
});
