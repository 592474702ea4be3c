// A person in the portal, for tests through the Worker: accepts an invitation, keeps the session
// cookie, posts forms with the session's CSRF token, and reads pages as HTML to parse.
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { inviteUser, tokenOperator } from '../src/auth';
import { worker } from './helpers';

export interface PortalPage {
  status: number;
  text: string;
}

export class PortalPerson {
  cookies = new Map<string, string>();
  csrf = '';

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cf-connecting-ip', '198.51.100.78');
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await worker(path, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  }

  async page(path: string): Promise<PortalPage> {
    const response = await this.fetch(path);
    return { status: response.status, text: await response.text() };
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
}

/** The value of a hidden (or any) input named `name` in a page. */
export const inputValue = (page: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';

/** Invites a person through src/auth, accepts the invitation in the portal: signed in. */
export async function signedIn(
  email: string,
  input: Omit<Parameters<typeof inviteUser>[2], 'email'>,
): Promise<PortalPerson> {
  const { token } = await inviteUser(env.DB, tokenOperator, { email, ...input }, Date.now());
  const person = new PortalPerson();
  const form = await person.page(`/portal/invite?token=${token}`);
  const password = 'portal test password';
  person.csrf = inputValue(form.text, '_csrf');
  const accepted = await person.post('/portal/invite', { token, password, confirm: password });
  expect(accepted.status).toBe(303);
  person.csrf = inputValue((await person.page('/portal/account')).text, '_csrf');
  return person;
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
