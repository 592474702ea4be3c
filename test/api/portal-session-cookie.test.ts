// The portal session cookie and invited addresses (issue 22): the session lives in a __Host-
// cookie (Secure, Path=/, no Domain), so a sibling subdomain can neither set nor overwrite it,
// and an invitation is refused for an address longer than sign-in accepts.
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createFixture, expectError, type Fixture, worker } from '../helpers';
import { PASSWORD, PortalPerson, personWithPassword, signIn } from '../portal-helpers';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture();
});

/** An address of exactly `length` characters that z.email() accepts (labels of at most 63). */
function addressOf(length: number): string {
  const local = 'a'.repeat(64);
  let domain = '';
  let left = length - local.length - 1 - '.example'.length;
  while (left > 0) {
    const label = Math.min(63, left - (domain ? 1 : 0));
    domain += `${domain ? '.' : ''}${'d'.repeat(label)}`;
    left = length - local.length - 1 - '.example'.length - domain.length;
  }
  return `${local}@${domain}.example`;
}

describe('the session cookie', () => {
  it('is a __Host- cookie: Secure, Path=/, no Domain, HttpOnly, SameSite=Lax', async () => {
    await personWithPassword('cookie@blog.example', fixture.publisherId);
    const client = new PortalPerson('198.18.60.1');
    const response = await signIn(client, 'cookie@blog.example', PASSWORD);
    expect(response.status).toBe(303);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-clickhop_session=')) as string;
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; Secure(;|$)/);
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(cookie).toMatch(/; HttpOnly(;|$)/);
    expect(cookie).toMatch(/; SameSite=Lax(;|$)/);
    expect((await client.fetch('/portal')).status).toBe(200);
  });

  it('is the only name a session is read from (a cookie without the prefix is nobody)', async () => {
    await personWithPassword('prefix@blog.example', fixture.publisherId);
    const client = new PortalPerson('198.18.60.2');
    await signIn(client, 'prefix@blog.example', PASSWORD);
    const id = client.cookies.get('__Host-clickhop_session');
    expect(id).toMatch(/^chs_/);
    const unprefixed = await worker('/portal', { headers: { cookie: `clickhop_session=${id}` } });
    expect(unprefixed.status).toBe(401);
    const api = await worker('/api/v1/offers', { headers: { cookie: `clickhop_session=${id}` } });
    expect(api.status).toBe(401);
    expect((await worker('/api/v1/offers', { headers: { cookie: `__Host-clickhop_session=${id}` } })).status).toBe(200);
  });

  it('is cleared under the same name at sign-out', async () => {
    await personWithPassword('leaving@blog.example', fixture.publisherId);
    const client = new PortalPerson('198.18.60.3');
    await signIn(client, 'leaving@blog.example', PASSWORD);
    const out = await client.send('/portal/logout', {});
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith('__Host-clickhop_session=')) as string;
    expect(cleared).toMatch(/Max-Age=0/);
    expect(cleared).toMatch(/; Secure/);
    expect(cleared).toMatch(/; Path=\//);
  });
});

describe('invited addresses', () => {
  it('longer than 254 characters are refused, naming email', async () => {
    const email = addressOf(255);
    expect(email).toHaveLength(255);
    const error = expectError(
      await admin('POST', '/users', { email, role: 'publisher', publisher_id: fixture.publisherId }),
      400,
      'invalid_request',
      ['email'],
    );
    expect(error.fields?.email).toBe('must be at most 254 characters');
  });

  it('of 254 characters are invited and sign in again and again', async () => {
    const email = addressOf(254);
    expect(email).toHaveLength(254);
    const invited = await admin<{ invite_url: string }>('POST', '/users', {
      email,
      role: 'publisher',
      publisher_id: fixture.publisherId,
    });
    expect(invited.status).toBe(201);
    const token = new URL(invited.body.invite_url).searchParams.get('token') as string;
    const client = new PortalPerson('198.18.61.1');
    const _csrf = await client.formToken(`/portal/invite?token=${token}`);
    const accepted = await client.send('/portal/invite', { _csrf, token, password: PASSWORD, confirm: PASSWORD });
    expect(accepted.status).toBe(303);
    for (let i = 0; i < 2; i++)
      expect((await signIn(new PortalPerson('198.18.61.2'), email, PASSWORD)).status).toBe(303);
  });
});
