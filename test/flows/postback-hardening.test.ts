// Postbacks under attack (issue 18): bodies bounded by the bytes actually read whatever their
// encoding, refused requests stored compactly and throttled per network, key-shaped values
// redacted in every column and answer, and keyless postbacks only where the advertiser chose them.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createFixture, worker } from '../helpers';
import { conversionsOfOffer, getPostback, lastLogRow, mintClick } from '../postback-helpers';

/** A body sent in chunks with no Content-Length, as a client streaming it would. */
function chunked(chunk: string, times: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(chunk);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ < times) controller.enqueue(bytes);
      else controller.close();
    },
  });
}

async function logRowsFrom(prefix: string) {
  const { results } = await env.DB.prepare('SELECT * FROM postback_log WHERE ip_prefix = ?')
    .bind(prefix)
    .all<Record<string, unknown>>();
  return results;
}

describe('postback bodies are bounded by the bytes read', () => {
  it('refuses a chunked multipart body over 64 KiB with 413, without parsing it', async () => {
    const field = `--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n${'x'.repeat(1000)}\r\n`;
    const res = await worker('/postback', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=b', 'cf-connecting-ip': '192.0.2.10' },
      body: chunked(field, 100),
      // @ts-expect-error: workerd's RequestInit needs no duplex, the DOM typing asks for it
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { code: 'payload_too_large', message: 'Body is larger than 64 KiB' } });
    const [row] = await logRowsFrom('192.0.2.0/24');
    expect(row).toMatchObject({ outcome: 'refused', http_status: 413 });
  });

  it('refuses a chunked form body over 64 KiB whatever Content-Length says', async () => {
    const res = await worker('/postback', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: chunked(`a${'b'.repeat(1000)}=1&`, 100),
      // @ts-expect-error: see above
      duplex: 'half',
    });
    expect(res.status).toBe(413);
  });

  it('still reads a small multipart body sent in chunks', async () => {
    const f = await createFixture();
    const clickId = await mintClick(f);
    const body = [
      `--Bx\r\nContent-Disposition: form-data; name="click_id"\r\n\r\n${clickId}\r\n`,
      `--Bx\r\nContent-Disposition: form-data; name="key"\r\n\r\n${f.postbackKey}\r\n--Bx--\r\n`,
    ].join('');
    const res = await worker('/postback', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=Bx' },
      body: chunked(body, 1),
      // @ts-expect-error: see above
      duplex: 'half',
    });
    expect(res.status).toBe(200);
  });
});

describe('refused postbacks in the log', () => {
  it('stores a refused request in a few KB at most, counting what was cut', async () => {
    const params = new URLSearchParams();
    for (let i = 0; i < 15; i++) params.set(`field${i}`, 'v'.repeat(4000));
    const res = await worker('/postback', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': '192.0.3.20' },
      body: params.toString(),
    });
    expect(res.status).toBe(401);
    const [row] = await logRowsFrom('192.0.3.0/24');
    const stored = new TextEncoder().encode(JSON.stringify(row)).byteLength;
    expect(stored).toBeLessThan(3 * 1024);
    const truncated = JSON.parse(String(row?.truncated)) as { fields: number; bytes: number };
    expect(truncated.fields).toBeGreaterThan(0);
    // 15 values of 4,000 bytes were sent; what is stored plus what was cut accounts for them.
    expect(truncated.bytes).toBeGreaterThan(15 * 4000 - stored);
  });

  it('keeps an accepted postback in full', async () => {
    const f = await createFixture();
    const res = await getPostback('/postback', {
      click_id: await mintClick(f),
      key: f.postbackKey,
      sub1: 's'.repeat(200),
    });
    expect(res.status).toBe(200);
    const row = await lastLogRow();
    expect(row?.truncated).toBeNull();
    expect(JSON.parse(String(row?.params)).sub1).toBe('s'.repeat(200));
  });

  it('logs at most a burst of refusals per network, and other networks still get theirs', async () => {
    const refuse = (ip: string) => getPostback('/postback', { click_id: 'nope' }, { 'cf-connecting-ip': ip });
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await refuse(`198.18.7.${i + 1}`));
    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect((await logRowsFrom('198.18.7.0/24')).length).toBe(20);
    await refuse('198.18.8.1');
    expect(await logRowsFrom('198.18.8.0/24')).toHaveLength(1);
  });
});

describe('postback keys sent in the wrong field', () => {
  for (const field of ['event', 'click_id', 'order_id']) {
    it(`never stores or echoes a key sent as ${field}`, async () => {
      const f = await createFixture();
      const params: Record<string, string> =
        field === 'click_id' ? { click_id: f.postbackKey } : { click_id: await mintClick(f), [field]: f.postbackKey };
      const res = await worker(`/postback?${new URLSearchParams(params)}`, {
        headers: { 'cf-connecting-ip': '192.0.2.30' },
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(await res.text()).not.toContain(f.postbackKey);
      const row = await lastLogRow();
      expect(row?.outcome).toBe('refused');
      expect(JSON.stringify(row)).not.toContain(f.postbackKey);
      expect(JSON.stringify(row)).toContain('[redacted]');
    });
  }
});

describe('keyless postbacks', () => {
  it('are refused when the advertiser has an allow-list but did not choose keyless authentication', async () => {
    const f = await createFixture();
    await env.DB.prepare('UPDATE advertisers SET ip_allowlist = ? WHERE id = ?')
      .bind(JSON.stringify(['203.0.113.0/24']), f.advertiserId)
      .run();
    const res = await getPostback(
      '/postback/tradetracker/lead',
      { data: await mintClick(f), tid: 'K-1' },
      { 'cf-connecting-ip': '203.0.113.40' },
    );
    expect(res.status).toBe(401);
    expect(await conversionsOfOffer(f.offerId)).toHaveLength(0);
  });

  it('are accepted from the allow-list once keyless_ip_auth is on', async () => {
    const f = await createFixture();
    await env.DB.prepare('UPDATE advertisers SET ip_allowlist = ?, keyless_ip_auth = 1 WHERE id = ?')
      .bind(JSON.stringify(['203.0.113.0/24']), f.advertiserId)
      .run();
    const from = (ip: string, tid: string) =>
      mintClick(f).then((data) =>
        getPostback('/postback/tradetracker/lead', { data, tid }, { 'cf-connecting-ip': ip }),
      );
    expect((await from('203.0.113.40', 'K-2')).status).toBe(200);
    expect((await from('198.51.100.40', 'K-3')).status).toBe(401);
  });
});
