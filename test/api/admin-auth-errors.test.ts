// Admin API: bearer-token authentication, and the error contract shared by every resource
// (JSON bodies only, field-level messages, {"error":{"code","message","fields"}}).
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { ADMIN, admin, BASE, worker as call, type ErrorBody, expectError } from '../helpers';

async function raw(path: string, init: RequestInit) {
  const response = await call(`/api/v1${path}`, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body };
}

async function countAll() {
  const row = await env.DB.prepare(
    'SELECT (SELECT COUNT(*) FROM advertisers) + (SELECT COUNT(*) FROM publishers) + (SELECT COUNT(*) FROM offers) AS n',
  ).first<{ n: number }>();
  return row?.n ?? 0;
}

describe('admin authentication', () => {
  const routes: [string, string][] = [
    ['GET', '/advertisers'],
    ['POST', '/advertisers'],
    ['GET', '/advertisers/1'],
    ['PATCH', '/advertisers/1'],
    ['POST', '/advertisers/1/postback-key'],
    ['GET', '/publishers'],
    ['POST', '/publishers'],
    ['GET', '/publishers/1'],
    ['PATCH', '/publishers/1'],
    ['GET', '/offers'],
    ['POST', '/offers'],
    ['GET', '/offers/1'],
    ['PATCH', '/offers/1'],
    ['GET', '/no-such-resource'],
  ];

  it.each(routes)('refuses %s %s without a token with 401 and WWW-Authenticate: Bearer', async (method, path) => {
    const response = await raw(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'GET' ? undefined : JSON.stringify({ name: 'Sneaky' }),
    });
    expectError(response, 401, 'unauthorized');
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  it.each([
    ['a wrong token', 'Bearer wrong-token'],
    ['a prefix of the token', 'Bearer test-admin-toke'],
    ['the token with a suffix', 'Bearer test-admin-token2'],
    ['the token with a different case', 'Bearer TEST-ADMIN-TOKEN'],
    ['Basic authentication', `Basic ${btoa('admin:test-admin-token')}`],
    ['the bare token', 'test-admin-token'],
    ['an empty bearer', 'Bearer '],
    ['two tokens', 'Bearer test-admin-token test-admin-token'],
  ])('refuses %s', async (_name, authorization) => {
    const before = await countAll();
    const response = await raw('/advertisers', {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Sneaky' }),
    });
    expectError(response, 401, 'unauthorized');
    expect(await countAll()).toBe(before);
  });

  it('refuses the token in the query string', async () => {
    const response = await raw('/advertisers?token=test-admin-token&access_token=test-admin-token', {});
    expectError(response, 401, 'unauthorized');
  });

  it('accepts the token with any case of "Bearer" and surrounding spaces', async () => {
    for (const authorization of ['Bearer test-admin-token', 'bearer test-admin-token', 'BEARER   test-admin-token  ']) {
      expect((await raw('/advertisers', { headers: { authorization } })).status).toBe(200);
    }
  });

  it('answers 503 when ADMIN_TOKEN is not configured, whatever the request sends', async () => {
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request(`${BASE}/api/v1/advertisers`, { headers: { authorization: 'Bearer ' } }),
      { ...env, ADMIN_TOKEN: '' } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(503);
    expect(((await response.json()) as ErrorBody).error.code).toBe('not_configured');
  });

  it('does not ask for a token on the public click path', async () => {
    expect((await call('/c/1/1')).status).toBe(404);
  });
});

describe('request bodies', () => {
  it.each([
    ['text/plain', '{"name":"x"}'],
    ['application/x-www-form-urlencoded', 'name=x'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['', '{"name":"x"}'],
  ])('refuses Content-Type %j with 415', async (type, body) => {
    const headers: Record<string, string> = { ...ADMIN };
    if (type) headers['content-type'] = type;
    const before = await countAll();
    for (const path of ['/advertisers', '/publishers', '/offers']) {
      expectError(await raw(path, { method: 'POST', headers, body }), 415, 'unsupported_media_type');
    }
    expectError(await raw('/publishers/1', { method: 'PATCH', headers, body }), 415, 'unsupported_media_type');
    expect(await countAll()).toBe(before);
  });

  it('accepts application/json with a charset', async () => {
    const response = await raw('/publishers', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ name: 'Charset' }),
    });
    expect(response.status).toBe(201);
  });

  it.each([
    ['truncated JSON', '{"name":'],
    ['empty body', ''],
    ['a trailing comma', '{"name":"x",}'],
    ['single quotes', "{'name':'x'}"],
  ])('answers %s with 400 invalid JSON', async (_name, body) => {
    const response = await raw('/advertisers', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body,
    });
    expectError(response, 400, 'invalid_request', ['_']);
  });

  it.each(['[1,2]', 'null', '"name"', '42', 'true'])('answers the non-object JSON %s with 400', async (body) => {
    const response = await raw('/publishers', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body,
    });
    expectError(response, 400, 'invalid_request', ['_']);
  });

  it('answers a body over 64 KiB with 413', async () => {
    const response = await raw('/advertisers', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', padding: 'x'.repeat(70 * 1024) }),
    });
    expectError(response, 413, 'payload_too_large');
  });

  it('answers an unknown route with a JSON 404', async () => {
    expectError(await admin('GET', '/nothing-here'), 404, 'not_found');
    expectError(await admin('DELETE', '/advertisers'), 404, 'not_found');
  });

  it('names each field that is wrong, all at once', async () => {
    const response = await admin('POST', '/offers', {
      advertiser_id: 'one',
      name: '',
      landing_url: 'ftp://x.example/',
      currency: 'EURO',
      goals: [{ key: 'Lead!', revenue: 'five' }],
      click_param: 'has space',
      attribution_window_days: 0,
    });
    expectError(response, 400, 'invalid_request', [
      'advertiser_id',
      'name',
      'landing_url',
      'currency',
      'goals.0.key',
      'goals.0.revenue',
      'click_param',
      'attribution_window_days',
    ]);
  });

  it('names an unexpected field in an update', async () => {
    const publisher = await admin<{ id: number }>('POST', '/publishers', { name: 'Strict' });
    expectError(await admin('PATCH', `/publishers/${publisher.body.id}`, { nmae: 'typo' }), 400, 'invalid_request', [
      'nmae',
    ]);
  });
});
