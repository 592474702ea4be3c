// Fraud rules for a conversion that beats its click to storage (issue 22): the postback is
// judged without the click's facts, so when the click lands and completes the waiting
// conversion the same rules run (bot_click, datacenter_asn, the hold of flagged conversions)
// before any delivery leaves. A bot's click converted "approved" at once becomes pending on a
// held offer, its approval never delivered, the rollups moved with it; elsewhere it keeps its
// status and gains the flag.
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import type { ClicksMessage } from '../../src/click/ingest';
import { handleClick } from '../../src/click/route';
import { approveValidatedConversions } from '../../src/cron/validation';
import worker from '../../src/index';
import { clickRecord, seedEndpoint } from '../fixtures';
import { adminOk, createFixture, eventually, type Fixture, RECEIVER, received, uniqueKey } from '../helpers';
import { conversion, deliveriesOf, eventsOf, postJson, statsOf } from '../postback-helpers';

const handler = worker as ExportedHandler<Env>;
const BOT_AGENT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const EVENTS = ['conversion.created', 'conversion.approved', 'conversion.rejected'];

interface Scene {
  f: Fixture;
  key: string;
}

async function scene(offer: Record<string, unknown>): Promise<Scene> {
  const f = await createFixture(offer);
  const key = uniqueKey('fraud');
  await seedEndpoint({ publisher_id: f.publisherId, url: `${RECEIVER}/${key}/hook`, events: JSON.stringify(EVENTS) });
  return { f, key };
}

/**
 * A click through the real redirect whose Queue hand-off is held back: the redirect's message is
 * kept, so the click is stored only when the test hands the message to the consumer.
 */
async function heldBackClick(f: Fixture, userAgent: string): Promise<{ clickId: string; message: ClicksMessage }> {
  const sent: ClicksMessage[] = [];
  const capture = async (body: unknown) => {
    sent.push(body as ClicksMessage);
  };
  const holdingEnv = {
    ...env,
    CLICKS_QUEUE: {
      send: capture,
      sendBatch: async (messages: { body: unknown }[]) => {
        for (const m of messages) await capture(m.body);
      },
    },
  } as unknown as Env;
  const ctx = createExecutionContext();
  const response = await handleClick(
    new Request(`https://clickhop.test/c/${f.offerId}/${f.publisherId}?sub1=REF-9`, {
      headers: { 'user-agent': userAgent },
    }),
    holdingEnv,
    ctx,
    String(f.offerId),
    String(f.publisherId),
  );
  await waitOnExecutionContext(ctx);
  const clickId = new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
  const message = sent.find((m) => m.clicks.some((c) => c.click_id === clickId));
  if (!clickId || !message) throw new Error(`no click handed over (${response.status})`);
  return { clickId, message };
}

let serial = 0;
async function consume(body: ClicksMessage) {
  const batch = createMessageBatch('clickhop-clicks', [
    { id: `fraud-msg-${++serial}`, timestamp: Date.now(), attempts: 1, body },
  ]) as MessageBatch;
  const ctx = createExecutionContext();
  await handler.queue?.(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function approvedAtOnce(s: Scene, clickId: string, orderId: string): Promise<string> {
  const answer = await postJson(
    '/postback',
    { click_id: clickId, event: 'lead', order_id: orderId, status: 'approved' },
    { authorization: `Bearer ${s.f.postbackKey}` },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  // Judged without the click: nothing flags it yet.
  expect(answer.body.conversion_status).toBe('approved');
  const id = answer.body.conversion_id as string;
  expect(await conversion(id)).toMatchObject({ click_data: 'pending', status: 'approved', flags: null });
  return id;
}

/** Payloads the receiver got for this scene, once `count` arrived (and nothing more shortly after). */
async function deliveredPayloads(s: Scene, count: number) {
  await eventually(async () => ((await received(s.key)).length >= count ? true : null));
  await new Promise((resolve) => setTimeout(resolve, 300));
  return (await received(s.key)).map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
}

const snapshots = async (id: string) =>
  (await eventsOf(id)).map((e) => ({ type: e.type, to_status: e.to_status, ...JSON.parse(String(e.snapshot)) }));

describe('a conversion posted approved before its bot click lands', () => {
  it('is held pending by an offer that holds flagged conversions, and no approval is delivered', async () => {
    const s = await scene({
      hold_flagged: true,
      goals: [{ key: 'lead', revenue: '5.00', payout: '2.00', validation_days: 0 }],
    });
    const cap = await adminOk<{ id: number }>('POST', `/offers/${s.f.offerId}/caps`, {
      metric: 'conversions',
      period: 'lifetime',
      limit: 10,
    });
    const { clickId, message } = await heldBackClick(s.f, BOT_AGENT);
    expect(message.clicks[0]).toMatchObject({ click_id: clickId, is_bot: 1 });
    const id = await approvedAtOnce(s, clickId, 'BOT-1');
    // Waiting: nothing delivered yet.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await received(s.key)).toEqual([]);

    expect((await consume(message)).explicitAcks).toHaveLength(1);

    expect(await conversion(id)).toMatchObject({
      status: 'pending',
      flags: '["bot_click"]',
      click_data: null,
      sub1: 'REF-9',
    });
    expect(await snapshots(id)).toEqual([
      expect.objectContaining({
        type: 'conversion.created',
        to_status: 'pending',
        status: 'pending',
        flags: ['bot_click'],
        sub1: 'REF-9',
      }),
    ]);
    const payloads = await deliveredPayloads(s, 1);
    expect(payloads.map((p) => [p.type, p.data.status])).toEqual([['conversion.created', 'pending']]);
    expect((await deliveriesOf(id)).map((d) => d.event_type)).toEqual(['conversion.created']);

    const [stats] = await statsOf(s.f.offerId);
    expect(stats).toMatchObject({ pending: 1, approved: 0, payout_pending: 200, payout_approved: 0 });
    expect(stats).toMatchObject({ revenue_pending: 500, revenue_approved: 0 });
    const quarter = await env.DB.prepare(
      'SELECT SUM(pending) AS pending, SUM(approved) AS approved, SUM(payout_approved) AS payout_approved FROM quarter_conversion_stats WHERE offer_id = ?',
    )
      .bind(s.f.offerId)
      .first();
    expect(quarter).toEqual({ pending: 1, approved: 0, payout_approved: 0 });
    // Still counted by the cap, as a pending conversion is.
    const caps = await adminOk<{ data: { id: number; used: number }[] }>('GET', `/offers/${s.f.offerId}/caps`);
    expect(caps.data.find((c) => c.id === cap.id)?.used).toBe(1);
    // Held: the validation period does not approve it (flagged, on an offer that holds).
    await approveValidatedConversions(env, Date.now() + 60_000);
    expect(await conversion(id)).toMatchObject({ status: 'pending' });
  });

  it('keeps its approval on an offer that does not hold, flagged in the row, snapshots and payloads', async () => {
    const s = await scene({});
    const { clickId, message } = await heldBackClick(s.f, BOT_AGENT);
    const id = await approvedAtOnce(s, clickId, 'BOT-2');
    await consume(message);
    expect(await conversion(id)).toMatchObject({ status: 'approved', flags: '["bot_click"]', click_data: null });
    expect((await snapshots(id)).map((e) => [e.type, e.status, e.flags])).toEqual([
      ['conversion.created', 'approved', ['bot_click']],
      ['conversion.approved', 'approved', ['bot_click']],
    ]);
    const payloads = await deliveredPayloads(s, 2);
    expect(payloads.map((p) => p.type).sort()).toEqual(['conversion.approved', 'conversion.created']);
    expect(await statsOf(s.f.offerId)).toEqual([expect.objectContaining({ approved: 1, pending: 0 })]);
  });

  it('a datacenter click is held the same way; a person’s click changes nothing', async () => {
    const s = await scene({ hold_flagged: true });
    const at = Date.now() - 1_000;
    const mint = () =>
      clickIdKeys(env).then((keys) =>
        mintClickId(keys, { clickedAt: at, offerId: s.f.offerId, publisherId: s.f.publisherId, shard: 3 }),
      );
    const cloud = clickRecord(s.f, new Date(at).toISOString(), { click_id: await mint(), asn: 16509 });
    const person = clickRecord(s.f, new Date(at).toISOString(), { click_id: await mint(), asn: 1136 });
    const held = await approvedAtOnce(s, cloud.click_id, 'DC-1');
    const kept = await approvedAtOnce(s, person.click_id, 'DC-2');
    await consume({ v: 1, clicks: [cloud, person] });
    expect(await conversion(held)).toMatchObject({ status: 'pending', flags: '["datacenter_asn"]', click_data: null });
    expect(await conversion(kept)).toMatchObject({ status: 'approved', flags: null, click_data: null });
    const payloads = await deliveredPayloads(s, 3);
    expect(payloads.map((p) => [p.data.conversion_id === held ? 'held' : 'kept', p.type]).sort()).toEqual([
      ['held', 'conversion.created'],
      ['kept', 'conversion.approved'],
      ['kept', 'conversion.created'],
    ]);
  });

  it('a party’s decision made while it waited stands: the flag is added, the status kept', async () => {
    const s = await scene({ hold_flagged: true });
    const { clickId, message } = await heldBackClick(s.f, BOT_AGENT);
    const id = await approvedAtOnce(s, clickId, 'BOT-3');
    await adminOk('POST', `/conversions/${id}/adjust`, { amount: '10.00', reason: 'corrected' });
    await consume(message);
    expect(await conversion(id)).toMatchObject({ status: 'approved', flags: '["bot_click"]', click_data: null });
  });

  it('an approval already sent while the click was overdue stands: the hold aborts, the flag is added', async () => {
    const s = await scene({ hold_flagged: true });
    const { clickId, message } = await heldBackClick(s.f, BOT_AGENT);
    const id = await approvedAtOnce(s, clickId, 'BOT-4');
    // As if the reconciliation's stuck rule had sent the parked deliveries (15 minutes on).
    await env.DB.prepare("UPDATE deliveries SET attempts = 1, status = 'delivered' WHERE conversion_id = ?")
      .bind(id)
      .run();
    await consume(message);
    expect(await conversion(id)).toMatchObject({ status: 'approved', flags: '["bot_click"]', click_data: null });
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['conversion.created', 'conversion.approved']);
    expect(await statsOf(s.f.offerId)).toEqual([expect.objectContaining({ approved: 1, pending: 0 })]);
  });
});
