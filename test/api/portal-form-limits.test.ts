// Portal form bodies (issue 22): the sign-in, invitation and reset forms, open to anyone, the code
// and enrolment steps of a sign-in under way, and signed-in forms before their CSRF check are read
// through the one counted 64 KiB reader (src/portal/form-body.ts), so a huge body is refused with
// a 413 page after at most that much is read, whatever its framing, and changes nothing.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { inviteUser, tokenOperator } from '../../src/auth';
import { MAX_FORM_BYTES } from '../../src/portal/form-body';
import { adminOk, createFixture, type Fixture } from '../helpers';
import {
  byId,
  codeFor,
  enrol,
  hidden,
  PASSWORD,
  PortalPerson,
  personWithPassword,
  signedInPerson,
  signIn,
} from '../portal-helpers';

const MB = 1024 * 1024;

/** A urlencoded body of about `total` bytes, made as it is read; `pulled` says how much was. */
function hugeForm(total: number, start = '_csrf=x&email=a%40b.example&password=') {
  const chunk = new TextEncoder().encode('a'.repeat(64 * 1024));
  const meter = { pulled: 0 };
  let first = true;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (meter.pulled >= total) return controller.close();
      const bytes = first ? new TextEncoder().encode(start) : chunk;
      first = false;
      meter.pulled += bytes.byteLength;
      controller.enqueue(bytes);
    },
  });
  return { body, meter };
}

async function postHuge(client: PortalPerson, path: string, total: number, contentLength?: number) {
  const { body, meter } = hugeForm(total);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (contentLength !== undefined) headers['content-length'] = String(contentLength);
  const response = await client.fetch(path, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
  return { response, text: await response.text(), pulled: meter.pulled };
}

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture();
});

describe('forms open to anyone', () => {
  for (const path of ['/portal/login', '/portal/invite']) {
    it(`${path}: a 16 MB chunked body is refused with a 413 page after reading at most about 64 KiB`, async () => {
      const { response, text, pulled } = await postHuge(new PortalPerson('198.18.50.1'), path, 16 * MB);
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(text).toContain('Form too large');
      expect(text).toContain('larger than 64 KiB');
      expect(pulled).toBeLessThan(MAX_FORM_BYTES + 4 * 64 * 1024);
    });
  }

  it('a declared Content-Length past the limit is refused without reading the body', async () => {
    const client = new PortalPerson('198.18.50.2');
    const { body, meter } = hugeForm(2 * MB);
    const response = await client.fetch('/portal/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(90 * MB) },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    // What the runtime buffers ahead of any reader (a chunk or two), never the body.
    expect(meter.pulled).toBeLessThan(MAX_FORM_BYTES + 4 * 64 * 1024);
  });

  it('a form just under the limit is read and answered as usual', async () => {
    const client = new PortalPerson('198.18.50.3');
    await personWithPassword('padded@blog.example', fixture.publisherId);
    const _csrf = await client.formToken('/portal/login');
    const padding = 'p'.repeat(MAX_FORM_BYTES - 200);
    const wrong = await client.send('/portal/login', { _csrf, email: 'padded@blog.example', password: 'x', padding });
    expect(wrong.status).toBe(401);
    const right = await client.send('/portal/login', {
      _csrf,
      email: 'padded@blog.example',
      password: PASSWORD,
      padding,
    });
    expect(right.status).toBe(303);
  });

  it('a multipart form past the limit is refused too', async () => {
    const client = new PortalPerson('198.18.50.4');
    const { token } = await inviteUser(
      env.DB,
      tokenOperator,
      { email: 'multipart@blog.example', role: 'publisher', publisher_id: fixture.publisherId, advertiser_id: null },
      Date.now(),
    );
    const form = new FormData();
    form.set('_csrf', await client.formToken(`/portal/invite?token=${token}`));
    form.set('token', token);
    form.set('password', 'x'.repeat(MAX_FORM_BYTES));
    form.set('confirm', 'x'.repeat(MAX_FORM_BYTES));
    const response = await client.fetch('/portal/invite', { method: 'POST', body: form });
    expect(response.status).toBe(413);
    const user = await env.DB.prepare("SELECT password_hash FROM users WHERE email = 'multipart@blog.example'").first();
    expect(user?.password_hash).toBeNull();
  });
});

describe('signed-in forms', () => {
  it('are read only after the session is known: without one the body is not read at all', async () => {
    const { response, pulled } = await postHuge(new PortalPerson('198.18.51.1'), '/portal/account/password', 16 * MB);
    expect(response.status).toBe(401);
    expect(pulled).toBeLessThan(MAX_FORM_BYTES + 4 * 64 * 1024);
  });

  it('past the limit get the 413 page before the CSRF check, and nothing changes', async () => {
    const session = await personWithPassword('big-form@blog.example', fixture.publisherId, '198.18.51.2');
    const before = await env.DB.prepare(
      "SELECT password_hash FROM users WHERE email = 'big-form@blog.example'",
    ).first();
    for (const path of ['/portal/account/password', '/portal/keys']) {
      const { response, text, pulled } = await postHuge(session, path, 16 * MB);
      expect(response.status).toBe(413);
      expect(text).toContain('nothing was changed');
      expect(pulled).toBeLessThan(MAX_FORM_BYTES + 4 * 64 * 1024);
    }
    const after = await env.DB.prepare("SELECT password_hash FROM users WHERE email = 'big-form@blog.example'").first();
    expect(after).toEqual(before);
    expect((await session.fetch('/portal')).status).toBe(200);
  });

  it('within the limit work as before', async () => {
    const session = await personWithPassword('small-form@blog.example', fixture.publisherId, '198.18.51.3');
    const changed = await session.send('/portal/account/password', {
      _csrf: await session.formToken('/portal/account'),
      current: PASSWORD,
      password: 'a brand new password',
      confirm: 'a brand new password',
    });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toContain('Password changed');
  });
});

describe('forms of a sign-in under way and of a reset link', () => {
  /** Posts a 16 MB form that starts with `fields` (right as they are) from `browser`. */
  async function postHugeFrom(browser: PortalPerson, path: string, fields: Record<string, string>) {
    const { body, meter } = hugeForm(16 * MB, `${new URLSearchParams(fields)}&padding=`);
    const response = await browser.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      duplex: 'half',
    } as RequestInit);
    const text = await response.text();
    expect(response.status, `${path}: ${text.slice(0, 200)}`).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(text).toContain('Form too large');
    expect(text).toContain('nothing was changed');
    expect(meter.pulled).toBeLessThan(MAX_FORM_BYTES + 4 * 64 * 1024);
  }

  const userRow = (id: number) =>
    env.DB.prepare('SELECT password_hash, totp_enabled_at, totp_last_step FROM users WHERE id = ?').bind(id).first();

  it('the code step: a right code in an oversized form signs no one in and stays unused', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId }, '198.18.52.1');
    const { secret } = await enrol(person.browser);
    const browser = new PortalPerson('198.18.52.2');
    expect((await signIn(browser, person.email)).headers.get('location')).toBe('/portal/login/code');
    const page = await (await browser.fetch('/portal/login/code')).text();
    // The next step's code: enrolling used the current one, and a code is good once.
    const code = codeFor(secret, Date.now() + 30_000);
    const before = await userRow(person.id);
    await postHugeFrom(browser, '/portal/login/code', { _csrf: hidden(page, '_csrf'), code });
    expect(browser.session()).toBeUndefined();
    expect(await userRow(person.id)).toEqual(before);
    const signedIn = await browser.send('/portal/login/code', { _csrf: hidden(page, '_csrf'), code });
    expect(signedIn.status).toBe(303);
  });

  it('the enrolment a role requires: a right first code in an oversized form enables nothing', async () => {
    const person = await signedInPerson('advertiser', { advertiser_id: fixture.advertiserId }, '198.18.52.3');
    await adminOk('PUT', '/settings/totp', { required_roles: ['advertiser'] });
    try {
      const browser = new PortalPerson('198.18.52.4');
      expect((await signIn(browser, person.email)).headers.get('location')).toBe('/portal/login/enrol');
      const page = await (await browser.fetch('/portal/login/enrol')).text();
      const secret = byId(page, 'totp-secret');
      await postHugeFrom(browser, '/portal/login/enrol', { _csrf: hidden(page, '_csrf'), code: codeFor(secret) });
      expect(browser.session()).toBeUndefined();
      expect((await userRow(person.id))?.totp_enabled_at).toBeNull();
      const done = await browser.send('/portal/login/enrol', { _csrf: hidden(page, '_csrf'), code: codeFor(secret) });
      expect(done.status).toBe(200);
    } finally {
      await adminOk('PUT', '/settings/totp', { required_roles: [] });
    }
  });

  it('the reset link: a new password in an oversized form is not set and the link stays usable', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId }, '198.18.52.5');
    const { reset_url } = await adminOk<{ reset_url: string }>('POST', `/users/${person.id}/reset`);
    const path = new URL(reset_url).pathname + new URL(reset_url).search;
    const browser = new PortalPerson('198.18.52.6');
    const page = await (await browser.fetch(path)).text();
    const fields = { _csrf: hidden(page, '_csrf'), token: hidden(page, 'token') };
    const before = await userRow(person.id);
    const password = 'an oversized new password';
    await postHugeFrom(browser, '/portal/reset', { ...fields, password, confirm: password });
    expect(await userRow(person.id)).toEqual(before);
    expect((await browser.send('/portal/reset', { ...fields, password, confirm: password })).status).toBe(200);
    expect((await signIn(new PortalPerson('198.18.52.7'), person.email, password)).status).toBe(303);
  });
});
