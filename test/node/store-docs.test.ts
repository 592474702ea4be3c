// docs/store-integrations.md's worked examples are real: the signatures printed there verify
// with the code that checks webhooks (src/integrations/signatures.ts), for the bodies printed there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyShopifyHmac, verifyStripeSignature } from '../../src/integrations/signatures';

const guide = readFileSync('docs/store-integrations.md', 'utf8');
const bytes = (text: string) => new TextEncoder().encode(text);

/** The first shell assignment NAME='…' after `from` in the guide. */
function assigned(name: string, from: number): string {
  const match = new RegExp(`${name}='([^']*)'`).exec(guide.slice(from));
  if (!match) throw new Error(`no ${name}= in the guide`);
  return match[1] as string;
}

describe('docs/store-integrations.md examples', () => {
  it('the Stripe test event verifies with the printed signature at its timestamp, and not 301 s later', async () => {
    const at = guide.indexOf('### A signed test event');
    const secret = assigned('SECRET', at);
    const body = assigned('BODY', at);
    const t = Number(/\nT=(\d+)\n/.exec(guide.slice(at))?.[1]);
    const header = /Stripe-Signature: (t=\d+,v1=[0-9a-f]{64})/.exec(guide.slice(at))?.[1];
    expect(header).toBe(`t=${t},v1=9840fcf1ef84e2bb18c2fc7c6e7277398efad89928238e21af1a3ab0917d7648`);
    expect(await verifyStripeSignature(header, bytes(body), secret, t)).toEqual({ ok: true });
    expect((await verifyStripeSignature(header, bytes(body), secret, t + 301)).ok).toBe(false);
  });

  it('the Shopify order verifies with the printed HMAC', async () => {
    const at = guide.indexOf('Worked example (check your');
    const secret = assigned('SECRET', at);
    const body = assigned('BODY', at);
    const hmac = /# ([A-Za-z0-9+/]{43}=)/.exec(guide.slice(at))?.[1];
    expect(await verifyShopifyHmac(hmac, bytes(body), secret)).toEqual({ ok: true });
    expect((await verifyShopifyHmac(hmac, bytes(body.replace('49.99', '4.99')), secret)).ok).toBe(false);
  });
});
