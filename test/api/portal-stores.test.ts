// The portal's store integration and coupon pages: an advertiser sees its own webhook URLs and
// snippets, sets and removes each secret through the API (never shown back), and sees the codes
// on its offers; a publisher sees and exports its own codes, and no one else's.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminOk, createFixture, type Fixture } from '../helpers';
import { checkoutSessionCompleted, postHook, stripeHeader } from '../integration-helpers';
import { elementById, type PortalPerson, rowsBy, signedIn, textOf } from '../portal-helpers';
import { createPublisher, mintLandedClick } from '../postback-helpers';

let f: Fixture;
let other: Fixture;
let advertiser: PortalPerson;
let publisher: PortalPerson;

beforeAll(async () => {
  f = await createFixture({ name: 'Garden tools' });
  other = await createFixture({ name: 'Other shop' });
  await adminOk('POST', '/coupons', { code: 'GARDEN20', offer_id: f.offerId, publisher_id: f.publisherId });
  await adminOk('POST', '/coupons', {
    code: 'OLDCODE',
    offer_id: f.offerId,
    publisher_id: f.publisherId,
    ends_at: '2026-01-01T00:00:00Z',
  });
  await adminOk('POST', '/coupons', { code: 'NOTYOURS', offer_id: other.offerId, publisher_id: other.publisherId });
  await adminOk('POST', '/coupons', { code: '=HYPERLINK("x")', offer_id: f.offerId, publisher_id: f.publisherId });
  const stranger = await createPublisher('Stranger');
  await adminOk('POST', '/coupons', { code: 'STRANGER', offer_id: f.offerId, publisher_id: stranger });
  advertiser = await signedIn('shop@garden.example', {
    role: 'advertiser',
    advertiser_id: f.advertiserId,
    publisher_id: null,
  });
  publisher = await signedIn('pod@cast.example', {
    role: 'publisher',
    publisher_id: f.publisherId,
    advertiser_id: null,
  });
});

describe('advertiser integration page', () => {
  it('shows its own Stripe and Shopify webhook URLs, the events, where the click ID goes', async () => {
    const page = await advertiser.page('/portal/integration');
    expect(page.status).toBe(200);
    expect(textOf(elementById(page.text, 'stripe-webhook-url'))).toBe(
      `https://clickhop.test/integrations/stripe/${f.advertiserId}`,
    );
    expect(textOf(elementById(page.text, 'shopify-webhook-url'))).toBe(
      `https://clickhop.test/integrations/shopify/${f.advertiserId}`,
    );
    const text = textOf(page.text);
    expect(text).toContain('checkout.session.completed and charge.refunded');
    expect(text).toContain('orders/create and refunds/create');
    expect(textOf(elementById(page.text, 'stripe-snippet'))).toContain('client_reference_id: clickId');
    expect(textOf(elementById(page.text, 'shopify-snippet'))).toContain('attributes: { click_id: id }');
    expect(textOf(elementById(page.text, 'stripe-secret-state'))).toContain('No signing secret set');
  });

  it('lists the codes on its offers only', async () => {
    const rows = rowsBy(elementById((await advertiser.page('/portal/integration')).text, 'coupons'), 'coupon-id');
    const codes = [...rows.values()].map((r) => textOf(r).split(' ')[0]);
    expect(codes).toEqual(['GARDEN20', 'OLDCODE', '=HYPERLINK("x")', 'STRANGER']);
    expect([...rows.values()].map((r) => textOf(r).endsWith('no'))).toEqual([false, true, false, false]);
  });

  it('sets the Stripe secret with the form: never shown back, and events signed with it convert', async () => {
    const secret = 'whsec_portal_7c1b2e3d4f5a6b7c8d9e';
    const saved = await advertiser.post('/portal/integration/secret', { provider: 'stripe', secret });
    expect(saved.status).toBe(200);
    expect(saved.text).toContain('Stripe secret saved.');
    expect(saved.text).not.toContain(secret);
    expect(textOf(elementById(saved.text, 'stripe-secret-state'))).toContain('Signing secret set on');
    const body = checkoutSessionCompleted({ client_reference_id: await mintLandedClick(f) });
    const res = await postHook(`/integrations/stripe/${f.advertiserId}`, body, {
      'stripe-signature': await stripeHeader(body, secret),
    });
    expect(res.body.outcome).toBe('created');
  });

  it('names the problem of a bad secret, and removes a secret', async () => {
    const bad = await advertiser.post('/portal/integration/secret', {
      provider: 'stripe',
      secret: 'sk_live_wrongkind',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('whsec_');
    const removed = await advertiser.post('/portal/integration/secret', { provider: 'stripe', remove: '1' });
    expect(removed.text).toContain('Stripe secret removed.');
    expect(textOf(elementById(removed.text, 'stripe-secret-state'))).toContain('No signing secret set');
  });

  it('is not a publisher page', async () => {
    expect(
      (await publisher.post('/portal/integration/secret', { provider: 'stripe', secret: 'whsec_12345678' })).status,
    ).toBe(404);
  });
});

describe('publisher coupons', () => {
  it('lists its own codes with their offer and window', async () => {
    const page = await publisher.page('/portal/coupons');
    expect(page.status).toBe(200);
    const rows = [...rowsBy(elementById(page.text, 'coupons'), 'coupon-id').values()].map(textOf);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain('GARDEN20 Garden tools');
    expect(page.text).not.toContain('NOTYOURS');
    expect(page.text).not.toContain('STRANGER');
  });

  it('exports them as CSV, formulas neutralised', async () => {
    const res = await publisher.fetch('/portal/coupons.csv');
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toBe('code,offer_id,offer,starts_at,ends_at,active');
    expect(lines.slice(1)).toEqual([
      `GARDEN20,${f.offerId},Garden tools,,,yes`,
      `OLDCODE,${f.offerId},Garden tools,,2026-01-01T00:00:00.000Z,no`,
      `"'=HYPERLINK(""x"")",${f.offerId},Garden tools,,,yes`,
    ]);
  });

  it('is not an advertiser page', async () => {
    expect((await advertiser.page('/portal/coupons')).status).toBe(404);
  });
});
