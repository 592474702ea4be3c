// A person in the portal, for tests through the Worker: a cookie jar that behaves like a browser
// (one network address, cleared cookies forgotten), the forms' CSRF tokens read from the pages,
// people invited, signed in and enrolled through the real pages, and readers of the HTML.
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { inviteUser, tokenOperator } from '../src/auth';
import type { Role } from '../src/auth/principal';
import { fromBase32, totpAt } from '../src/auth/totp';
import { worker } from './helpers';

export interface PortalPage {
  status: number;
  text: string;
}

export class PortalPerson {
  cookies = new Map<string, string>();
  /** The session's form token, added to `post`; `signedIn` reads it from the account page. */
  csrf = '';
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

  async page(path: string): Promise<PortalPage> {
    const response = await this.fetch(path);
    return { status: response.status, text: await response.text() };
  }

  /** Posts exactly these fields as a form (no token added): the raw answer. */
  send(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Posts a form; the session's CSRF token is added unless `csrf` says otherwise. */
  async post(path: string, fields: Record<string, string | string[]>, csrf: string | null = this.csrf) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    if (csrf !== null) body.set('_csrf', csrf);
    const response = await this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    return { status: response.status, text: await response.text() };
  }

  /** The CSRF token of the form on `path` (and its cookie, for pre-session forms). */
  async formToken(path: string): Promise<string> {
    return hidden(await (await this.fetch(path)).text(), '_csrf');
  }

  /** Opens a page with a form and posts it back with the page's CSRF token. */
  async submit(formPage: string, action: string, fields: Record<string, string>): Promise<Response> {
    return this.send(action, { _csrf: await this.formToken(formPage), ...fields });
  }

  /** The session cookie's value, whatever the cookie is named. */
  session(): string | undefined {
    return [...this.cookies].find(([name]) => name.includes('clickhop_session'))?.[1];
  }
}

/** The value of a hidden (or any) input named `name` in a page. */
export const hidden = (page: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';

/** The text of the element with `id`, as the page shows it (entities decoded). */
export const byId = (page: string, id: string) =>
  (new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page)?.[1] ?? '')
    .replaceAll('&amp;', '&')
    .replaceAll('&#x3D;', '=')
    .replaceAll('&#61;', '=');

export const PASSWORD = 'portal test password';

/** Invites `email` as a publisher of `publisherId` and sets PASSWORD through the invitation page. */
export async function personWithPassword(email: string, publisherId: number, ip?: string): Promise<PortalPerson> {
  const { token } = await inviteUser(
    env.DB,
    tokenOperator,
    { email, role: 'publisher', publisher_id: publisherId, advertiser_id: null },
    Date.now(),
  );
  const person = new PortalPerson(ip);
  const _csrf = await person.formToken(`/portal/invite?token=${token}`);
  const accepted = await person.send('/portal/invite', { _csrf, token, password: PASSWORD, confirm: PASSWORD });
  if (accepted.status !== 303) throw new Error(`invitation answered ${accepted.status}`);
  return person;
}

export interface Person {
  id: number;
  email: string;
  browser: PortalPerson;
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
  const browser = new PortalPerson(ip);
  const accepted = await browser.submit(`/portal/invite?token=${invitation.token}`, '/portal/invite', {
    token: invitation.token,
    password: PASSWORD,
    confirm: PASSWORD,
  });
  if (accepted.status !== 303) throw new Error(`invitation answered ${accepted.status}`);
  return { id: invitation.user.id, email, browser };
}

/** Invites a person through src/auth, accepts the invitation in the portal: signed in, with the
 * account page's form token in `csrf`. */
export async function signedIn(
  email: string,
  input: Omit<Parameters<typeof inviteUser>[2], 'email'>,
): Promise<PortalPerson> {
  const { token } = await inviteUser(env.DB, tokenOperator, { email, ...input }, Date.now());
  const person = new PortalPerson('198.51.100.78');
  person.csrf = await person.formToken(`/portal/invite?token=${token}`);
  const accepted = await person.post('/portal/invite', { token, password: PASSWORD, confirm: PASSWORD });
  expect(accepted.status).toBe(303);
  person.csrf = await person.formToken('/portal/account');
  return person;
}

/** Signs in with email and password (the first step only). */
export function signIn(person: PortalPerson, email: string, password = PASSWORD): Promise<Response> {
  return person.submit('/portal/login', '/portal/login', { email, password });
}

/** The code an authenticator app shows now for a base32 secret read from a page. */
export const codeFor = (base32: string, atMs = Date.now()) => totpAt(fromBase32(base32) as Uint8Array, atMs);

/** Enrols a signed-in person from the account page; answers the secret and the recovery codes. */
export async function enrol(browser: PortalPerson): Promise<{ secret: string; recoveryCodes: string[] }> {
  const page = await (await browser.fetch('/portal/account/totp')).text();
  const secret = byId(page, 'totp-secret');
  const done = await browser.send('/portal/account/totp', { _csrf: hidden(page, '_csrf'), code: codeFor(secret) });
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

/** The HTML of the element with this id (the first `<tag id="...">` to its matching close). */
export function elementById(page: string, id: string): string {
  const open = new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>`).exec(page);
  if (!open) return '';
  const tag = open[1] as string;
  let depth = 0;
  const pattern = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  pattern.lastIndex = open.index;
  for (let m = pattern.exec(page); m; m = pattern.exec(page)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return page.slice(open.index, m.index + m[0].length);
  }
  return page.slice(open.index);
}

/** The table rows of an HTML fragment carrying `data-<attribute>`, by that attribute's value. */
export function rowsBy(fragment: string, attribute: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of fragment.matchAll(new RegExp(`<tr data-${attribute}="([^"]+)">([\\s\\S]*?)</tr>`, 'g'))) {
    rows.set(m[1] as string, m[2] as string);
  }
  return rows;
}

/** Text of an HTML fragment: tags dropped, entities of the escaping tag decoded, spaces folded. */
export function textOf(fragment: string): string {
  return (
    fragment
      // Inline elements join their neighbours' text; the others separate it.
      .replace(/<\/?(strong|em|code|a|time)\b[^>]*>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
      .replace(/\s+/g, ' ')
      .trim()
  );
}
