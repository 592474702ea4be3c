// A signed-in portal person for tests: accepts an invitation through the real pages, then keeps
// the session cookie and the form token, as a browser would.
import { env } from 'cloudflare:workers';
import { inviteUser, tokenOperator } from '../src/auth';
import { worker } from './helpers';

export class PortalSession {
  private cookies = new Map<string, string>();
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

  async page(path: string): Promise<{ status: number; text: string }> {
    const response = await this.fetch(path);
    return { status: response.status, text: await response.text() };
  }

  async post(path: string, fields: Record<string, string>): Promise<{ status: number; text: string }> {
    const body = new URLSearchParams({ ...fields, _csrf: this.csrf });
    const response = await this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    return { status: response.status, text: await response.text() };
  }
}

const formToken = (page: string) => /name="_csrf" value="([^"]*)"/.exec(page)?.[1] ?? '';

/** A person of `input`'s role, signed in through the invitation page. */
export async function signedIn(
  email: string,
  input: Omit<Parameters<typeof inviteUser>[2], 'email'>,
): Promise<PortalSession> {
  const { token } = await inviteUser(env.DB, tokenOperator, { email, ...input }, Date.now());
  const session = new PortalSession();
  session.csrf = formToken((await session.page(`/portal/invite?token=${token}`)).text);
  const password = 'portal test password';
  const accepted = await session.post('/portal/invite', { token, password, confirm: password });
  if (accepted.status !== 303) throw new Error(`invitation answered ${accepted.status}`);
  session.csrf = formToken((await session.page('/portal/account')).text);
  return session;
}
