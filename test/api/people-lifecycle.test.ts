// How a person's access ends, through the Worker: disabling ends live sessions on the very next
// request and refuses sign-in, the answer lists the keys the person minted, a role change keeps
// the party rules, deleting removes the person but not the audit history, and a reset link is
// single use, expires and ends the person's sessions.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, adminOk, createFixture, type Fixture, worker } from '../helpers';
import { byId, hidden, PASSWORD, type Person, PortalPerson, signedInPerson, signIn } from '../portal-helpers';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture();
});

const sessionsOf = async (userId: number) =>
  (await env.DB.prepare('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?').bind(userId).first<{ n: number }>())?.n;

/** A key the person makes on the portal's API keys page, as a script owner would. */
async function mintKeyInPortal(person: Person, name: string): Promise<{ id: number; key: string }> {
  const made = await person.browser.submit('/portal/keys', '/portal/keys', { name });
  const page = await made.text();
  const key = byId(page, 'new-key');
  const row = await env.DB.prepare('SELECT id FROM api_keys WHERE prefix = ?')
    .bind(key.slice(0, 12))
    .first<{ id: number }>();
  return { id: row?.id as number, key };
}

describe('PATCH /api/v1/users/{id}: disable and enable', () => {
  it("refuses a disabled person's live session on the very next request, and their sign-in", async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    expect((await person.browser.fetch('/portal')).status).toBe(200);
    const cookie = person.browser.session() as string;
    // The portal session also reads the API (an export link): it works before.
    const apiRead = () =>
      worker('/api/v1/conversions', {
        headers: {
          cookie: person.browser.cookies.size
            ? [...person.browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
            : '',
        },
      });
    expect((await apiRead()).status).toBe(200);

    const disabled = await admin<{ status: string; api_keys: unknown[] }>('PATCH', `/users/${person.id}`, {
      status: 'disabled',
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect(await sessionsOf(person.id)).toBe(0);

    const next = await person.browser.fetch('/portal');
    expect(next.status).toBe(401);
    expect(await next.text()).toContain('name="password"');
    expect((await apiRead()).status).toBe(401);
    expect(person.browser.session() ?? cookie).toBe(cookie);
    const again = await signIn(new PortalPerson('198.51.100.60'), person.email);
    expect(again.status).toBe(401);
    expect(await sessionsOf(person.id)).toBe(0);

    const enabled = await adminOk<{ status: string }>('PATCH', `/users/${person.id}`, { status: 'active' });
    expect(enabled.status).toBe('active');
    expect((await signIn(new PortalPerson('198.51.100.61'), person.email)).status).toBe(303);
  });

  it('lists the live keys the person minted, which keep working until the operator revokes them', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    const first = await mintKeyInPortal(person, 'reporting script');
    const second = await mintKeyInPortal(person, 'old script');
    await person.browser.submit('/portal/keys', `/portal/keys/${second.id}/revoke`, {});
    const byToken = await adminOk<{ id: number }>('POST', '/api-keys', { role: 'operator' });

    const answer = await adminOk<{ api_keys: { id: number; name: string; created_by: string }[] }>(
      'PATCH',
      `/users/${person.id}`,
      { status: 'disabled' },
    );
    expect(answer.api_keys.map((k) => k.id)).toEqual([first.id]);
    expect(answer.api_keys[0]?.created_by).toBe(`user ${person.id} <${person.email}>`);
    expect(answer.api_keys.map((k) => k.id)).not.toContain(byToken.id);
    const stored = await env.DB.prepare('SELECT created_by_user_id FROM api_keys WHERE id = ?').bind(first.id).first();
    expect(stored).toEqual({ created_by_user_id: person.id });
    // Disabling a person does not revoke their keys; the list is there to decide.
    const withKey = await worker('/api/v1/conversions', { headers: { authorization: `Bearer ${first.key}` } });
    expect(withKey.status).toBe(200);
    await adminOk('DELETE', `/api-keys/${first.id}`);
    expect((await adminOk<{ api_keys: unknown[] }>('GET', `/users/${person.id}`)).api_keys).toEqual([]);
  });

  it('is audited with the person before and after', async () => {
    const person = await signedInPerson('advertiser', { advertiser_id: fixture.advertiserId });
    await adminOk('PATCH', `/users/${person.id}`, { status: 'disabled' });
    const entry = await env.DB.prepare(
      "SELECT actor_label, before, after FROM audit_log WHERE action = 'updateUser' AND resource_id = ? ORDER BY id DESC",
    )
      .bind(String(person.id))
      .first<{ actor_label: string; before: string; after: string }>();
    expect(entry?.actor_label).toBe('admin token');
    expect(JSON.parse(entry?.before as string).status).toBe('active');
    expect(JSON.parse(entry?.after as string).status).toBe('disabled');
    expect(entry?.before).not.toContain('pbkdf2');
  });

  it('keeps an invited person invited when enabled, and spends their open link when disabled', async () => {
    const invited = await adminOk<{ id: number; invite_url: string }>('POST', '/users', {
      email: 'not-yet@people.example',
      role: 'operator',
    });
    expect((await adminOk<{ status: string }>('PATCH', `/users/${invited.id}`, { status: 'disabled' })).status).toBe(
      'disabled',
    );
    expect((await adminOk<{ status: string }>('PATCH', `/users/${invited.id}`, { status: 'active' })).status).toBe(
      'invited',
    );
    const path = new URL(invited.invite_url).pathname + new URL(invited.invite_url).search;
    expect((await new PortalPerson().fetch(path)).status).toBe(400);
  });
});

describe('PATCH /api/v1/users/{id}: role changes keep the party rules', () => {
  it('answers 400 naming the field a role needs or must not have, and writes nothing', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    const before = await env.DB.prepare('SELECT * FROM users WHERE id = ?').bind(person.id).first();
    const cases: [Record<string, unknown>, string][] = [
      [{ role: 'advertiser' }, 'advertiser_id'],
      [{ role: 'operator', publisher_id: fixture.publisherId }, 'publisher_id'],
      [{ advertiser_id: fixture.advertiserId }, 'advertiser_id'],
      [{ role: 'advertiser', advertiser_id: 4_000_000 }, 'advertiser_id'],
      [{ status: 'invited' }, 'status'],
      [{ role: 'admin' }, 'role'],
    ];
    for (const [body, field] of cases) {
      const answer = await admin<{ error: { code: string; fields: Record<string, string> } }>(
        'PATCH',
        `/users/${person.id}`,
        body,
      );
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(answer.body.error.fields), JSON.stringify(body)).toEqual([field]);
    }
    expect(await env.DB.prepare('SELECT * FROM users WHERE id = ?').bind(person.id).first()).toEqual(before);
    expect((await person.browser.fetch('/portal')).status).toBe(200);
  });

  it('moves a person to another role and party, ending their sessions; the next sign-in has the new scope', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    const moved = await adminOk<{ role: string; publisher_id: number | null; advertiser_id: number | null }>(
      'PATCH',
      `/users/${person.id}`,
      { role: 'advertiser', advertiser_id: fixture.advertiserId },
    );
    expect(moved).toMatchObject({ role: 'advertiser', publisher_id: null, advertiser_id: fixture.advertiserId });
    expect((await person.browser.fetch('/portal')).status).toBe(401);
    const browser = new PortalPerson('198.51.100.70');
    expect((await signIn(browser, person.email)).status).toBe(303);
    expect((await browser.fetch('/portal/integration')).status).toBe(200);
    expect((await browser.fetch('/portal/endpoints')).status).toBe(404);
  });

  it('answers 404 for no such person and 403 to a publisher key', async () => {
    expect((await admin('PATCH', '/users/4000000', { status: 'disabled' })).status).toBe(404);
    const key = await adminOk<{ key: string }>('POST', '/api-keys', {
      role: 'publisher',
      publisher_id: fixture.publisherId,
    });
    const answer = await worker('/api/v1/users/1', {
      method: 'PATCH',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: '{"status":"disabled"}',
    });
    expect(answer.status).toBe(403);
  });
});

describe('an operator in the portal', () => {
  it('disables, re-enables and deletes a person from their page, but not themselves', async () => {
    const operator = await signedInPerson('operator');
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    const list = await (await operator.browser.fetch('/portal/people')).text();
    expect(list).toContain(`href="/portal/people/${person.id}"`);

    const disabled = await operator.browser.submit(
      `/portal/people/${person.id}`,
      `/portal/people/${person.id}/status`,
      {
        status: 'disabled',
      },
    );
    expect(disabled.status).toBe(200);
    expect(byId(await disabled.text(), 'person-status')).toBe('disabled');
    expect((await person.browser.fetch('/portal')).status).toBe(401);
    const enabled = await operator.browser.submit(`/portal/people/${person.id}`, `/portal/people/${person.id}/status`, {
      status: 'active',
    });
    expect(byId(await enabled.text(), 'person-status')).toBe('active');

    const self = await operator.browser.submit(
      `/portal/people/${operator.id}`,
      `/portal/people/${operator.id}/status`,
      {
        status: 'disabled',
      },
    );
    expect(self.status).toBe(400);
    expect(await self.text()).toContain('cannot disable yourself');
    expect((await operator.browser.fetch('/portal')).status).toBe(200);

    const unconfirmed = await operator.browser.submit(
      `/portal/people/${person.id}`,
      `/portal/people/${person.id}/delete`,
      {},
    );
    expect(unconfirmed.status).toBe(400);
    const deleted = await operator.browser.submit(`/portal/people/${person.id}`, `/portal/people/${person.id}/delete`, {
      confirm: 'yes',
    });
    expect(deleted.status).toBe(200);
    expect(await deleted.text()).toContain(`${person.email} was deleted`);
    expect(await env.DB.prepare('SELECT id FROM users WHERE id = ?').bind(person.id).first()).toBeNull();
    const entry = await env.DB.prepare(
      "SELECT actor_label FROM audit_log WHERE action = 'deleteUser' AND resource_id = ?",
    )
      .bind(String(person.id))
      .first();
    expect(entry).toEqual({ actor_label: `user ${operator.id} <${operator.email}>` });
  });

  it('makes a reset link on the person’s page; the people pages are not there for a publisher', async () => {
    const operator = await signedInPerson('operator');
    const person = await signedInPerson('advertiser', { advertiser_id: fixture.advertiserId });
    const made = await operator.browser.submit(`/portal/people/${person.id}`, `/portal/people/${person.id}/reset`, {});
    expect(made.status).toBe(200);
    expect(byId(await made.text(), 'reset-url')).toMatch(/^https:\/\/clickhop\.test\/portal\/reset\?token=/);
    const publisher = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    expect((await publisher.browser.fetch(`/portal/people/${person.id}`)).status).toBe(404);
    const forged = await publisher.browser.submit('/portal/account', `/portal/people/${person.id}/delete`, {
      confirm: 'yes',
    });
    expect(forged.status).toBe(404);
    expect(await env.DB.prepare('SELECT id FROM users WHERE id = ?').bind(person.id).first()).not.toBeNull();
  });
});

describe('DELETE /api/v1/users/{id}', () => {
  it('removes the person and their sessions; the audit log still shows what they did; the email can be invited again', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    const key = await mintKeyInPortal(person, 'their script');
    const deleted = await adminOk<{ id: number; email: string; api_keys: { id: number }[] }>(
      'DELETE',
      `/users/${person.id}`,
    );
    expect(deleted).toMatchObject({ id: person.id, email: person.email, api_keys: [{ id: key.id }] });
    expect(await sessionsOf(person.id)).toBe(0);
    expect((await person.browser.fetch('/portal')).status).toBe(401);
    expect((await admin('GET', `/users/${person.id}`)).status).toBe(404);
    expect((await admin('DELETE', `/users/${person.id}`)).status).toBe(404);

    const audit = await adminOk<{
      data: { actor: { label: string }; action: string; before: { email?: string } | null }[];
    }>('GET', '/audit?limit=100');
    const label = `user ${person.id} <${person.email}>`;
    expect(audit.data.filter((e) => e.actor.label === label).map((e) => e.action)).toContain('createApiKey');
    expect(audit.data.find((e) => e.action === 'deleteUser')?.before?.email).toBe(person.email);
    const keys = await adminOk<{ data: { id: number; created_by: string }[] }>('GET', '/api-keys?limit=100');
    expect(keys.data.find((k) => k.id === key.id)?.created_by).toBe(label);
    // The key forgets the id, which a later person may be given; a new person lists no keys.
    expect(await env.DB.prepare('SELECT created_by_user_id FROM api_keys WHERE id = ?').bind(key.id).first()).toEqual({
      created_by_user_id: null,
    });

    const again = await admin('POST', '/users', { email: person.email, role: 'operator' });
    expect(again.status).toBe(201);
  });
});

describe('POST /api/v1/users/{id}/reset', () => {
  const resetPath = (url: string) => {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  };

  async function useLink(path: string, password: string, browser = new PortalPerson('198.51.100.80')) {
    const page = await (await browser.fetch(path)).text();
    const token = hidden(page, 'token');
    return browser.send('/portal/reset', { _csrf: hidden(page, '_csrf'), token, password, confirm: password });
  }

  it('answers a single-use link that sets a new password and ends every session', async () => {
    const person = await signedInPerson('publisher', { publisher_id: fixture.publisherId });
    const laptop = new PortalPerson('198.51.100.81');
    expect((await signIn(laptop, person.email)).status).toBe(303);
    expect(await sessionsOf(person.id)).toBe(2);

    const link = await admin<{ reset_url: string; reset_expires_at: string; email: string }>(
      'POST',
      `/users/${person.id}/reset`,
    );
    expect(link.status).toBe(201);
    expect(link.body.email).toBe(person.email);
    expect(Date.parse(link.body.reset_expires_at) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const page = await (await new PortalPerson().fetch(resetPath(link.body.reset_url))).text();
    expect(byId(page, 'reset-email')).toBe(person.email);

    const used = await useLink(resetPath(link.body.reset_url), 'a brand new password');
    expect(used.status).toBe(200);
    expect(await used.text()).toContain('Your new password is set');
    expect(await sessionsOf(person.id)).toBe(0);
    expect((await person.browser.fetch('/portal')).status).toBe(401);
    expect((await laptop.fetch('/portal')).status).toBe(401);
    expect((await signIn(new PortalPerson('198.51.100.82'), person.email, PASSWORD)).status).toBe(401);
    expect((await signIn(new PortalPerson('198.51.100.83'), person.email, 'a brand new password')).status).toBe(303);

    const twice = await useLink(resetPath(link.body.reset_url), 'an attacker password');
    expect(twice.status).toBe(400);
    expect(await twice.text()).toContain('already used or expired');
    expect((await signIn(new PortalPerson('198.51.100.84'), person.email, 'an attacker password')).status).toBe(401);
  });

  it('refuses an expired link, an older link once a newer exists, a form without its token, and a disabled person', async () => {
    const person = await signedInPerson('operator');
    const older = await adminOk<{ reset_url: string }>('POST', `/users/${person.id}/reset`);
    const newer = await adminOk<{ reset_url: string }>('POST', `/users/${person.id}/reset`, { remove_totp: false });
    expect((await useLink(resetPath(older.reset_url), 'a brand new password')).status).toBe(400);

    const browser = new PortalPerson('198.51.100.85');
    const page = await (await browser.fetch(resetPath(newer.reset_url))).text();
    const forged = await browser.send('/portal/reset', {
      _csrf: 'forged',
      token: hidden(page, 'token'),
      password: 'a brand new password',
      confirm: 'a brand new password',
    });
    expect(await forged.text()).toContain('out of date');
    expect(await sessionsOf(person.id)).toBe(1);

    await env.DB.prepare("UPDATE invitations SET expires_at = '2000-01-01T00:00:00.000Z' WHERE user_id = ?")
      .bind(person.id)
      .run();
    expect((await useLink(resetPath(newer.reset_url), 'a brand new password')).status).toBe(400);
    expect(await sessionsOf(person.id)).toBe(1);

    await adminOk('PATCH', `/users/${person.id}`, { status: 'disabled' });
    const refused = await admin<{ error: { code: string } }>('POST', `/users/${person.id}/reset`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('user_disabled');
  });

  it('is not an invitation: a reset token does not open /portal/invite, nor an invitation /portal/reset', async () => {
    const person = await signedInPerson('operator');
    const link = await adminOk<{ reset_url: string }>('POST', `/users/${person.id}/reset`);
    const token = new URL(link.reset_url).searchParams.get('token');
    expect((await new PortalPerson().fetch(`/portal/invite?token=${token}`)).status).toBe(400);
    const invited = await adminOk<{ invite_url: string }>('POST', '/users', {
      email: 'fresh@people.example',
      role: 'operator',
    });
    const inviteToken = new URL(invited.invite_url).searchParams.get('token');
    expect((await new PortalPerson().fetch(`/portal/reset?token=${inviteToken}`)).status).toBe(400);
  });
});

describe('migration 0021', () => {
  it('matches keys minted before it to their person by the created_by label', async () => {
    const backfill = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0021_'))?.queries.find((q) =>
      /UPDATE api_keys\s+SET created_by_user_id/.test(q),
    );
    expect(backfill).toBeDefined();
    const insert = (createdBy: string) =>
      env.DB.prepare(
        `INSERT INTO api_keys (role, key_hash, prefix, created_by, created_at)
         VALUES ('operator', ?, 'chk_x', ?, '2026-01-01T00:00:00.000Z') RETURNING id`,
      )
        .bind(crypto.randomUUID(), createdBy)
        .first<{ id: number }>();
    const byPerson = await insert('user 4217 <old@people.example>');
    const byToken = await insert('admin token');
    const byKey = await insert('key 3 (user 5 <x@y.example>)');
    await env.DB.prepare(backfill as string).run();
    const owner = async (row: { id: number } | null) =>
      (
        await env.DB.prepare('SELECT created_by_user_id FROM api_keys WHERE id = ?')
          .bind(row?.id)
          .first<{ created_by_user_id: number | null }>()
      )?.created_by_user_id;
    expect(await owner(byPerson)).toBe(4217);
    expect(await owner(byToken)).toBeNull();
    expect(await owner(byKey)).toBeNull();
  });
});
