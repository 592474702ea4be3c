// Helpers for the people lifecycle and TOTP tests: a cookie jar that behaves like a browser
// against the real Worker, and people invited, signed in and enrolled through the portal.
import { env } from 'cloudflare:workers';
import { inviteUser, tokenOperator } from '../src/auth';
import type { Role } from '../src/auth/principal';
import { fromBase32, totpAt } from '../src/auth/totp';
import { worker } from './helpers';

export class Browser {
  cookies = new Map<string, string>();
  constructor(readonly ip = '198.51.100.7') {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cf-connecting-ip', this.ip);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await worker(path, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  post(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Opens a page with a form and posts it back with the page's CSRF token. */
  async submit(formPage: string, action: string, fields: Record<string, string>): Promise<Response> {
    const page = await (await this.fetch(formPage)).text();
    return this.post(action, { _csrf: hidden(page, '_csrf'), ...fields });
  }

  /** The session cookie's value, whatever the cookie is named. */
  session(): string | undefined {
    return [...this.cookies].find(([name]) => name.includes('clickhop_session'))?.[1];
  }
}

export const hidden = (page: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';

/** The text of the element with `id`, as the page shows it (entities decoded). */
export const byId = (page: string, id: string) =>
  (new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page)?.[1] ?? '')
    .replaceAll('&amp;', '&')
    .replaceAll('&#x3D;', '=')
    .replaceAll('&#61;', '=');

export const PASSWORD = 'a long enough password';

export interface Person {
  id: number;
  email: string;
  browser: Browser;
}

let people = 0;

/** Invites a person through src/auth, sets their password through the portal and signs them in. */
export async function signedInPerson(
  role: Role,
  party: { publisher_id?: number; advertiser_id?: number } = {},
  ip = `198.51.100.${100 + (people % 100)}`,
): Promise<Person> {
  const email = `person${++people}-${Date.now().toString(36)}@people.example`;
  const invitation = await inviteUser(
    env.DB,
    tokenOperator,
    { email, role, publisher_id: party.publisher_id ?? null, advertiser_id: party.advertiser_id ?? null },
    Date.now(),
  );
  const browser = new Browser(ip);
  const page = await (await browser.fetch(`/portal/invite?token=${invitation.token}`)).text();
  const accepted = await browser.post('/portal/invite', {
    _csrf: hidden(page, '_csrf'),
    token: invitation.token,
    password: PASSWORD,
    confirm: PASSWORD,
  });
  if (accepted.status !== 303) throw new Error(`invitation answered ${accepted.status}`);
  return { id: invitation.user.id, email, browser };
}

/** Signs in with email and password (the first step only). */
export async function signIn(browser: Browser, email: string, password = PASSWORD): Promise<Response> {
  const page = await (await browser.fetch('/portal/login')).text();
  return browser.post('/portal/login', { _csrf: hidden(page, '_csrf'), email, password });
}

/** The code an authenticator app shows now for a base32 secret read from a page. */
export const codeFor = (base32: string, atMs = Date.now()) => totpAt(fromBase32(base32) as Uint8Array, atMs);

/** Enrols a signed-in person from the account page; answers the secret and the recovery codes. */
export async function enrol(browser: Browser): Promise<{ secret: string; recoveryCodes: string[] }> {
  const page = await (await browser.fetch('/portal/account/totp')).text();
  const secret = byId(page, 'totp-secret');
  const done = await browser.post('/portal/account/totp', { _csrf: hidden(page, '_csrf'), code: codeFor(secret) });
  const text = await done.text();
  if (done.status !== 200) throw new Error(`enrolment answered ${done.status}`);
  return { secret, recoveryCodes: byId(text, 'recovery-codes').trim().split('\n') };
}

/** A six-digit code no step of the drift window has now: certainly wrong. */
export function wrongCodeFor(base32: string): string {
  const now = Date.now();
  const window = new Set([-30_000, 0, 30_000, 60_000].map((d) => codeFor(base32, now + d)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!window.has(code)) return code;
  }
}
