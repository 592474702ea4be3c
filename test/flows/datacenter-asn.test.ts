// The datacenter_asn fraud signal end to end: a click from a cloud network (its ASN in
// src/conversions/datacenter-asns.ts) lands, a postback converts it, and the conversion is
// stored with the flag (and held pending where the offer holds flagged conversions); a click
// from an access network raises nothing.
import { describe, expect, it } from 'vitest';
import { clickRecord, insertClicks } from '../fixtures';
import { createFixture, type Fixture } from '../helpers';
import { conversion, getPostback, mintClick } from '../postback-helpers';

async function convertClickFrom(f: Fixture, asn: number, orderId: string, extra: Record<string, string> = {}) {
  const clickId = await mintClick(f);
  await insertClicks([clickRecord(f, new Date(Date.now() - 60_000).toISOString(), { click_id: clickId, asn })]);
  const answer = await getPostback('/postback', { click_id: clickId, order_id: orderId, key: f.postbackKey, ...extra });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return conversion(answer.body.conversion_id);
}

describe('datacenter_asn', () => {
  it('flags a conversion whose click came from a cloud network, and not one from an access network', async () => {
    const f = await createFixture();
    const aws = await convertClickFrom(f, 16509, 'DC-1');
    expect(JSON.parse(String(aws?.flags))).toContain('datacenter_asn');
    const home = await convertClickFrom(f, 1136, 'DC-2'); // KPN, a Dutch access network
    expect(home?.flags ?? null).toBeNull();
  });

  it('keeps a flagged conversion pending when the offer holds flagged ones, even if the advertiser says approved', async () => {
    const f = await createFixture({ hold_flagged: true });
    const held = await convertClickFrom(f, 14061, 'DC-3', { status: 'approved' });
    expect(JSON.parse(String(held?.flags))).toContain('datacenter_asn');
    expect(held?.status).toBe('pending');
  });
});
