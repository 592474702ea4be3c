// Password guessing under concurrency (issue 22): every sign-in and password change is counted
// before its password is hashed, so a burst sent at once reaches PBKDF2 only as often as the
// throttle allows, per account and per address, and the rest are 429 without a check.
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACCOUNT_POLICY, ADDRESS_POLICY } from '../../src/auth/throttle';
import { createFixture, type Fixture } from '../helpers';
import { PASSWORD, PortalPerson, personWithPassword, signIn } from '../portal-helpers';

/** Counts the PBKDF2 derivations (password checks) made from now on. */
function countPasswordChecks(): { readonly count: number } {
  const derive = crypto.subtle.deriveBits.bind(crypto.subtle);
  const counter = { count: 0 };
  vi.spyOn(crypto.subtle, 'deriveBits').mockImplementation((algorithm, key, length) => {
    if ((algorithm as { name?: string }).name === 'PBKDF2') counter.count++;
    return derive(algorithm, key, length);
  });
  return counter;
}

const statuses = (responses: Response[]) => {
  const tally: Record<number, number> = {};
  for (const r of responses) tally[r.status] = (tally[r.status] ?? 0) + 1;
  return tally;
};

/** `n` sign-ins sent at once; `ipOf(i)` is the i-th one's address, `emailOf(i)` its account. */
async function burst(n: number, emailOf: (i: number) => string, ipOf: (i: number) => string) {
  const client = new PortalPerson('192.0.2.200');
  const _csrf = await client.formToken('/portal/login');
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const sender = new PortalPerson(ipOf(i));
      sender.cookies = client.cookies;
      return sender.send('/portal/login', { _csrf, email: emailOf(i), password: `guess ${i}` });
    }),
  );
}

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture();
  // An unknown email is checked against a decoy hash made once per isolate: make it now, so the
  // counts below are of checks only.
  await signIn(new PortalPerson('192.0.2.201'), 'warm-up@nobody.example', 'any password');
});
afterEach(() => vi.restoreAllMocks());

describe('concurrent wrong passwords', () => {
  it('for one account: at most the allowed attempts reach PBKDF2, the rest are 429, burst after burst', async () => {
    await personWithPassword('target@blog.example', fixture.publisherId);
    const checks = countPasswordChecks();
    const allowed = ACCOUNT_POLICY.free + 1;
    const first = await burst(
      60,
      () => 'target@blog.example',
      (i) => `203.0.${i}.9`,
    );
    expect(statuses(first)).toEqual({ 401: allowed, 429: 60 - allowed });
    expect(checks.count).toBe(allowed);
    const refused = first.find((r) => r.status === 429) as Response;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('Too many failed sign-ins');

    const second = await burst(
      60,
      () => 'target@blog.example',
      (i) => `203.1.${i}.9`,
    );
    expect(statuses(second)).toEqual({ 429: 60 });
    expect(checks.count).toBe(allowed);
  });

  it('from one address over many accounts: at most the address allowance reaches PBKDF2', async () => {
    const checks = countPasswordChecks();
    const allowed = ADDRESS_POLICY.free + 1;
    const answers = await burst(
      60,
      (i) => `nobody-${i}@spray.example`,
      () => '198.18.40.1',
    );
    expect(statuses(answers)).toEqual({ 401: allowed, 429: 60 - allowed });
    expect(checks.count).toBe(allowed);
  });

  it('a refused attempt counts nowhere: the other subject is not charged for it', async () => {
    await personWithPassword('blocked@blog.example', fixture.publisherId);
    const answers = await burst(
      20,
      () => 'blocked@blog.example',
      () => '198.18.41.1',
    );
    expect(statuses(answers)).toEqual({ 401: ACCOUNT_POLICY.free + 1, 429: 20 - ACCOUNT_POLICY.free - 1 });
    const address = await env.DB.prepare(
      "SELECT failures FROM sign_in_attempts WHERE subject = 'address:198.18.41.0/24'",
    ).first<{ failures: number }>();
    expect(address?.failures).toBe(ACCOUNT_POLICY.free + 1);
  });
});

describe('counting attempts before the check', () => {
  it('takes a success back from the address, so an office signing in all day is never slowed', async () => {
    await personWithPassword('office@blog.example', fixture.publisherId);
    const office = new PortalPerson('198.18.42.5');
    for (let i = 0; i < ADDRESS_POLICY.free + 5; i++) {
      expect((await signIn(office, 'office@blog.example', PASSWORD)).status).toBe(303);
    }
    const row = await env.DB.prepare("SELECT * FROM sign_in_attempts WHERE subject = 'address:198.18.42.0/24'").first();
    expect(row).toMatchObject({ failures: 0, blocked_until: null });
  });

  it('a success past the free attempts closes the window it opened on the address', async () => {
    await personWithPassword('colleague@blog.example', fixture.publisherId);
    const shared = new PortalPerson('198.18.43.5');
    for (let i = 0; i < ADDRESS_POLICY.free; i++) await signIn(shared, `typo-${i}@blog.example`, 'wrong');
    // The 21st attempt opens a window as it is counted; it succeeds, so the window closes again.
    expect((await signIn(shared, 'colleague@blog.example', PASSWORD)).status).toBe(303);
    expect((await signIn(shared, 'colleague@blog.example', PASSWORD)).status).toBe(303);
    // A failure there does open one.
    expect((await signIn(shared, 'typo@blog.example', 'wrong')).status).toBe(401);
    expect((await signIn(shared, 'colleague@blog.example', PASSWORD)).status).toBe(429);
  });

  it('forgets a count whose last attempt is more than a day old', async () => {
    await personWithPassword('returning@blog.example', fixture.publisherId);
    await env.DB.prepare(
      `INSERT INTO sign_in_attempts (subject, failures, last_failure_at, blocked_until)
       VALUES ('account:returning@blog.example', 10000, '2000-01-01T00:00:00.000Z', '2000-01-01T00:15:00.000Z')`,
    ).run();
    const answer = await signIn(new PortalPerson('198.18.44.5'), 'returning@blog.example', 'one wrong guess');
    expect(answer.status).toBe(401);
    const row = await env.DB.prepare(
      "SELECT * FROM sign_in_attempts WHERE subject = 'account:returning@blog.example'",
    ).first();
    expect(row).toMatchObject({ failures: 1, blocked_until: null });
  });
});

describe('password change', () => {
  async function changeBurst(client: PortalPerson, n: number, current: (i: number) => string) {
    const _csrf = await client.formToken('/portal/account');
    return Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.send('/portal/account/password', {
          _csrf,
          current: current(i),
          password: 'a brand new password',
          confirm: 'a brand new password',
        }),
      ),
    );
  }

  it('is throttled like sign-in: a session cannot be used to guess the current password', async () => {
    const session = await personWithPassword('changer@blog.example', fixture.publisherId, '198.18.45.5');
    const checks = countPasswordChecks();
    const allowed = ACCOUNT_POLICY.free + 1;
    const answers = await changeBurst(session, 30, (i) => `wrong current ${i}`);
    expect(statuses(answers)).toEqual({ 400: allowed, 429: 30 - allowed });
    expect(checks.count).toBe(allowed);
    const refused = answers.find((r) => r.status === 429) as Response;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('Too many wrong passwords');

    // Even the right one waits for the window, and signing in from elsewhere too (one account).
    expect((await changeBurst(session, 1, () => PASSWORD))[0]?.status).toBe(429);
    expect((await signIn(new PortalPerson('192.0.2.77'), 'changer@blog.example', PASSWORD)).status).toBe(429);
    const unchanged = await signIn(new PortalPerson('192.0.2.78'), 'changer@blog.example', 'a brand new password');
    expect(unchanged.status).toBe(429);

    // When the window has passed, the right password changes it and the count is forgotten.
    await env.DB.prepare("UPDATE sign_in_attempts SET blocked_until = '2000-01-01T00:00:00.000Z'").run();
    const [changed] = await changeBurst(session, 1, () => PASSWORD);
    expect(changed?.status).toBe(200);
    expect(await changed?.text()).toContain('Password changed');
    const account = await env.DB.prepare(
      "SELECT * FROM sign_in_attempts WHERE subject = 'account:changer@blog.example'",
    ).first();
    expect(account).toBeNull();
  });
});

describe('what a throttle row holds', () => {
  it('never an address longer than an account can have', async () => {
    const email = `${'x'.repeat(60_000)}@long.example`;
    expect((await signIn(new PortalPerson('198.18.46.5'), email, 'guess')).status).toBe(401);
    const longest = await env.DB.prepare('SELECT max(length(subject)) AS n FROM sign_in_attempts').first<{
      n: number;
    }>();
    expect(longest?.n).toBeLessThanOrEqual('account:'.length + 255);
  });
});
