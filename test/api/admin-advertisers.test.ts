// /api/v1/advertisers: create (postback key shown once, only its hash stored), read, list with
// cursor pagination, update, key rotation, and field-level validation.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib/crypto';
import { admin, adminOk, expectError } from '../helpers';

interface Advertiser {
  id: number;
  name: string;
  status: string;
  ip_allowlist: string[];
  created_at: string;
  updated_at: string;
  postback_key?: string;
}

interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

async function storedHash(id: number) {
  const row = await env.DB.prepare('SELECT postback_key_hash FROM advertisers WHERE id = ?')
    .bind(id)
    .first<{ postback_key_hash: string }>();
  return row?.postback_key_hash;
}

describe('POST /api/v1/advertisers', () => {
  it('creates an advertiser with defaults and shows its postback key once', async () => {
    const response = await admin<Advertiser>('POST', '/advertisers', { name: '  Shoe Shop  ' });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.any(Number),
      name: 'Shoe Shop',
      status: 'active',
      ip_allowlist: [],
      keyless_ip_auth: false,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: expect.any(String),
      postback_key: expect.stringMatching(/^pbk_[A-Za-z0-9_-]{32}$/),
    });
  });

  it('stores only the SHA-256 of the postback key', async () => {
    const created = await adminOk<Advertiser>('POST', '/advertisers', { name: 'Hash' });
    const key = created.postback_key as string;
    expect(await storedHash(created.id)).toBe(await sha256Hex(key));
    const dump = JSON.stringify(await env.DB.prepare('SELECT * FROM advertisers WHERE id = ?').bind(created.id).all());
    expect(dump).not.toContain(key);
  });

  it('gives every advertiser a different key', async () => {
    const a = await adminOk<Advertiser>('POST', '/advertisers', { name: 'A' });
    const b = await adminOk<Advertiser>('POST', '/advertisers', { name: 'B' });
    expect(a.postback_key).not.toBe(b.postback_key);
  });

  it('accepts a status and an IP allow-list of addresses and CIDRs', async () => {
    const created = await adminOk<Advertiser>('POST', '/advertisers', {
      name: 'Allow-listed',
      status: 'paused',
      ip_allowlist: ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7'],
    });
    expect(created).toMatchObject({
      status: 'paused',
      ip_allowlist: ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7'],
    });
  });

  it.each([
    [{}, ['name']],
    [{ name: '' }, ['name']],
    [{ name: '   ' }, ['name']],
    [{ name: 'x'.repeat(201) }, ['name']],
    [{ name: 42 }, ['name']],
    [{ name: 'x', status: 'deleted' }, ['status']],
    [{ name: 'x', ip_allowlist: ['not-an-ip'] }, ['ip_allowlist.0']],
    [{ name: 'x', ip_allowlist: ['10.0.0.0/16', '10.0.0.0/33'] }, ['ip_allowlist.1']],
    [{ name: 'x', ip_allowlist: '10.0.0.0/8' }, ['ip_allowlist']],
  ])('refuses %j naming %j', async (input, fields) => {
    expectError(await admin('POST', '/advertisers', input), 400, 'invalid_request', fields);
  });
});

describe('GET /api/v1/advertisers', () => {
  it('reads one advertiser without its postback key or hash', async () => {
    const created = await adminOk<Advertiser>('POST', '/advertisers', { name: 'Readable' });
    const { postback_key: _key, ...rest } = created;
    const response = await admin<Advertiser>('GET', `/advertisers/${created.id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(rest);
    expect(JSON.stringify(response.body)).not.toMatch(/postback_key|pbk_/);
  });

  it('never lists postback keys or hashes', async () => {
    await adminOk('POST', '/advertisers', { name: 'Listed' });
    const response = await admin<Page<Advertiser>>('GET', '/advertisers?limit=200');
    expect(response.body.data.length).toBeGreaterThan(0);
    expect(JSON.stringify(response.body)).not.toMatch(/postback_key|pbk_/);
  });

  it.each(['999999', 'abc', '0', '-1', '1.5', '4294967296', '99999999999999999999'])(
    'answers 404 for the id %j',
    async (id) => {
      expectError(await admin('GET', `/advertisers/${id}`), 404, 'not_found');
    },
  );

  it('walks every advertiser exactly once with the cursor', async () => {
    const created: number[] = [];
    for (let i = 0; i < 7; i++)
      created.push((await adminOk<Advertiser>('POST', '/advertisers', { name: `Page ${i}` })).id);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/advertisers?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page: Page<Advertiser> = await adminOk<Page<Advertiser>>('GET', path);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((a) => a.id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 500);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    for (const id of created) expect(seen).toContain(id);
    const total = await env.DB.prepare('SELECT COUNT(*) AS n FROM advertisers').first<{ n: number }>();
    expect(seen).toHaveLength(total?.n ?? -1);
  });

  it('answers an empty last page without a cursor', async () => {
    const response = await adminOk<Page<Advertiser>>('GET', '/advertisers?limit=200');
    expect(response.next_cursor).toBeNull();
  });

  it.each([
    ['limit=0', ['limit']],
    ['limit=201', ['limit']],
    ['limit=abc', ['limit']],
    ['cursor=not-a-cursor', ['cursor']],
    [`cursor=${btoa('"text"')}`, ['cursor']],
  ])('refuses the query %s naming %j', async (query, fields) => {
    expectError(await admin('GET', `/advertisers?${query}`), 400, 'invalid_request', fields);
  });
});

describe('PATCH /api/v1/advertisers/:id', () => {
  it('changes the given fields only', async () => {
    const created = await adminOk<Advertiser>('POST', '/advertisers', {
      name: 'Before',
      ip_allowlist: ['10.20.0.0/16'],
    });
    const updated = await adminOk<Advertiser>('PATCH', `/advertisers/${created.id}`, { name: 'After' });
    expect(updated).toMatchObject({ id: created.id, name: 'After', status: 'active', ip_allowlist: ['10.20.0.0/16'] });
    expect(updated.updated_at >= created.updated_at).toBe(true);
    expect(updated).not.toHaveProperty('postback_key');
    const again = await adminOk<Advertiser>('PATCH', `/advertisers/${created.id}`, {
      status: 'paused',
      ip_allowlist: [],
    });
    expect(again).toMatchObject({ name: 'After', status: 'paused', ip_allowlist: [] });
    expect(await adminOk<Advertiser>('GET', `/advertisers/${created.id}`)).toEqual(again);
  });

  it('keeps the postback key when other fields change', async () => {
    const created = await adminOk<Advertiser>('POST', '/advertisers', { name: 'Keeps key' });
    const hash = await storedHash(created.id);
    await adminOk('PATCH', `/advertisers/${created.id}`, { name: 'Renamed', status: 'paused' });
    expect(await storedHash(created.id)).toBe(hash);
  });

  it.each([
    [{ status: 'archived' }, ['status']],
    [{ name: '' }, ['name']],
    [{ postback_key: 'pbk_mine' }, ['postback_key']],
    [{ postback_key_hash: 'abc' }, ['postback_key_hash']],
    [{ id: 5 }, ['id']],
  ])('refuses %j naming %j', async (input, fields) => {
    const created = await adminOk<Advertiser>('POST', '/advertisers', { name: 'Strict' });
    const hash = await storedHash(created.id);
    expectError(await admin('PATCH', `/advertisers/${created.id}`, input), 400, 'invalid_request', fields);
    expect(await storedHash(created.id)).toBe(hash);
  });

  it('answers 404 for an advertiser that does not exist', async () => {
    expectError(await admin('PATCH', '/advertisers/999999', { name: 'Ghost' }), 404, 'not_found');
    expectError(await admin('PATCH', '/advertisers/abc', { name: 'Ghost' }), 404, 'not_found');
  });
});

describe('POST /api/v1/advertisers/:id/postback-key', () => {
  it('rotates the key: shows the new one once and stores its hash', async () => {
    const created = await adminOk<Advertiser>('POST', '/advertisers', { name: 'Rotating' });
    const rotated = await adminOk<Advertiser>('POST', `/advertisers/${created.id}/postback-key`);
    expect(rotated.postback_key).toMatch(/^pbk_[A-Za-z0-9_-]{32}$/);
    expect(rotated.postback_key).not.toBe(created.postback_key);
    expect(await storedHash(created.id)).toBe(await sha256Hex(rotated.postback_key as string));
    expect(await admin('GET', `/advertisers/${created.id}`)).not.toHaveProperty('body.postback_key');
  });

  it('answers 404 for an advertiser that does not exist', async () => {
    expectError(await admin('POST', '/advertisers/999999/postback-key'), 404, 'not_found');
  });
});
