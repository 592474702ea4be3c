// The postback log: every request, accepted or refused, with its outcome, the ids it was about,
// an IP prefix (never the address) and its parameters with secrets redacted; read through
// GET /api/v1/postbacks with filters and cursor pagination.
import { describe, expect, it } from 'vitest';
import { admin, createFixture, worker } from '../helpers';
import { getPostback, lastLogRow, logRowsOf, mintClick, postJson } from '../postback-helpers';

interface LogPage {
  data: Record<string, unknown>[];
  next_cursor: string | null;
}

describe('postback log rows', () => {
  it('records an accepted postback with its ids, outcome, IPv4 prefix and the key redacted', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const res = await getPostback(
      '/postback',
      { click_id: clickId, order_id: 'L-1', amount: '3.00', key: f.postbackKey },
      { 'cf-connecting-ip': '203.0.113.45' },
    );
    const [row] = await logRowsOf(f.advertiserId);
    expect(row).toMatchObject({
      method: 'GET',
      profile: 'canonical',
      ip_prefix: '203.0.113.0/24',
      advertiser_id: f.advertiserId,
      offer_id: f.offerId,
      click_id: clickId,
      order_id: 'L-1',
      conversion_id: res.body.conversion_id,
      outcome: 'created',
      http_status: 200,
      error_code: null,
    });
    expect(JSON.parse(String(row?.params))).toEqual({
      click_id: clickId,
      order_id: 'L-1',
      amount: '3.00',
      key: '[redacted]',
    });
    expect(JSON.stringify(row)).not.toContain(f.postbackKey);
    expect(JSON.stringify(row)).not.toContain('203.0.113.45');
  });

  it('redacts the Authorization header and stores an IPv6 /48 prefix', async () => {
    const f = await createFixture();
    await postJson(
      '/postback',
      { click_id: await mintClick(f) },
      { authorization: `Bearer ${f.postbackKey}`, 'cf-connecting-ip': '2001:db8:1234:5678::1' },
    );
    const row = await lastLogRow();
    expect(row).toMatchObject({ method: 'POST', ip_prefix: '2001:db8:1234::/48', outcome: 'created' });
    expect(JSON.parse(String(row?.params)).Authorization).toBe('[redacted]');
    expect(JSON.stringify(row)).not.toContain(f.postbackKey);
  });

  it('redacts anything shaped like a postback key, wherever it sits (a multipart body sent as a form)', async () => {
    const f = await createFixture();
    const body = `--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\n${f.postbackKey}\r\n--xyz--`;
    const res = await worker('/postback', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(res.status).toBe(401);
    const row = await lastLogRow();
    expect(row).toMatchObject({ outcome: 'refused', http_status: 401 });
    expect(JSON.stringify(row)).not.toContain(f.postbackKey);
    expect(String(row?.params)).toContain('[redacted]');
  });

  it('records duplicate and updated outcomes', async () => {
    const f = await createFixture();
    const params = { click_id: await mintClick(f), order_id: 'L-2', key: f.postbackKey };
    await getPostback('/postback', params);
    await getPostback('/postback', params);
    await getPostback('/postback', { ...params, status: 'approved' });
    const rows = await logRowsOf(f.advertiserId);
    expect(rows.map((r) => [r.outcome, r.http_status])).toEqual([
      ['created', 200],
      ['duplicate', 200],
      ['updated', 200],
    ]);
    expect(new Set(rows.map((r) => r.conversion_id)).size).toBe(1);
  });

  it('records a refused request with its error code, message and whatever was known', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    await getPostback('/postback', { click_id: clickId, order_id: 'L-3', key: 'pbk_wrong-key' });
    const row = await lastLogRow();
    expect(row).toMatchObject({
      outcome: 'refused',
      http_status: 401,
      error_code: 'unauthorized',
      advertiser_id: null,
      click_id: clickId,
      order_id: 'L-3',
      conversion_id: null,
    });
    expect(String(row?.error_message)).toMatch(/postback key/);
    expect(String(row?.params)).not.toContain('pbk_wrong-key');
  });

  it('records a request whose body could not be read, with its query parameters', async () => {
    await worker('/postback?order_id=L-4&key=secret-in-query', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{broken',
    });
    const row = await lastLogRow();
    expect(row).toMatchObject({ outcome: 'refused', http_status: 400, method: 'POST' });
    expect(JSON.parse(String(row?.params))).toEqual({ order_id: 'L-4', key: '[redacted]' });
  });

  it('redacts a key sent under another capitalisation', async () => {
    const f = await createFixture();
    await getPostback('/postback', { click_id: await mintClick(f), KEY: 'typo-secret', key: f.postbackKey });
    const row = await lastLogRow();
    expect(String(row?.params)).not.toContain('typo-secret');
  });
});

describe('GET /api/v1/postbacks', () => {
  it('lists log entries newest first, filtered by advertiser and outcome', async () => {
    const f = await createFixture();
    const params = { click_id: await mintClick(f), order_id: 'L-10', key: f.postbackKey };
    await getPostback('/postback', params);
    await getPostback('/postback', params);
    await getPostback('/postback', { ...params, event: 'nope' });
    const all = await admin<LogPage>('GET', `/postbacks?advertiser_id=${f.advertiserId}`);
    expect(all.status).toBe(200);
    expect(all.body.data.map((r) => r.outcome)).toEqual(['refused', 'duplicate', 'created']);
    expect(all.body.data[0]?.params).toMatchObject({ key: '[redacted]', event: 'nope' });
    const refused = await admin<LogPage>('GET', `/postbacks?advertiser_id=${f.advertiserId}&outcome=refused`);
    expect(refused.body.data).toHaveLength(1);
    expect(refused.body.data[0]).toMatchObject({ http_status: 400, error_code: 'invalid_request' });
  });

  it('pages with a cursor and filters by time', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    for (const order of ['P-1', 'P-2', 'P-3'])
      await getPostback('/postback', { click_id: clickId, order_id: order, key: f.postbackKey });
    const first = await admin<LogPage>('GET', `/postbacks?advertiser_id=${f.advertiserId}&limit=2`);
    expect(first.body.data.map((r) => r.order_id)).toEqual(['P-3', 'P-2']);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await admin<LogPage>(
      'GET',
      `/postbacks?advertiser_id=${f.advertiserId}&limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.data.map((r) => r.order_id)).toEqual(['P-1']);
    expect(second.body.next_cursor).toBeNull();

    const future = new Date(Date.now() + 86_400_000).toISOString();
    const none = await admin<LogPage>('GET', `/postbacks?advertiser_id=${f.advertiserId}&from=${future}`);
    expect(none.body.data).toHaveLength(0);
    const today = new Date().toISOString().slice(0, 10);
    const day = await admin<LogPage>('GET', `/postbacks?advertiser_id=${f.advertiserId}&from=${today}&to=${today}`);
    expect(day.body.data).toHaveLength(3);
  });

  it('refuses bad filters with 400 and requires the admin token', async () => {
    expect((await admin('GET', '/postbacks?outcome=maybe')).status).toBe(400);
    expect((await admin('GET', '/postbacks?from=yesterday')).status).toBe(400);
    expect((await admin('GET', '/postbacks?cursor=%%%')).status).toBe(400);
    expect((await worker('/api/v1/postbacks')).status).toBe(401);
  });
});
