// Credentials sent where they do not belong (issue 22): every credential form Clickhop issues
// (API keys, postback keys, signing secrets, session ids, invitation tokens) and the ADMIN_TOKEN
// by value are redacted from the postback log the advertiser reads and from every error answer,
// whichever postback field carried them.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { inviteUser, tokenOperator } from '../../src/auth';
import { SESSION_COOKIE } from '../../src/auth/sessions';
import { redactSecrets } from '../../src/lib/log';
import { CREDENTIAL_PREFIXES, deploymentSecrets, redactKeys } from '../../src/lib/redact';
import { ADMIN, adminOk, createFixture, type Fixture, worker } from '../helpers';
import { personWithPassword } from '../portal-helpers';
import { mintClick } from '../postback-helpers';

const ADMIN_TOKEN = ADMIN.authorization.slice('Bearer '.length);

let f: Fixture;
const credentials: Record<string, string> = {};

beforeAll(async () => {
  f = await createFixture();
  const other = await createFixture();
  credentials['operator API key'] = (await adminOk<{ key: string }>('POST', '/api-keys', { role: 'operator' })).key;
  credentials['publisher API key'] = (
    await adminOk<{ key: string }>('POST', '/api-keys', { role: 'publisher', publisher_id: f.publisherId })
  ).key;
  credentials["another advertiser's postback key"] = other.postbackKey;
  credentials['signing secret'] = (
    await adminOk<{ signing_secret: string }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'https://hooks.example.com/clickhop',
      format: 'json',
    })
  ).signing_secret;
  const person = await personWithPassword('redaction@blog.example', f.publisherId);
  credentials['session id'] = person.cookies.get(SESSION_COOKIE) as string;
  credentials['invitation token'] = (
    await inviteUser(
      env.DB,
      tokenOperator,
      { email: 'invited-later@blog.example', role: 'operator', publisher_id: null, advertiser_id: null },
      Date.now(),
    )
  ).token;
  credentials.ADMIN_TOKEN = ADMIN_TOKEN;
});

/** The advertiser's own postback log rows since `afterId`, as it reads them (and as stored). */
async function logSince(afterId: number) {
  const { results } = await env.DB.prepare('SELECT * FROM postback_log WHERE id > ? ORDER BY id')
    .bind(afterId)
    .all<Record<string, unknown>>();
  const api = await adminOk<{ data: unknown[] }>('GET', `/postbacks?advertiser_id=${f.advertiserId}&limit=200`);
  return JSON.stringify(results) + JSON.stringify(api);
}

const lastId = async () =>
  (await env.DB.prepare('SELECT coalesce(max(id), 0) AS id FROM postback_log').first<{ id: number }>())?.id ?? 0;

describe('every credential Clickhop issues', () => {
  it('has a shape the redaction knows', () => {
    for (const [name, value] of Object.entries(credentials)) {
      if (name === 'ADMIN_TOKEN') continue;
      expect(
        CREDENTIAL_PREFIXES.some((prefix) => value.startsWith(`${prefix}_`)),
        name,
      ).toBe(true);
      expect(redactKeys(`id=${value}.`), name).toBe('id=[redacted].');
      expect(redactSecrets(`saw ${value} there`), name).not.toContain(value);
    }
  });

  const fields = ['event', 'click_id', 'order_id', 'sub1', 'voucher', 'description'] as const;
  for (const field of fields) {
    it(`sent as ${field} (and as a parameter name) is neither stored in the log nor echoed`, async () => {
      const before = await lastId();
      const answers: string[] = [];
      for (const value of Object.values(credentials)) {
        const clickId = field === 'click_id' ? value : await mintClick(f);
        for (const params of [
          { click_id: clickId, key: f.postbackKey, order_id: `O-${crypto.randomUUID()}`, [field]: value },
          { click_id: clickId, [field]: value },
          { click_id: clickId, key: f.postbackKey, [value]: 'x', event: value },
        ]) {
          const response = await worker(`/postback?${new URLSearchParams(params)}`, {
            headers: { 'cf-connecting-ip': '192.0.2.60' },
          });
          answers.push(`${response.status} ${await response.text()}`);
        }
      }
      const stored = await logSince(before);
      expect(answers.some((a) => a.startsWith('4'))).toBe(true);
      expect(stored).toContain('[redacted]');
      for (const [name, value] of Object.entries(credentials)) {
        expect(stored.includes(value), `${name} in the postback log`).toBe(false);
        // A refused postback's answer quotes what was wrong; an accepted one gives back the
        // advertiser's own order ID and sub IDs as stored on the conversion.
        const refusals = answers.filter((a) => !a.startsWith('200'));
        expect(refusals.join('\n').includes(value), `${name} in an error answer`).toBe(false);
      }
    });
  }
});

describe('the ADMIN_TOKEN by value', () => {
  it('is redacted from admin API error answers that quote what was sent', async () => {
    const response = await worker('/api/v1/advertisers', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Shop', [ADMIN_TOKEN]: 1, [credentials['operator API key'] as string]: 2 }),
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain('[redacted]');
    expect(text).not.toContain(ADMIN_TOKEN);
    expect(text).not.toContain(credentials['operator API key']);
  });

  it('is not redacted when too short to be told from ordinary text', () => {
    expect(deploymentSecrets({ ADMIN_TOKEN: 'short' })).toEqual([]);
    expect(deploymentSecrets({ ADMIN_TOKEN })).toEqual([ADMIN_TOKEN]);
    expect(redactKeys(`a ${ADMIN_TOKEN} b`, deploymentSecrets({ ADMIN_TOKEN }))).toBe('a [redacted] b');
  });
});
