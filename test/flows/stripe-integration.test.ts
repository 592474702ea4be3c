// Stripe through the real Worker: Stripe-Signature verified as Stripe documents it (every way
// it can be wrong is a 401 with a log row and nothing else stored), a completed checkout
// session becomes the sale to the cent, replays change nothing, refunds adjust or reverse it in
// whichever order they arrive.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminOk, createFixture, type Fixture } from '../helpers';
import {
  chargeRefunded,
  checkoutSessionCompleted,
  conversionsOfAdvertiser,
  integrationLogRows,
  nowSeconds,
  postHook,
  setIntegrationSecret,
  stripeHeader,
  stripeV1,
  uid,
} from '../integration-helpers';
import { conversion, deliveriesOf, eventsOf, insertEndpoint, mintLandedClick } from '../postback-helpers';

const SECRET = 'whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH';

let f: Fixture;
const path = () => `/integrations/stripe/${f.advertiserId}`;
const send = async (body: string, header?: string) =>
  postHook(path(), body, header === undefined ? {} : { 'stripe-signature': header });
const signed = async (body: string) => send(body, await stripeHeader(body, SECRET));

beforeAll(async () => {
  f = await createFixture();
  await setIntegrationSecret(f.advertiserId, 'stripe', SECRET);
});

describe('Stripe-Signature', () => {
  const refusals: [string, (body: string) => Promise<string | undefined>][] = [
    ['a missing header', async () => undefined],
    ['a header of another secret', (body) => stripeHeader(body, 'whsec_someone_else')],
    ['a timestamp older than 5 minutes', (body) => stripeHeader(body, SECRET, nowSeconds() - 301)],
    ['a timestamp more than 5 minutes ahead', (body) => stripeHeader(body, SECRET, nowSeconds() + 301)],
    [
      'a signature of another timestamp',
      async (body) => `t=${nowSeconds()},v1=${await stripeV1(body, SECRET, nowSeconds() - 10)}`,
    ],
    ['a tampered body', (body) => stripeHeader(body.replace('4999', '9999'), SECRET)],
    ['no v1 (only v0)', async (body) => `t=${nowSeconds()},v0=${await stripeV1(body, SECRET, nowSeconds())}`],
    ['no timestamp', async (body) => `v1=${await stripeV1(body, SECRET, nowSeconds())}`],
    ['garbage', async () => 'not a signature'],
  ];

  it.each(refusals)('%s: 401, a log row, no conversion', async (_what, header) => {
    const clickId = await mintLandedClick(f);
    const body = checkoutSessionCompleted({ client_reference_id: clickId });
    const before = (await integrationLogRows(f.advertiserId, 'stripe')).length;
    const res = await send(body, await header(body));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_signature');
    expect(await conversionsOfAdvertiser(f.advertiserId)).toEqual([]);
    const rows = await integrationLogRows(f.advertiserId, 'stripe');
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({ outcome: 'refused', http_status: 401, error_code: 'invalid_signature' });
    // The row keeps no body and no signature.
    expect(String(rows.at(-1)?.params)).not.toContain(clickId);
  });

  it('accepts a signature at the edge of the tolerance (300 s old)', async () => {
    const body = checkoutSessionCompleted({ metadata: { note: 'no click' } });
    const res = await send(body, await stripeHeader(body, SECRET, nowSeconds() - 299));
    expect(res.status).toBe(200);
  });

  it('accepts a header with several v1 values when any one matches (a secret roll)', async () => {
    const t = nowSeconds();
    const body = checkoutSessionCompleted({ client_reference_id: await mintLandedClick(f) });
    const good = await stripeV1(body, SECRET, t);
    const other = await stripeV1(body, 'whsec_old_secret', t);
    const res = await send(body, `t=${t},v1=${other},v0=${'0'.repeat(64)},v1=${good}`);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('created');
  });

  it('refuses everything for an advertiser without a secret, and an unknown advertiser, alike', async () => {
    const other = await createFixture();
    const body = checkoutSessionCompleted({});
    for (const id of [other.advertiserId, 999999, 'abc']) {
      const res = await postHook(`/integrations/stripe/${id}`, body, {
        'stripe-signature': await stripeHeader(body, SECRET),
      });
      expect(res.status).toBe(401);
    }
  });
});

describe('checkout.session.completed', () => {
  it('is a sale to the cent: amount_total, currency upper case, the session id as order ID', async () => {
    await insertEndpoint(f.publisherId, ['conversion.created']);
    const clickId = await mintLandedClick(f);
    const body = checkoutSessionCompleted({ client_reference_id: clickId, amount_total: 12345, currency: 'eur' });
    const sessionId = JSON.parse(body).data.object.id;
    const res = await signed(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      outcome: 'created',
      order_id: sessionId,
      amount: '123.45',
      currency: 'EUR',
      attribution: 'click',
    });
    const row = await conversion(res.body.conversion_id);
    // The offer's sale goal: 10% revenue, 5% payout (617.25 -> 617, rounded half up).
    expect(row).toMatchObject({
      click_id: clickId,
      order_id: sessionId,
      amount: 12345,
      currency: 'EUR',
      revenue: 1235,
      payout: 617,
      profile: 'stripe',
      source: 'server',
      status: 'pending',
    });
    expect(await deliveriesOf(res.body.conversion_id)).toHaveLength(1);
    const shown = await adminOk<Record<string, unknown>>('GET', `/conversions/${res.body.conversion_id}`);
    expect(shown).toMatchObject({ source: 'server', profile: 'stripe', integration: 'stripe', event: 'sale' });
    const [log] = (await integrationLogRows(f.advertiserId, 'stripe')).filter(
      (r) => r.conversion_id === res.body.conversion_id,
    );
    expect(log).toMatchObject({ outcome: 'created', http_status: 200, click_id: clickId, order_id: sessionId });
  });

  it('takes the click ID from metadata.click_id too', async () => {
    const res = await signed(checkoutSessionCompleted({ metadata: { click_id: await mintLandedClick(f) } }));
    expect(res.body.outcome).toBe('created');
  });

  it('a replayed event, or the same session in a new event, counts once', async () => {
    const body = checkoutSessionCompleted({ client_reference_id: await mintLandedClick(f) });
    const first = await signed(body);
    const replay = await signed(body);
    expect(replay).toMatchObject({
      status: 200,
      body: { outcome: 'duplicate', ignored: true, reason: 'replayed_event' },
    });
    const session = JSON.parse(body).data.object;
    const again = await signed(checkoutSessionCompleted(session));
    expect(again.body).toMatchObject({
      outcome: 'duplicate',
      conversion_id: first.body.conversion_id,
      duplicate: true,
    });
    const n = await env.DB.prepare('SELECT COUNT(*) AS n FROM conversions WHERE order_id = ?')
      .bind(session.id)
      .first<{ n: number }>();
    expect(n?.n).toBe(1);
  });

  it('acknowledges a session without a click ID, and a forged click ID, without storing a sale', async () => {
    const before = (await conversionsOfAdvertiser(f.advertiserId)).length;
    const plain = await signed(checkoutSessionCompleted({}));
    expect(plain).toMatchObject({ status: 200, body: { outcome: 'duplicate', ignored: true, reason: 'no_click_id' } });
    const forged = await signed(checkoutSessionCompleted({ client_reference_id: 'AQEAAZnotARealClickIdAtAll000000' }));
    expect(forged).toMatchObject({ status: 200, body: { status: 'refused', error: { code: 'click_not_found' } } });
    expect(await conversionsOfAdvertiser(f.advertiserId)).toHaveLength(before);
    const last = (await integrationLogRows(f.advertiserId, 'stripe')).at(-1);
    expect(last).toMatchObject({ outcome: 'refused', http_status: 200, error_code: 'click_not_found' });
  });

  it('acknowledges events it does not use', async () => {
    const body = JSON.stringify({
      id: uid('evt'),
      type: 'payment_intent.succeeded',
      data: { object: { id: uid('pi') } },
    });
    expect(await signed(body)).toMatchObject({ status: 200, body: { ignored: true, reason: 'unused_event' } });
  });

  it('answers 413 past 256 KiB, logged, with nothing stored', async () => {
    const body = checkoutSessionCompleted({
      client_reference_id: await mintLandedClick(f),
      padding: 'x'.repeat(256 * 1024),
    });
    const res = await signed(body);
    expect(res.status).toBe(413);
    expect((await integrationLogRows(f.advertiserId, 'stripe')).at(-1)).toMatchObject({ http_status: 413 });
  });

  it('takes a 250 KiB event', async () => {
    const body = checkoutSessionCompleted({
      client_reference_id: await mintLandedClick(f),
      padding: 'x'.repeat(250 * 1024),
    });
    expect((await signed(body)).body.outcome).toBe('created');
  });
});

describe('charge.refunded', () => {
  async function sale(amount = 10000) {
    const body = checkoutSessionCompleted({ client_reference_id: await mintLandedClick(f), amount_total: amount });
    const pi = JSON.parse(body).data.object.payment_intent as string;
    const res = await signed(body);
    expect(res.body.outcome).toBe('created');
    return { pi, id: res.body.conversion_id as string };
  }

  it('a partial refund lowers the sale by amount_refunded, a replay changes nothing, a full one reverses it', async () => {
    const { pi, id } = await sale(10000);
    const chargeId = uid('ch');
    const partial = chargeRefunded({
      id: chargeId,
      payment_intent: pi,
      amount: 10000,
      amount_refunded: 2500,
      refunded: false,
    });
    const first = await signed(partial);
    expect(first.body).toMatchObject({ outcome: 'updated', amount: '75.00', refunded: '25.00' });
    expect(await conversion(id)).toMatchObject({ amount: 7500, revenue: 750, payout: 375, status: 'pending' });
    expect((await signed(partial)).body).toMatchObject({ outcome: 'duplicate', reason: 'replayed_event' });
    // The same refunded total in a new event (Stripe sends charge.refunded per refund, cumulative).
    const same = chargeRefunded({ id: chargeId, payment_intent: pi, amount: 10000, amount_refunded: 2500 });
    expect((await signed(same)).body.outcome).toBe('duplicate');
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['conversion.created', 'conversion.modified']);

    await adminOk('POST', `/conversions/${id}/status`, { status: 'approved' });
    const full = chargeRefunded({
      id: chargeId,
      payment_intent: pi,
      amount: 10000,
      amount_refunded: 10000,
      refunded: true,
    });
    expect((await signed(full)).body).toMatchObject({ outcome: 'updated', conversion_status: 'reversed' });
    expect(await conversion(id)).toMatchObject({ status: 'reversed' });
  });

  it('a full refund of a pending sale rejects it', async () => {
    const { pi, id } = await sale(4000);
    await signed(chargeRefunded({ payment_intent: pi, amount: 4000, amount_refunded: 4000, refunded: true }));
    expect(await conversion(id)).toMatchObject({ status: 'rejected', amount: 4000 });
  });

  it('a refund that arrives before its sale waits for it and applies once', async () => {
    const clickId = await mintLandedClick(f);
    const pi = uid('pi');
    const early = await signed(chargeRefunded({ payment_intent: pi, amount: 6000, amount_refunded: 1000 }));
    expect(early).toMatchObject({ status: 200, body: { parked: true } });
    const res = await signed(
      checkoutSessionCompleted({ client_reference_id: clickId, amount_total: 6000, payment_intent: pi }),
    );
    expect(res.body).toMatchObject({ outcome: 'created', amount: '50.00', refunded: '10.00' });
    expect(await conversion(res.body.conversion_id)).toMatchObject({ amount: 5000, revenue: 500, payout: 250 });
  });
});
