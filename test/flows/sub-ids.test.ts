// Six sub IDs and the creative ids end to end (issue 13 item 3): a click link's sub IDs (or their
// TUNE / Awin / impact aliases) and creative ids are stored with the click (D1 or its partition),
// copied into the conversion's row and snapshots (also when the conversion beats its click),
// rendered by the awin preset, and reported by sub6.
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clickIdKeys, mintClickId } from '../../src/click/click-id';
import type { ClicksMessage } from '../../src/click/ingest';
import { handleClick } from '../../src/click/route';
import { periodOf } from '../../src/clicks/partition-key';
import { partitionStub } from '../../src/clicks/store';
import worker from '../../src/index';
import { clickRecord } from '../fixtures';
import {
  adminOk,
  worker as call,
  click,
  clickRow,
  createFixture,
  eventually,
  type Fixture,
  RECEIVER,
  received,
  uniqueKey,
} from '../helpers';
import { conversion, eventsOf, getPostback, postJson } from '../postback-helpers';

const handler = worker as ExportedHandler<Env>;
const AWIN_LINK = '?clickref=A&clickref6=F&creative_id=12&creative_group_id=3';

/** An awin-preset endpoint of the fixture's publisher on its own receiver path. */
async function awinEndpoint(f: Fixture): Promise<string> {
  const key = uniqueKey('subids');
  await adminOk('POST', '/endpoints', {
    publisher_id: f.publisherId,
    events: ['conversion.created'],
    url: `${RECEIVER}/${key}/awin.php`,
    preset: 'awin',
  });
  return key;
}

async function sale(f: Fixture, clickId: string): Promise<string> {
  const answer = await postJson(
    '/postback',
    { click_id: clickId, event: 'sale', amount: '100.00', order_id: uniqueKey('order') },
    { authorization: `Bearer ${f.postbackKey}` },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.conversion_id as string;
}

/** The AwinTransactionPush JSON the receiver got under `key`. */
async function awinPush(key: string): Promise<Record<string, unknown>> {
  const [request] = await eventually(async () => {
    const got = await received(key);
    return got.length > 0 ? got : null;
  });
  return JSON.parse(new URLSearchParams(request?.body).get('AwinTransactionPush') ?? '');
}

const snapshots = async (conversionId: string) =>
  (await eventsOf(conversionId)).map((e) => JSON.parse(e.snapshot as string) as Record<string, unknown>);

const CREATIVE = { sub1: 'A', sub6: 'F', creative_id: 12, creative_group_id: 3 };

describe('a click link with Awin clickrefs and creative ids', () => {
  it('reaches the awin preset as clickRef, clickRef6, bannerId and groupId', async () => {
    const f = await createFixture();
    const key = await awinEndpoint(f);
    const clickId = await click(f, AWIN_LINK);
    const stored = await eventually(() => clickRow(clickId));
    expect(stored).toMatchObject({ ...CREATIVE, sub2: null, sub5: null });

    const id = await sale(f, clickId);
    expect(await conversion(id)).toMatchObject(CREATIVE);
    expect((await snapshots(id))[0]).toMatchObject(CREATIVE);
    expect(await awinPush(key)).toMatchObject({ clickRef: 'A', clickRef6: 'F', bannerId: '12', groupId: '3' });
  });

  it('shows sub6 and the creative ids in the admin API answers for the click and the conversion', async () => {
    const f = await createFixture();
    const clickId = await click(f, AWIN_LINK);
    await eventually(() => clickRow(clickId));
    const id = await sale(f, clickId);
    const lookup = await adminOk('GET', `/clicks/${clickId}`);
    expect(lookup.click).toMatchObject(CREATIVE);
    expect(await adminOk('GET', `/conversions/${id}`)).toMatchObject(CREATIVE);
    const plain = await click(f, '?sub1=P');
    await eventually(() => clickRow(plain));
    expect((await adminOk('GET', `/clicks/${plain}`)).click).toMatchObject({
      sub1: 'P',
      sub6: null,
      creative_id: null,
      creative_group_id: null,
    });
  });

  it('keeps sub6 and the creative ids in a status change snapshot', async () => {
    const f = await createFixture();
    const clickId = await click(f, AWIN_LINK);
    await eventually(() => clickRow(clickId));
    const id = await sale(f, clickId);
    await adminOk('POST', `/conversions/${id}/status`, { status: 'approved' });
    const events = await snapshots(id);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ status: 'approved', ...CREATIVE });
  });

  it('stores them in a click partition and reads them back', async () => {
    const f = await createFixture();
    const ctx = createExecutionContext();
    const response = await handleClick(
      new Request(`https://clickhop.test/c/${f.offerId}/${f.publisherId}${AWIN_LINK}&subId2=impact&aff_sub3=tune`, {
        headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0' },
      }),
      { ...env, CLICK_PARTITION_SHARDS: '4' } as Env,
      ctx,
      String(f.offerId),
      String(f.publisherId),
    );
    const clickId = new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '';
    expect(clickId).not.toBe('');
    const stored = await eventually(() => clickRow(clickId));
    expect(stored).toMatchObject({ ...CREATIVE, sub2: 'impact', sub3: 'tune' });
    expect(stored?.ingest_batch).toMatch(/^b/); // a partition's row, not D1's
  });

  it('answers 400 naming creative_id when it is not a whole number, and records nothing', async () => {
    const f = await createFixture();
    const json = await call(`/c/${f.offerId}/${f.publisherId}?creative_id=banner-7`);
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({
      error: {
        code: 'invalid_request',
        message: 'creative_id must be a whole number (0 or more)',
        fields: { creative_id: 'creative_id must be a whole number (0 or more)' },
      },
    });
    const html = await call(`/c/${f.offerId}/${f.publisherId}?creative_group_id=1.5`, {
      headers: { accept: 'text/html' },
    });
    expect(html.status).toBe(400);
    expect(await html.text()).toContain('creative_group_id must be a whole number');
  });
});

describe('a conversion that beats its click', () => {
  it('is completed with sub6 and the creative ids when the click lands', async () => {
    const f = await createFixture();
    const at = Date.now() - 1_000;
    const clickId = await mintClickId(await clickIdKeys(env), {
      clickedAt: at,
      offerId: f.offerId,
      publisherId: f.publisherId,
      shard: 2,
    });
    const id = await sale(f, clickId);
    expect(await conversion(id)).toMatchObject({ click_data: 'pending', sub6: null, creative_id: null });
    expect((await snapshots(id))[0]).not.toHaveProperty('creative_id');

    const body: ClicksMessage = {
      v: 1,
      clicks: [clickRecord(f, new Date(at).toISOString(), { click_id: clickId, ...CREATIVE })],
    };
    const batch = createMessageBatch('clickhop-clicks', [
      { id: uniqueKey('subids-msg'), timestamp: new Date(), attempts: 1, body },
    ]) as MessageBatch;
    const ctx = createExecutionContext();
    await handler.queue?.(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
    expect(await conversion(id)).toMatchObject({ click_data: null, ...CREATIVE });
    expect((await snapshots(id))[0]).toMatchObject(CREATIVE);
  });

  it('leaves the creative ids out of the snapshot when the click had none', async () => {
    const f = await createFixture();
    const at = Date.now() - 1_000;
    const clickId = await mintClickId(await clickIdKeys(env), {
      clickedAt: at,
      offerId: f.offerId,
      publisherId: f.publisherId,
      shard: 3,
    });
    const id = await sale(f, clickId);
    const body: ClicksMessage = { v: 1, clicks: [clickRecord(f, new Date(at).toISOString(), { click_id: clickId })] };
    const batch = createMessageBatch('clickhop-clicks', [
      { id: uniqueKey('subids-msg'), timestamp: new Date(), attempts: 1, body },
    ]) as MessageBatch;
    const ctx = createExecutionContext();
    await handler.queue?.(batch, env, ctx);
    await getQueueResult(batch, ctx);
    const [created] = await snapshots(id);
    expect(created).toMatchObject({ sub1: null });
    expect(created).not.toHaveProperty('sub6');
    expect(created).not.toHaveProperty('creative_id');
    expect(created).not.toHaveProperty('creative_group_id');
  });
});

describe('the affiliate-ID protocol and reports', () => {
  it('records sub6 sent on an affiliate-ID postback, and reports conversions by sub6', async () => {
    const f = await createFixture({ allow_publisher_postback: true });
    const res = await getPostback('/postback', {
      offer_id: String(f.offerId),
      publisher_id: String(f.publisherId),
      order_id: 'AFF-6',
      sub6: 'six',
      key: f.postbackKey,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await conversion(res.body.conversion_id)).toMatchObject({ sub6: 'six', creative_id: null });

    const day = new Date().toISOString().slice(0, 10);
    const report = await adminOk<{ sub_id: string; data: { value: string | null }[] }>(
      'GET',
      `/reports?from=${day}&to=${day}&group_by=sub6&publisher_id=${f.publisherId}&timezone=UTC`,
    );
    expect(report.sub_id).toBe('sub6');
    expect(report.data.map((row) => row.value)).toEqual(['six']);
  });
});

describe('a partition created before sub6 and the creative ids', () => {
  it('gains the columns on its first write and stores them', async () => {
    const f = await createFixture();
    const at = Date.now() - 1_000;
    const key = { period: periodOf(at), shard: 7 };
    const stub = partitionStub(env, key);
    // The table as partitions created it before these columns existed.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(`CREATE TABLE clicks (
        click_id TEXT NOT NULL, clicked_at INTEGER NOT NULL, offer_id INTEGER NOT NULL,
        publisher_id INTEGER NOT NULL, visitor_hash TEXT NOT NULL, is_bot INTEGER NOT NULL,
        is_unique INTEGER NOT NULL, batch INTEGER NOT NULL,
        sub1 TEXT, sub2 TEXT, sub3 TEXT, sub4 TEXT, sub5 TEXT,
        deep_link TEXT, referrer TEXT, search_engine TEXT, search_phrase TEXT,
        country TEXT, region TEXT, city TEXT, colo TEXT, asn INTEGER,
        user_agent TEXT, device TEXT NOT NULL, ip_prefix TEXT,
        PRIMARY KEY (clicked_at, click_id)) WITHOUT ROWID`);
    });
    const clickId = await mintClickId(await clickIdKeys(env), {
      clickedAt: at,
      offerId: f.offerId,
      publisherId: f.publisherId,
      shard: 7,
    });
    await stub.ingest(
      [{ ...clickRecord(f, new Date(at).toISOString(), { click_id: clickId, ...CREATIVE }), batch: 1 }],
      {},
    );
    expect(await stub.click(clickId)).toMatchObject(CREATIVE);
  });
});
