// The portal's sign-in life cycle through the Worker: invitation (single use, 7 days), session
// cookie attributes, sign-out, wrong password, throttling per account and address, CSRF
// mismatch and expired sessions answering the sign-in page (never a 500, never a silent change).
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { inviteUser, tokenOperator } from '../../src/auth';
import { createFixture, type Fixture, worker } from '../helpers';
import { hidden, PortalPerson, signIn } from '../portal-helpers';

async function invite(email: string, fixture: Fixture): Promise<string> {
  const invitation = await inviteUser(
    env.DB,
    tokenOperator,
    { email, role: 'publisher', publisher_id: fixture.publisherId, advertiser_id: null },
    Date.now(),
  );
  return invitation.token;
}

async function acceptAs(browser: PortalPerson, token: string, password: string): Promise<Response> {
  const form = await (await browser.fetch(`/portal/invite?token=${token}`)).text();
  return browser.send('/portal/invite', { _csrf: hidden(form, '_csrf'), token, password, confirm: password });
}

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture();
});

describe('invitations', () => {
  it('set a password once, sign the person in, and cannot be used twice', async () => {
    const token = await invite('pat@blog.example', fixture);
    const browser = new PortalPerson();
    const accepted = await acceptAs(browser, token, 'a long enough password');
    expect(accepted.status).toBe(303);
    expect(accepted.headers.get('location')).toBe('/portal');
    const cookie = accepted.headers.getSetCookie().find((c) => c.startsWith('__Host-clickhop_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const home = await browser.fetch('/portal');
    expect(home.status).toBe(200);
    const page = await home.text();
    expect(page).toContain('pat@blog.example');
    expect(page).toContain('Offers you can promote');
    expect(page).toContain('Summer sale');

    const again = await acceptAs(new PortalPerson(), token, 'another long password');
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('already used or expired');
  });

  it('refuse an expired link with the sign-in page', async () => {
    const token = await invite('late@blog.example', fixture);
    await env.DB.prepare("UPDATE invitations SET expires_at = '2000-01-01T00:00:00.000Z'").run();
    const response = await new PortalPerson().fetch(`/portal/invite?token=${token}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Sign in');
  });

  it('say what is wrong with a too short password', async () => {
    const token = await invite('short@blog.example', fixture);
    const response = await acceptAs(new PortalPerson(), token, 'short');
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('at least 10 characters');
  });
});

describe('sessions', () => {
  it('sign in with email and password, and sign out ends the session at once', async () => {
    const browser = new PortalPerson('198.51.100.20');
    const response = await signIn(browser, 'PAT@blog.example', 'a long enough password');
    expect(response.status).toBe(303);
    expect((await browser.fetch('/portal')).status).toBe(200);
    const session = browser.cookies.get('__Host-clickhop_session') as string;
    const page = await (await browser.fetch('/portal/account')).text();
    const out = await browser.send('/portal/logout', { _csrf: hidden(page, '_csrf') });
    expect(out.status).toBe(200);
    expect(await out.text()).toContain('You are signed out');
    const replay = await worker('/portal', { headers: { cookie: `__Host-clickhop_session=${session}` } });
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain('Please sign in');
  });

  it('an expired session gets the sign-in page, not an error', async () => {
    const browser = new PortalPerson('198.51.100.21');
    await signIn(browser, 'pat@blog.example', 'a long enough password');
    await env.DB.prepare("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z'").run();
    const response = await browser.fetch('/portal/reports');
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('name="password"');
  });

  it('a form whose CSRF token does not match changes nothing and gets the sign-in page', async () => {
    const browser = new PortalPerson('198.51.100.22');
    await signIn(browser, 'pat@blog.example', 'a long enough password');
    const before = await env.DB.prepare("SELECT password_hash FROM users WHERE email = 'pat@blog.example'").first();
    const response = await browser.send('/portal/account/password', {
      _csrf: 'forged',
      current: 'a long enough password',
      password: 'an attacker password',
      confirm: 'an attacker password',
    });
    expect(response.status).toBe(403);
    const page = await response.text();
    expect(page).toContain('nothing was changed');
    expect(page).toContain('name="password"');
    const after = await env.DB.prepare("SELECT password_hash FROM users WHERE email = 'pat@blog.example'").first();
    expect(after).toEqual(before);
  });

  it('a sign-in form without its cookie token is refused', async () => {
    const response = await new PortalPerson().send('/portal/login', {
      _csrf: 'x',
      email: 'pat@blog.example',
      password: 'a long enough password',
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('out of date');
  });

  it('changes the password after checking the current one, and ends other sessions', async () => {
    const phone = new PortalPerson('198.51.100.23');
    const laptop = new PortalPerson('198.51.100.24');
    await signIn(phone, 'pat@blog.example', 'a long enough password');
    await signIn(laptop, 'pat@blog.example', 'a long enough password');
    const page = await (await laptop.fetch('/portal/account')).text();
    const wrong = await laptop.send('/portal/account/password', {
      _csrf: hidden(page, '_csrf'),
      current: 'not my password',
      password: 'a brand new password',
      confirm: 'a brand new password',
    });
    expect(await wrong.text()).toContain('current password is wrong');
    const changed = await laptop.send('/portal/account/password', {
      _csrf: hidden(page, '_csrf'),
      current: 'a long enough password',
      password: 'a brand new password',
      confirm: 'a brand new password',
    });
    expect(await changed.text()).toContain('Password changed');
    expect((await laptop.fetch('/portal')).status).toBe(200);
    expect((await phone.fetch('/portal')).status).toBe(401);
    expect((await signIn(new PortalPerson('198.51.100.25'), 'pat@blog.example', 'a brand new password')).status).toBe(
      303,
    );
    const audit = await env.DB.prepare(
      "SELECT actor_kind, action, resource FROM audit_log WHERE action = 'password'",
    ).first();
    expect(audit).toEqual({ actor_kind: 'user', action: 'password', resource: 'user' });
  });
});

describe('sign-in throttling', () => {
  it('answers a wrong password with the sign-in page and 401', async () => {
    const response = await signIn(new PortalPerson('203.0.113.1'), 'pat@blog.example', 'wrong guess');
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('Wrong email or password');
  });

  it('slows a guesser after five failures on one account, and the window ends', async () => {
    await invite('guessed@blog.example', fixture).then((token) =>
      acceptAs(new PortalPerson(), token, 'the right password'),
    );
    const guesser = new PortalPerson('203.0.113.50');
    for (let i = 0; i < 5; i++) expect((await signIn(guesser, 'guessed@blog.example', `guess ${i}`)).status).toBe(401);
    const blocked = await signIn(guesser, 'guessed@blog.example', 'guess 6');
    expect(blocked.status).toBe(401);
    // The sixth failure opened a 30 s window: even the right password waits (from anywhere).
    const owner = await signIn(new PortalPerson('192.0.2.9'), 'guessed@blog.example', 'the right password');
    expect(owner.status).toBe(429);
    expect(owner.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await owner.text()).toContain('Too many failed sign-ins');
    // When the window has passed, the owner gets in (and the count is cleared).
    await env.DB.prepare("UPDATE sign_in_attempts SET blocked_until = '2000-01-01T00:00:00.000Z'").run();
    expect((await signIn(new PortalPerson('192.0.2.9'), 'guessed@blog.example', 'the right password')).status).toBe(
      303,
    );
    const row = await env.DB.prepare(
      "SELECT * FROM sign_in_attempts WHERE subject = 'account:guessed@blog.example'",
    ).first();
    expect(row).toBeNull();
  });

  it('slows one address guessing many accounts', async () => {
    const guesser = new PortalPerson('203.0.113.99');
    for (let i = 0; i < 21; i++) await signIn(guesser, `nobody${i}@x.example`, 'guess');
    const response = await signIn(guesser, 'someone-else@x.example', 'guess');
    expect(response.status).toBe(429);
  });
});
