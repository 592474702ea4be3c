// /api/v1/publishers: create, read, list with cursor pagination, update, validation.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { admin, adminOk, expectError } from '../helpers';

interface Publisher {
  id: number;
  name: string;
  status: string;
  created_at: string;
  updated_at: string;
}

interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

describe('publishers', () => {
  it('creates a publisher with defaults and echoes the stored resource', async () => {
    const response = await admin<Publisher>('POST', '/publishers', { name: 'Deal Blog' });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.any(Number),
      name: 'Deal Blog',
      status: 'active',
      minimum_payout: {},
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(await adminOk('GET', `/publishers/${response.body.id}`)).toEqual(response.body);
  });

  it('creates a paused publisher', async () => {
    expect(await adminOk('POST', '/publishers', { name: 'Paused', status: 'paused' })).toMatchObject({
      status: 'paused',
    });
  });

  it.each([
    [{}, ['name']],
    [{ name: ' ' }, ['name']],
    [{ name: 'x'.repeat(201) }, ['name']],
    [{ name: 'x', status: 'banned' }, ['status']],
    [{ name: ['x'] }, ['name']],
  ])('refuses %j naming %j', async (input, fields) => {
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM publishers').first<{ n: number }>();
    expectError(await admin('POST', '/publishers', input), 400, 'invalid_request', fields);
    const after = await env.DB.prepare('SELECT COUNT(*) AS n FROM publishers').first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });

  it('updates name and status, and refuses unknown fields naming them', async () => {
    const created = await adminOk<Publisher>('POST', '/publishers', { name: 'Old' });
    expect(await adminOk('PATCH', `/publishers/${created.id}`, { name: 'New', status: 'paused' })).toMatchObject({
      id: created.id,
      name: 'New',
      status: 'paused',
    });
    expect(await adminOk('PATCH', `/publishers/${created.id}`, {})).toMatchObject({ name: 'New', status: 'paused' });
    expectError(await admin('PATCH', `/publishers/${created.id}`, { status: 'gone' }), 400, 'invalid_request', [
      'status',
    ]);
    expectError(await admin('PATCH', `/publishers/${created.id}`, { email: 'a@b.c' }), 400, 'invalid_request', [
      'email',
    ]);
  });

  it.each(['999999', 'abc', '0', '1e3', '4294967296'])('answers 404 for the id %j', async (id) => {
    expectError(await admin('GET', `/publishers/${id}`), 404, 'not_found');
    expectError(await admin('PATCH', `/publishers/${id}`, { name: 'x' }), 404, 'not_found');
  });

  it('walks every publisher exactly once with the cursor, whatever the page size', async () => {
    for (let i = 0; i < 9; i++) await adminOk('POST', '/publishers', { name: `P${i}` });
    const total = (await env.DB.prepare('SELECT COUNT(*) AS n FROM publishers').first<{ n: number }>())?.n ?? 0;
    for (const limit of [1, 2, 4, 200]) {
      const seen: number[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 500; guard++) {
        const path: string = `/publishers?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page: Page<Publisher> = await adminOk<Page<Publisher>>('GET', path);
        expect(page.data.length).toBeLessThanOrEqual(limit);
        seen.push(...page.data.map((p) => p.id));
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    }
  });

  it('uses 50 as the default page size', async () => {
    for (let i = 0; i < 52; i++) await adminOk('POST', '/publishers', { name: `Bulk ${i}` });
    const first = await adminOk<Page<Publisher>>('GET', '/publishers');
    expect(first.data).toHaveLength(50);
    expect(first.next_cursor).not.toBeNull();
  });
});
