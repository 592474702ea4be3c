// Landing URL building (macros, click parameter, fragments) and the deep-link allow-list.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildLandingUrl, checkDeepLink, unknownLandingMacros } from '../../src/click/landing';

const CLICK_ID = 'AQFhbHBoYWJldGFnYW1tYWRlbHRhZXBzaWxvbnpldGFldGFf';

describe('buildLandingUrl', () => {
  it('adds the click parameter to a URL without a query', () => {
    expect(buildLandingUrl('https://shop.example/landing', 'click_id', { click_id: CLICK_ID })).toBe(
      `https://shop.example/landing?click_id=${CLICK_ID}`,
    );
  });

  it('keeps the existing query and puts the click parameter before the #fragment', () => {
    expect(buildLandingUrl('https://shop.example/l?src=aff&x=1#top', 'cid', { click_id: CLICK_ID })).toBe(
      `https://shop.example/l?src=aff&x=1&cid=${CLICK_ID}#top`,
    );
    expect(buildLandingUrl('https://shop.example/l#/spa?route=1', 'cid', { click_id: CLICK_ID })).toBe(
      `https://shop.example/l?cid=${CLICK_ID}#/spa?route=1`,
    );
  });

  it('does not add a stray separator after a trailing ? or &', () => {
    expect(buildLandingUrl('https://shop.example/l?', 'cid', { click_id: 'x' })).toBe('https://shop.example/l?cid=x');
    expect(buildLandingUrl('https://shop.example/l?a=1&', 'cid', { click_id: 'x' })).toBe(
      'https://shop.example/l?a=1&cid=x',
    );
  });

  it('fills the {click_id} macro instead of adding a parameter', () => {
    const url = buildLandingUrl('https://shop.example/l?ref={click_id}&src=aff#f', 'click_id', { click_id: CLICK_ID });
    expect(url).toBe(`https://shop.example/l?ref=${CLICK_ID}&src=aff#f`);
  });

  it('fills every known macro URL-encoded, and leaves unknown ones untouched', () => {
    const url = buildLandingUrl(
      'https://shop.example/{offer_id}/p?cid={click_id}&pub={publisher_id}&a={sub1}&b={sub2}&c={sub3}&d={sub4}&e={sub5}&z={zzz}',
      'click_id',
      {
        click_id: CLICK_ID,
        offer_id: '12',
        publisher_id: '34',
        sub1: 'a&b=c',
        sub2: 'x#y',
        sub3: 'two words',
        sub4: 'café ✓ 日本',
        sub5: '',
      },
    );
    expect(url).toBe(
      `https://shop.example/12/p?cid=${CLICK_ID}&pub=34&a=a%26b%3Dc&b=x%23y&c=two%20words&d=caf%C3%A9%20%E2%9C%93%20%E6%97%A5%E6%9C%AC&e=&z={zzz}`,
    );
  });

  it('round-trips any sub ID value through the built URL (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 20 }), (sub1, sub2) => {
        const url = new URL(
          buildLandingUrl('https://shop.example/l?s1={sub1}&cid={click_id}&s2={sub2}#frag', 'click_id', {
            click_id: CLICK_ID,
            sub1,
            sub2,
          }),
        );
        expect(url.searchParams.get('s1')).toBe(sub1);
        expect(url.searchParams.get('s2')).toBe(sub2);
        expect(url.searchParams.get('cid')).toBe(CLICK_ID);
        expect(url.hash).toBe('#frag');
        expect(url.host).toBe('shop.example');
      }),
      { numRuns: 300 },
    );
  });

  it('uses an allowed deep link in place of the landing URL, keeping its query and fragment', () => {
    expect(
      buildLandingUrl(
        'https://shop.example/landing?src=aff',
        'cid',
        { click_id: 'x' },
        'https://shop.example/p/1?c=red#reviews',
      ),
    ).toBe('https://shop.example/p/1?c=red&cid=x#reviews');
  });

  it('routes a deep link through {deep_link} when the landing URL asks for it', () => {
    const deep = 'https://shop.example/p?a=1&b=2';
    expect(
      buildLandingUrl(
        'https://track.shop.example/r?to={deep_link}&cid={click_id}',
        'click_id',
        { click_id: 'x', deep_link: deep },
        deep,
      ),
    ).toBe(`https://track.shop.example/r?to=${encodeURIComponent(deep)}&cid=x`);
  });
});

describe('unknownLandingMacros', () => {
  it('lists names in braces that are not landing macros, once each', () => {
    expect(unknownLandingMacros('https://x.example/?a={click_id}&b={clickid}&c={clickid}&d={foo_1}')).toEqual([
      'clickid',
      'foo_1',
    ]);
    expect(unknownLandingMacros('https://x.example/{sub1}/{sub5}/{offer_id}/{publisher_id}/{deep_link}')).toEqual([]);
  });

  it('treats macro names as case sensitive', () => {
    expect(unknownLandingMacros('https://x.example/?cid={CLICK_ID}')).toEqual(['CLICK_ID']);
    expect(unknownLandingMacros('https://x.example/?cid={click-id}&s={Sub1}')).toEqual(['click-id', 'Sub1']);
  });
});

describe('checkDeepLink', () => {
  const hosts = ['shop.example', '*.brand.example'];

  it.each([
    'https://shop.example/x',
    'http://shop.example/x?y=1#z',
    'HTTPS://SHOP.EXAMPLE/x',
    'https://Shop.Example',
    'https://shop.example:443/x',
    'https://brand.example/',
    'https://www.brand.example/a',
    'https://a.b.brand.example/a',
    'https://%73hop.example/x',
  ])('allows %s', (raw) => {
    expect(checkDeepLink(raw, hosts)).toMatchObject({ ok: true });
  });

  it('returns a normalized URL (lowercase scheme and host)', () => {
    expect(checkDeepLink('HTTPS://SHOP.EXAMPLE/Path?Q=1', hosts)).toEqual({
      ok: true,
      url: 'https://shop.example/Path?Q=1',
    });
  });

  it.each([
    ['scheme-relative', '//evil.com'],
    ['scheme-relative to an allowed host', '//shop.example/x'],
    ['another host', 'https://evil.com'],
    ['allowed name as a subdomain of another host', 'https://shop.example.evil.com/'],
    ['allowed name as a suffix without a dot', 'https://evilshop.example/'],
    ['userinfo with the allowed host first', 'https://shop.example@evil.com/'],
    ['userinfo with password', 'https://shop.example:pw@evil.com/'],
    ['userinfo on the allowed host', 'https://user@shop.example/'],
    ['backslash before @', 'https://evil.com\\@shop.example'],
    ['backslash as a slash', 'https:\\\\evil.com'],
    ['backslash after the host', 'https://shop.example\\.evil.com/'],
    ['javascript:', 'javascript:alert(1)'],
    ['javascript: mixed case', 'JaVaScRiPt:alert(1)//https://shop.example'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['ftp:', 'ftp://shop.example/x'],
    ['no scheme', 'shop.example/x'],
    ['relative path', '/x'],
    ['three slashes', 'https:///evil.com'],
    ['one slash', 'https:/evil.com'],
    ['no slashes', 'https:evil.com'],
    ['non-standard port', 'https://shop.example:8443/x'],
    ['port on plain http', 'http://shop.example:8080/'],
    ['tab in the scheme', 'ht\ttps://shop.example/'],
    ['tab in the host', 'https://shop.exa\tmple/'],
    ['newline in the host', 'https://shop.\nexample/'],
    ['carriage return', 'https://shop.example/\r\nx'],
    ['leading space', ' https://evil.com'],
    ['NUL byte', 'https://shop.example\u0000.evil.com/'],
    ['percent-encoded dot joins another host', 'https://shop.example%2eevil.com/'],
    ['percent-encoded @', 'https://shop.example%40evil.com/'],
    ['percent-encoded slash', 'https://evil.com%2f.shop.example/'],
    ['percent-encoded backslash and @', 'https://evil.com%5c@shop.example/'],
    ['wildcard does not match a look-alike', 'https://brand.example.evil.com/'],
    ['wildcard does not match a suffix without a dot', 'https://evilbrand.example/'],
    ['trailing dot host', 'https://shop.example./'],
    ['IP address', 'https://127.0.0.1/'],
    ['unicode look-alike host', 'https://shоp.example/'],
    ['too long', `https://shop.example/${'a'.repeat(2100)}`],
    ['empty host', 'https://'],
  ])('refuses %s', (_name, raw) => {
    const result = checkDeepLink(raw, hosts);
    expect(result.ok).toBe(false);
    expect(result).toHaveProperty('reason');
  });

  it('refuses everything when the offer has no allow-list', () => {
    expect(checkDeepLink('https://shop.example/', [])).toMatchObject({ ok: false });
  });

  it('compares allow-list entries case-insensitively', () => {
    expect(checkDeepLink('https://shop.example/', ['SHOP.Example'])).toMatchObject({ ok: true });
  });

  it('never allows a host outside the allow-list (property over hosts)', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('', '/', '/p?q=1', '#f'),
        (labels, tail) => {
          const host = labels.join('.');
          const result = checkDeepLink(`https://${host}${tail}`, hosts);
          const expected = host === 'shop.example' || host === 'brand.example' || host.endsWith('.brand.example');
          expect(result.ok).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('allows only hosts on the list when a trick is prefixed or suffixed (property)', () => {
    const noise = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(noise, noise, (before, after) => {
        const raw = `https://${before}shop.example${after}`;
        const result = checkDeepLink(raw, ['shop.example']);
        if (result.ok) expect(new URL(result.url).hostname).toBe('shop.example');
      }),
      { numRuns: 2000 },
    );
  });
});
