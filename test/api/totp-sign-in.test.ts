// The TOTP second factor through the Worker: enrolment in the portal (secret as text and an
// otpauth:// URI, confirmed by a first code, ten recovery codes stored hashed), the code step
// after a right password (no session before it; a code is good once; recovery codes once;
// wrong codes throttled like passwords), and the operator's rule per role (enrolment before any
// other page, unenrolled sessions ended, no turning it off).
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { admin, adminOk, createFixture, type Fixture, worker } from '../helpers';
import {
  byId,
  codeFor,
  enrol,
  hidden,
  type Person,
  PortalPerson,
  signedInPerson,
  signIn,
  wrongCodeFor,
} from '../portal-helpers';

const NEXT_STEP = 30_000;

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await adminOk('PUT', '/settings/totp', { required_roles: [] });
});

/** Password, then the code page's form; answers the code step's response. */
async function signInWithCode(browser: PortalPerson, email: string, code: string): Promise<Response> {
  const first = await signIn(browser, email);
  expect(first.status).toBe(303);
  expect(first.headers.get('location')).toBe('/portal/login/code');
  const page = await (await browser.fetch('/portal/login/code')).text();
  return browser.send('/portal/login/code', { _csrf: hidden(page, '_csrf'), code });
}

const userRow = (id: number) =>
  env.DB.prepare('SELECT totp_secret, totp_enabled_at, totp_last_step FROM users WHERE id = ?')
    .bind(id)
    .first<{ totp_secret: string | null; totp_enabled_at: string | null; totp_last_step: number | null }>();

describe('enrolment in the portal', () => {
  it('shows the secret as base32 and an otpauth URI, refuses a wrong first code, and answers ten recovery codes once', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    const logged = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method));
    const page = await (await person.browser.fetch('/portal/account/totp')).text();
    expect(byId(page, 'totp-state')).toContain('Two-step sign-in is ');
    const secret = byId(page, 'totp-secret');
    expect(secret).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const uri = new URL(byId(page, 'totp-uri'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret.replaceAll(' ', ''));
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    // Reloading shows the same pending secret: an app set up from the first view still works.
    expect(byId(await (await person.browser.fetch('/portal/account/totp')).text(), 'totp-secret')).toBe(secret);

    const wrong = await person.browser.send('/portal/account/totp', {
      _csrf: hidden(page, '_csrf'),
      code: wrongCodeFor(secret),
    });
    expect(wrong.status).toBe(401);
    expect((await userRow(person.id))?.totp_enabled_at).toBeNull();

    const done = await person.browser.send('/portal/account/totp', {
      _csrf: hidden(page, '_csrf'),
      code: codeFor(secret),
    });
    expect(done.status).toBe(200);
    const text = await done.text();
    const codes = byId(text, 'recovery-codes').trim().split('\n');
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const after = await (await person.browser.fetch('/portal/account/totp')).text();
    expect(byId(after, 'recovery-left')).toBe('10');
    expect(after).not.toContain(codes[0]);

    // At rest: the secret sealed, the recovery codes hashed; neither in any log line.
    const row = await userRow(person.id);
    expect(row?.totp_enabled_at).not.toBeNull();
    expect(row?.totp_secret).toMatch(/^v1:\d+:/);
    expect(row?.totp_secret).not.toContain(secret.replaceAll(' ', ''));
    const stored = await env.DB.prepare('SELECT code_hash FROM totp_recovery_codes WHERE user_id = ?')
      .bind(person.id)
      .all<{ code_hash: string }>();
    expect(stored.results).toHaveLength(10);
    for (const { code_hash } of stored.results) expect(codes).not.toContain(code_hash);
    const audit = await env.DB.prepare('SELECT before, after FROM audit_log').all();
    const lines = [...logged.flatMap((spy) => spy.mock.calls.flat()), JSON.stringify(audit.results)].join('\n');
    expect(lines).toContain('totp_enable');
    expect(lines).not.toContain(secret.replaceAll(' ', ''));
    for (const code of codes) expect(lines).not.toContain(code);
    expect((await adminOk<{ totp_enabled: boolean }>('GET', `/users/${person.id}`)).totp_enabled).toBe(true);
  });
});

describe('signing in with a second factor', () => {
  let person: Person;
  let secret: string;
  let recoveryCodes: string[];
  beforeAll(async () => {
    person = await signedInPerson('advertiser', { advertiser_id: fixture.advertiserId });
    ({ secret, recoveryCodes } = await enrol(person.browser));
  });

  it('asks for the code after the password; no page opens before it; the right code opens a session', async () => {
    const browser = new PortalPerson('198.51.100.150');
    const first = await signIn(browser, person.email);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/portal/login/code');
    expect(browser.session()).toBeUndefined();
    expect((await browser.fetch('/portal')).status).toBe(401);
    expect((await browser.fetch('/portal/account/totp')).status).toBe(401);
    const cookies = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    expect((await worker('/api/v1/conversions', { headers: { cookie: cookies } })).status).toBe(401);

    const page = await (await browser.fetch('/portal/login/code')).text();
    const wrong = await browser.send('/portal/login/code', {
      _csrf: hidden(page, '_csrf'),
      code: wrongCodeFor(secret),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That code is not right');
    const right = await browser.send('/portal/login/code', {
      _csrf: hidden(page, '_csrf'),
      code: codeFor(secret, Date.now() + NEXT_STEP),
    });
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/portal');
    expect(browser.session()).toBeDefined();
    expect((await browser.fetch('/portal')).status).toBe(200);
    // The challenge is spent: posting the code again opens nothing.
    expect(
      await env.DB.prepare('SELECT COUNT(*) AS n FROM sign_in_challenges WHERE user_id = ?').bind(person.id).first(),
    ).toEqual({ n: 0 });
  });

  it('refuses a code already used (a replay), and takes each recovery code once', async () => {
    const used = codeFor(secret, Date.now() + NEXT_STEP);
    await env.DB.prepare('UPDATE users SET totp_last_step = ? WHERE id = ?')
      .bind(Math.floor((Date.now() + NEXT_STEP) / 30_000), person.id)
      .run();
    expect((await signInWithCode(new PortalPerson('198.51.100.151'), person.email, used)).status).toBe(401);

    const recovery = recoveryCodes[3] as string;
    const withRecovery = await signInWithCode(new PortalPerson('198.51.100.152'), person.email, recovery.toUpperCase());
    expect(withRecovery.status).toBe(303);
    expect((await signInWithCode(new PortalPerson('198.51.100.153'), person.email, recovery)).status).toBe(401);
    const page = await (await person.browser.fetch('/portal/account/totp')).text();
    expect(byId(page, 'recovery-left')).toBe('9');
  });

  it('throttles wrong codes like wrong passwords, and a right password does not buy fresh guesses', async () => {
    const guesser = new PortalPerson('203.0.113.77');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const first = await signIn(guesser, person.email);
      if (first.status !== 303) {
        statuses.push(first.status);
        continue;
      }
      const page = await (await guesser.fetch('/portal/login/code')).text();
      const answer = await guesser.send('/portal/login/code', {
        _csrf: hidden(page, '_csrf'),
        code: wrongCodeFor(secret),
      });
      statuses.push(answer.status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toEqual([429]);
    // Even the owner's right code waits out the window.
    const owner = await signIn(new PortalPerson('192.0.2.30'), person.email);
    expect(owner.status).toBe(429);
    await env.DB.prepare('DELETE FROM sign_in_attempts').run();
  });

  it('turns off with a current code, after which sign-in needs the password only', async () => {
    await env.DB.prepare('UPDATE users SET totp_last_step = NULL WHERE id = ?').bind(person.id).run();
    const page = await (await person.browser.fetch('/portal/account/totp')).text();
    const wrong = await person.browser.send('/portal/account/totp/off', { _csrf: hidden(page, '_csrf'), code: '12' });
    expect(wrong.status).toBe(401);
    const off = await person.browser.send('/portal/account/totp/off', {
      _csrf: hidden(page, '_csrf'),
      code: codeFor(secret),
    });
    expect(off.status).toBe(200);
    expect(await off.text()).toContain('Two-step sign-in is off');
    // The page it answers offers a fresh set-up (a new pending secret); the old one is gone.
    expect(await userRow(person.id)).toMatchObject({ totp_enabled_at: null, totp_last_step: null });
    expect(
      await env.DB.prepare('SELECT COUNT(*) AS n FROM totp_recovery_codes WHERE user_id = ?').bind(person.id).first(),
    ).toEqual({ n: 0 });
    const browser = new PortalPerson('198.51.100.154');
    const again = await signIn(browser, person.email);
    expect(again.headers.get('location')).toBe('/portal');
  });
});

describe('the operator requires a second factor per role', () => {
  it('ends unenrolled sessions of the role, sends the person to enrolment before any page, then opens the portal', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    const other = await signedInPerson('advertiser', { advertiser_id: fixture.advertiserId });
    const settings = await adminOk<{ required_roles: string[] }>('PUT', '/settings/totp', {
      required_roles: ['publisher'],
    });
    expect(settings.required_roles).toEqual(['publisher']);
    expect((await adminOk<{ required_roles: string[] }>('GET', '/settings/totp')).required_roles).toEqual([
      'publisher',
    ]);
    expect((await person.browser.fetch('/portal')).status).toBe(401);
    expect((await other.browser.fetch('/portal')).status).toBe(200);

    const browser = new PortalPerson('198.51.100.160');
    const first = await signIn(browser, person.email);
    expect(first.headers.get('location')).toBe('/portal/login/enrol');
    expect(browser.session()).toBeUndefined();
    for (const path of ['/portal', '/portal/account', '/portal/account/totp', '/portal/keys']) {
      expect((await browser.fetch(path)).status, path).toBe(401);
    }
    const page = await (await browser.fetch('/portal/login/enrol')).text();
    const secret = byId(page, 'totp-secret');
    const wrong = await browser.send('/portal/login/enrol', { _csrf: hidden(page, '_csrf'), code: 'abc' });
    expect(wrong.status).toBe(401);
    const done = await browser.send('/portal/login/enrol', { _csrf: hidden(page, '_csrf'), code: codeFor(secret) });
    expect(done.status).toBe(200);
    expect(
      byId(await done.text(), 'recovery-codes')
        .trim()
        .split('\n'),
    ).toHaveLength(10);
    expect((await browser.fetch('/portal')).status).toBe(200);

    // Required: it cannot be turned off, and the next sign-in asks for the code.
    const account = await (await browser.fetch('/portal/account/totp')).text();
    expect(account).not.toContain('/portal/account/totp/off');
    const forced = await browser.send('/portal/account/totp/off', {
      _csrf: hidden(account, '_csrf'),
      code: codeFor(secret, Date.now() + NEXT_STEP),
    });
    expect(forced.status).toBe(400);
    expect((await userRow(person.id))?.totp_enabled_at).not.toBeNull();
    expect((await signIn(new PortalPerson('198.51.100.161'), person.email)).headers.get('location')).toBe(
      '/portal/login/code',
    );
  });

  it('sends a person invited into a required role to enrolment from the invitation', async () => {
    await adminOk('PUT', '/settings/totp', { required_roles: ['operator', 'advertiser'] });
    const invited = await adminOk<{ invite_url: string }>('POST', '/users', {
      email: 'new-operator@people.example',
      role: 'operator',
    });
    const browser = new PortalPerson('198.51.100.162');
    const url = new URL(invited.invite_url);
    const page = await (await browser.fetch(url.pathname + url.search)).text();
    const accepted = await browser.send('/portal/invite', {
      _csrf: hidden(page, '_csrf'),
      token: hidden(page, 'token'),
      password: 'a long enough password',
      confirm: 'a long enough password',
    });
    expect(accepted.status).toBe(303);
    expect(accepted.headers.get('location')).toBe('/portal/login/enrol');
    expect(browser.session()).toBeUndefined();
    expect((await browser.fetch('/portal/people')).status).toBe(401);
  });

  it('refuses a role it does not know or a repeated one, naming required_roles, and a publisher key', async () => {
    for (const body of [{ required_roles: ['admin'] }, { required_roles: ['operator', 'operator'] }, {}]) {
      const answer = await admin<{ error: { fields: Record<string, string> } }>('PUT', '/settings/totp', body);
      expect(answer.status).toBe(400);
      expect(Object.keys(answer.body.error.fields)[0]).toMatch(/^required_roles/);
    }
    const key = await adminOk<{ key: string }>('POST', '/api-keys', {
      role: 'publisher',
      publisher_id: fixture.publisherId,
    });
    const answer = await worker('/api/v1/settings/totp', { headers: { authorization: `Bearer ${key.key}` } });
    expect(answer.status).toBe(403);
  });
});

describe('a reset link that removes the second factor (a lost phone)', () => {
  it('removes it when the link is used, not before', async () => {
    const person = await signedInPerson('operator');
    await enrol(person.browser);
    const link = await adminOk<{ reset_url: string }>('POST', `/users/${person.id}/reset`, { remove_totp: true });
    expect((await userRow(person.id))?.totp_enabled_at).not.toBeNull();
    const url = new URL(link.reset_url);
    const browser = new PortalPerson('198.51.100.170');
    const page = await (await browser.fetch(url.pathname + url.search)).text();
    const used = await browser.send('/portal/reset', {
      _csrf: hidden(page, '_csrf'),
      token: hidden(page, 'token'),
      password: 'a fresh long password',
      confirm: 'a fresh long password',
    });
    expect(used.status).toBe(200);
    expect(await userRow(person.id)).toEqual({ totp_secret: null, totp_enabled_at: null, totp_last_step: null });
    expect((await signIn(browser, person.email, 'a fresh long password')).headers.get('location')).toBe('/portal');
  });
});
