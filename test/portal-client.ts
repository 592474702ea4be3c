// A person using the portal, for tests: a cookie jar (what a browser sends back), one network
// address, and the forms' CSRF tokens read from the pages, all through the Worker.
import { env } from 'cloudflare:workers';
import { inviteUser, tokenOperator } from '../src/auth';
import { worker } from './helpers';

export const hidden = (page: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';

export class PortalClient {
  cookies = new Map<string, string>();
  constructor(public ip = '198.51.100.7') {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cf-connecting-ip', this.ip);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await worker(path, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
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

  /** The CSRF token of the form on `path` (and its cookie, for pre-session forms). */
  async csrf(path: string): Promise<string> {
    return hidden(await (await this.fetch(path)).text(), '_csrf');
  }

  async signIn(email: string, password: string): Promise<Response> {
    return this.post('/portal/login', { _csrf: await this.csrf('/portal/login'), email, password });
  }
}

export const PASSWORD = 'portal test password';

/** Invites `email` as a publisher of `publisherId` and sets PASSWORD through the invitation page. */
export async function personWithPassword(email: string, publisherId: number, ip?: string): Promise<PortalClient> {
  const { token } = await inviteUser(
    env.DB,
    tokenOperator,
    { email, role: 'publisher', publisher_id: publisherId, advertiser_id: null },
    Date.now(),
  );
  const client = new PortalClient(ip);
  const _csrf = await client.csrf(`/portal/invite?token=${token}`);
  const accepted = await client.post('/portal/invite', { _csrf, token, password: PASSWORD, confirm: PASSWORD });
  if (accepted.status !== 303) throw new Error(`invitation answered ${accepted.status}`);
  return client;
}
