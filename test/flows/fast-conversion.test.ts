// Complete click data for fast conversions (issue 13 item 1): a conversion posted before its click
// is stored waits, with its deliveries held; the click landing (queue consumer, direct write,
// redelivered batch) completes the stored row, its event snapshots and the notification; a click
// that never lands within the wait is delivered anyway, marked click_data "missing" and logged.
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import type { ClicksMessage } from '../../src/click/ingest';
import { handleClick } from '../../src/click/route';
import { CLICK_WAIT_MS, settleDueConversions } from '../../src/clicks/completion';
import type { ClickRecord } from '../../src/db/clicks';
import worker from '../../src/index';
import { clickRecord, seedEndpoint } from '../fixtures';
import { createFixture, eventually, type Fixture, RECEIVER, received, uniqueKey } from '../helpers';
import { conversion, deliveriesOf, eventsOf, postJson } from '../postback-helpers';

const handler = worker as ExportedHandler<Env>;
const QUEUE = 'clickhop-clicks';

interface Scene {
  f: Fixture;
  key: string;
}

/** An offer with one JSON endpoint (click data included) on its own receiver path. */
async function scene(): Promise<Scene> {
  const f = await createFixture();
  const key = uniqueKey('fast');
  await seedEndpoint({ publisher_id: f.publisherId, url: `${RECEIVER}/${key}/hook`, include_click_data: 1 });
  return { f, key };
}

/** A click as the redirect would hand it over, with a v2 (partitioned) ID minted just now. */
async function freshClick(f: Fixture, overrides: Partial<ClickRecord> = {}): Promise<ClickRecord> {
  const at = Date.now() - 1_000;
  const id = await mintClickId(await clickIdKeys(env), {
    clickedAt: at,
    offerId: f.offerId,
    publisherId: f.publisherId,
    shard: 5,
  });
  return clickRecord(f, new Date(at).toISOString(), {
    click_id: id,
    sub1: 'REF-9',
    sub2: 'campaign-a',
    referrer: 'https://blog.example/post',
    country: 'NL',
    device: 'mobile',
    ...overrides,
  });
}

async function lead(s: Scene, clickId: string): Promise<string> {
  const answer = await postJson(
    '/postback',
    { click_id: clickId, event: 'lead' },
    { authorization: `Bearer ${s.f.postbackKey}` },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.conversion_id as string;
}

let serial = 0;
async function consume(body: ClicksMessage, id = `fast-msg-${++serial}`) {
  const batch = createMessageBatch(QUEUE, [{ id, timestamp: Date.now(), attempts: 1, body }]) as MessageBatch;
  const ctx = createExecutionContext();
  await handler.queue?.(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const snapshots = async (conversionId: string) =>
  (await eventsOf(conversionId)).map((e) => JSON.parse(e.snapshot as string) as Record<string, unknown>);

/** The JSON payloads the receiver got under this scene's path. */
async function payloads(s: Scene, count: number) {
  const requests = await eventually(async () => {
    const got = await received(s.key);
    return got.length >= count ? got : null;
  });
  return requests.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
}

/** Nothing reached the receiver: the held deliveries were not handed to the notifications Queue. */
async function expectHeld(s: Scene, conversionId: string) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await received(s.key)).toEqual([]);
  const deliveries = await deliveriesOf(conversionId);
  expect(deliveries).toHaveLength(1);
  expect(deliveries[0]).toMatchObject({ status: 'pending', attempts: 0 });
}

async function expectCompleted(s: Scene, conversionId: string) {
  expect(await conversion(conversionId)).toMatchObject({ sub1: 'REF-9', sub2: 'campaign-a', click_data: null });
  const [created] = await snapshots(conversionId);
  expect(created).toMatchObject({
    sub1: 'REF-9',
    sub2: 'campaign-a',
    click: expect.objectContaining({ referrer: 'https://blog.example/post', country: 'NL', device: 'mobile' }),
  });
  expect(created).not.toHaveProperty('click_data');
  const [payload] = await payloads(s, 1);
  expect(payload?.data).toMatchObject({ conversion_id: conversionId, sub1: 'REF-9', sub2: 'campaign-a' });
  expect(payload?.data.click).toMatchObject({ referrer: 'https://blog.example/post', country: 'NL' });
  expect(payload?.data).not.toHaveProperty('click_data');
}

describe('a conversion posted before its click is stored', () => {
  it('waits with its deliveries held, and is completed by the consumer when the click lands', async () => {
    const s = await scene();
    const click = await freshClick(s.f);
    const id = await lead(s, click.click_id);
    expect(await conversion(id)).toMatchObject({ sub1: null, click_data: 'pending' });
    await expectHeld(s, id);

    expect((await consume({ v: 1, clicks: [click] })).explicitAcks).toHaveLength(1);
    await expectCompleted(s, id);
  });

  it('keeps waiting while the consumer is delayed, then completes from the late click', async () => {
    const s = await scene();
    const click = await freshClick(s.f);
    const id = await lead(s, click.click_id);
    // The sweep runs before the wait is over: nothing is settled yet.
    expect((await settleDueConversions(env, Date.now() + CLICK_WAIT_MS / 2)).settled).toBe(0);
    await expectHeld(s, id);
    await consume({ v: 1, clicks: [click] });
    await expectCompleted(s, id);
  });

  it('is completed by a click the redirect wrote directly when the Queue refused it', async () => {
    const s = await scene();
    let refuse: (error: Error) => void = () => {};
    const refused = new Promise<never>((_, reject) => {
      refuse = reject;
    });
    refused.catch(() => {}); // every send awaits it; this only keeps the runner from flagging it
    // The Queue answers only once the conversion exists, then refuses: the redirect stores directly.
    const failingEnv = {
      ...env,
      CLICK_PARTITION_SHARDS: '4',
      CLICKS_QUEUE: { send: () => refused, sendBatch: () => refused },
    } as unknown as Env;
    const ctx = createExecutionContext();
    const response = await handleClick(
      new Request(`https://clickhop.test/c/${s.f.offerId}/${s.f.publisherId}?sub1=REF-9&sub2=campaign-a`, {
        headers: {
          'user-agent': 'Mozilla/5.0 (iPhone) Mobile',
          referer: 'https://blog.example/post',
          'cf-ipcountry': 'NL',
        },
      }),
      failingEnv,
      ctx,
      String(s.f.offerId),
      String(s.f.publisherId),
    );
    const clickId = new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
    const id = await lead(s, clickId);
    expect(await conversion(id)).toMatchObject({ click_data: 'pending' });
    refuse(new Error('queue unavailable'));
    await waitOnExecutionContext(ctx);
    await eventually(async () => ((await conversion(id))?.click_data === null ? true : null));
    expect(await conversion(id)).toMatchObject({ sub1: 'REF-9', sub2: 'campaign-a' });
    const [payload] = await payloads(s, 1);
    expect(payload?.data).toMatchObject({ sub1: 'REF-9', sub2: 'campaign-a' });
  });

  it('is completed once when the click batch is redelivered', async () => {
    const s = await scene();
    const click = await freshClick(s.f);
    const id = await lead(s, click.click_id);
    await consume({ v: 1, clicks: [click] }, 'fast-redelivered');
    await consume({ v: 1, clicks: [click] }, 'fast-redelivered');
    await expectCompleted(s, id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await received(s.key)).toHaveLength(1);
    expect(await deliveriesOf(id)).toEqual([expect.objectContaining({ status: 'delivered', attempts: 1 })]);
  });

  it('is delivered marked click_data "missing", and logged, when the click never lands within the wait', async () => {
    const s = await scene();
    const click = await freshClick(s.f);
    const id = await lead(s, click.click_id);
    const warn = vi.spyOn(console, 'warn');
    try {
      expect((await settleDueConversions(env, Date.now() + CLICK_WAIT_MS + 1_000)).settled).toBeGreaterThanOrEqual(1);
      expect(warn.mock.calls.map(([line]) => String(line)).find((line) => line.includes(id))).toContain(
        '"event":"conversion.click_data_missing"',
      );
    } finally {
      warn.mockRestore();
    }
    expect(await conversion(id)).toMatchObject({ click_data: 'missing', sub1: null });
    expect((await snapshots(id))[0]).toMatchObject({ click_data: 'missing', click: null, sub1: null });
    const [payload] = await payloads(s, 1);
    expect(payload?.data).toMatchObject({ conversion_id: id, click_data: 'missing', sub1: null });
    // A click landing afterwards changes nothing that was sent.
    await consume({ v: 1, clicks: [click] });
    expect(await conversion(id)).toMatchObject({ click_data: 'missing' });
    expect(await received(s.key)).toHaveLength(1);
  });

  it('is settled by the delayed settle message: retried while not due, completed once the click landed', async () => {
    const s = await scene();
    const click = await freshClick(s.f);
    const id = await lead(s, click.click_id);
    const early = await consume({ v: 1, clicks: [], settle: [id] });
    expect(early.retryMessages).toHaveLength(1);
    expect(await conversion(id)).toMatchObject({ click_data: 'pending' });
    // The click landed without completing it (a consumer that failed after storing): the settle
    // message finds it in its partition.
    await consume({ v: 1, clicks: [click] }, 'fast-landed');
    await env.DB.prepare("UPDATE conversions SET click_data = 'pending', sub1 = NULL WHERE id = ?").bind(id).run();
    const late = await consume({ v: 1, clicks: [], settle: [id] });
    expect(late.explicitAcks).toHaveLength(1);
    expect(await conversion(id)).toMatchObject({ click_data: null, sub1: 'REF-9' });
  });

  it('does not wait when the click has already landed', async () => {
    const s = await scene();
    const click = await freshClick(s.f);
    await consume({ v: 1, clicks: [click] });
    const id = await lead(s, click.click_id);
    expect(await conversion(id)).toMatchObject({ click_data: null, sub1: 'REF-9' });
    await expectCompleted(s, id);
  });
});
