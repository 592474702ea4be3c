// Destination safety (SSRF): what an endpoint URL may point at, checked at save and at send.
import { describe, expect, it } from 'vitest';
import { checkDestination } from '../../src/notify/destination';
import { admin, adminOk, createFixture } from '../helpers';

const PRODUCTION = { ALLOW_PRIVATE_DESTINATIONS: 'false' };
const DEVELOPMENT = { ALLOW_PRIVATE_DESTINATIONS: 'true' };

describe('checkDestination in production (ALLOW_PRIVATE_DESTINATIONS "false")', () => {
  it.each([
    'https://hooks.publisher.example/notify',
    'http://www.publisher-domain.com/3661/pixel.php?clk=a',
    'https://hooks.publisher.example:443/x',
    'http://hooks.publisher.example:80/x',
    'http://hooks.publisher.example:443/x',
    'https://93.184.216.34/x',
    'https://[2606:4700:4700::1111]/x',
  ])('allows %s', (url) => {
    expect(checkDestination(url, PRODUCTION)).toMatchObject({ ok: true });
  });

  it.each([
    ['ftp://hooks.publisher.example/x', 'must use http or https'],
    ['file:///etc/passwd', 'must use http or https'],
    ['javascript:alert(1)', 'must use http or https'],
    ['gopher://hooks.publisher.example/x', 'must use http or https'],
    ['/relative/path', 'is not a valid absolute URL'],
    ['https://user:pass@hooks.publisher.example/x', 'must not contain user information (user:password@)'],
    ['https://hooks.publisher.example:8443/x', 'port 8443 is not allowed (only 80 and 443)'],
    ['http://hooks.publisher.example:22/x', 'port 22 is not allowed (only 80 and 443)'],
    ['http://127.0.0.1/x', 'address 127.0.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://127.1/x', 'address 127.0.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://2130706433/', 'address 127.0.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://0x7f000001/', 'address 127.0.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://0177.0.0.1/', 'address 127.0.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://0x7f.1/', 'address 127.0.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://0/', 'address 0.0.0.0 is not public (loopback, private, link-local or reserved)'],
    ['http://10.1.2.3/', 'address 10.1.2.3 is not public (loopback, private, link-local or reserved)'],
    ['http://172.16.0.1/', 'address 172.16.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://192.168.1.1/', 'address 192.168.1.1 is not public (loopback, private, link-local or reserved)'],
    [
      'http://169.254.169.254/latest/meta-data/',
      'address 169.254.169.254 is not public (loopback, private, link-local or reserved)',
    ],
    ['http://100.64.0.1/', 'address 100.64.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://224.0.0.1/', 'address 224.0.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://127.0.0.1./', 'address 127.0.0.1 is not public (loopback, private, link-local or reserved)'],
    ['http://[::1]/', 'address [::1] is not public (loopback, private, link-local or reserved)'],
    ['http://[::]/', 'address [::] is not public (loopback, private, link-local or reserved)'],
    ['http://[::ffff:127.0.0.1]/', 'address [::ffff:7f00:1] is not public (loopback, private, link-local or reserved)'],
    ['http://[::ffff:10.0.0.1]/', 'address [::ffff:a00:1] is not public (loopback, private, link-local or reserved)'],
    ['http://[::127.0.0.1]/', 'address [::7f00:1] is not public (loopback, private, link-local or reserved)'],
    ['http://[fe80::1]/', 'address [fe80::1] is not public (loopback, private, link-local or reserved)'],
    ['http://[fd00::1]/', 'address [fd00::1] is not public (loopback, private, link-local or reserved)'],
    [
      'http://[64:ff9b::7f00:1]/',
      'address [64:ff9b::7f00:1] is not public (loopback, private, link-local or reserved)',
    ],
    ['http://localhost/', 'host localhost is a local name'],
    ['http://LOCALHOST./x', 'host localhost is a local name'],
    ['http://api.localhost/', 'host api.localhost is a local name'],
    ['http://printer.local/', 'host printer.local is a local name'],
    ['http://metadata.google.internal/', 'host metadata.google.internal is a local name'],
    ['http://router.home.arpa/', 'host router.home.arpa is a local name'],
    ['http://intranet/', 'host intranet is not a public domain name'],
    ['http://hooks.publisher.example\\@evil/', 'contains spaces, backslashes or control characters'],
    ['http://hooks.publisher.example/a b', 'contains spaces, backslashes or control characters'],
  ])('refuses %s', (url, reason) => {
    expect(checkDestination(url, PRODUCTION)).toEqual({ ok: false, reason });
  });

  it('treats a missing setting as production', () => {
    expect(checkDestination('http://127.0.0.1/', {})).toMatchObject({ ok: false });
  });
});

describe('checkDestination in development (ALLOW_PRIVATE_DESTINATIONS "true")', () => {
  it.each(['http://127.0.0.1:8787/dev/receiver', 'http://localhost:3000/x', 'http://[::1]:9000/', 'http://10.0.0.5/'])(
    'allows %s',
    (url) => {
      expect(checkDestination(url, DEVELOPMENT)).toMatchObject({ ok: true });
    },
  );

  it('still refuses other schemes and credentials', () => {
    expect(checkDestination('ftp://127.0.0.1/', DEVELOPMENT)).toEqual({ ok: false, reason: 'must use http or https' });
    expect(checkDestination('http://a:b@127.0.0.1/', DEVELOPMENT)).toMatchObject({ ok: false });
  });
});

describe('endpoint URLs are checked when saved', () => {
  it('refuses a URL whose host comes from a macro', async () => {
    const f = await createFixture();
    const response = await admin('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'https://{sub1}.publisher.example/x',
      format: 'json',
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: {
        code: 'invalid_request',
        fields: { url: 'macros are allowed in the path and query only, not in the host' },
      },
    });
  });

  it('refuses an unsafe destination with the reason, and accepts loopback only because tests allow it', async () => {
    const f = await createFixture();
    const refused = await admin('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'gopher://127.0.0.1/x',
      format: 'json',
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { fields: { url: 'must use http or https' } } });
    const allowed = await adminOk<{ url: string }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'http://127.0.0.1:9/x',
      format: 'json',
    });
    expect(allowed.url).toBe('http://127.0.0.1:9/x');
  });
});
