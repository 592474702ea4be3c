// Search engine and phrase from the Referer; bot / link-preview detection and device class.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deviceClass, isBot } from '../../src/click/agent';
import { searchSource } from '../../src/click/referrer';

describe('searchSource', () => {
  it.each([
    ['https://www.google.com/search?q=running+shoes&oq=run', 'Google', 'running shoes'],
    ['https://www.google.co.uk/search?q=caf%C3%A9%20au%20lait', 'Google', 'café au lait'],
    ['https://www.google.de/url?sa=t&source=web', 'Google', null],
    ['https://www.bing.com/search?q=red+dress&form=QBLH', 'Bing', 'red dress'],
    ['https://search.yahoo.com/search?p=cheap+flights&fr=yfp', 'Yahoo', 'cheap flights'],
    ['https://search.yahoo.co.jp/search?p=%E6%97%A5%E6%9C%AC', 'Yahoo', '日本'],
    ['https://duckduckgo.com/?q=privacy+browser&t=h_', 'DuckDuckGo', 'privacy browser'],
    ['https://duckduckgo.com/', 'DuckDuckGo', null],
    ['https://yandex.ru/search/?text=%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C&lr=213', 'Yandex', 'купить'],
    ['https://yandex.com/search/?text=buy+tv', 'Yandex', 'buy tv'],
    ['https://ya.ru/search/?text=tv', 'Yandex', 'tv'],
    ['https://www.baidu.com/s?wd=%E6%89%8B%E6%9C%BA&rsv_spt=1', 'Baidu', '手机'],
    ['https://m.baidu.com/s?word=phone', 'Baidu', 'phone'],
    ['https://www.ecosia.org/search?q=trees', 'Ecosia', 'trees'],
  ])('reads %s as %s / %s', (referrer, engine, phrase) => {
    expect(searchSource(referrer)).toEqual({ engine, phrase });
  });

  it.each([
    null,
    undefined,
    '',
    'not a url',
    'https://blog.example/post?q=shoes',
    'https://google.com.evil.example/search?q=x',
    'https://notgoogle.com/search?q=x',
    'https://bing.com.evil.example/?q=x',
    'android-app://com.google.android.gm/',
  ])('finds no engine in %s', (referrer) => {
    expect(searchSource(referrer)).toEqual({ engine: null, phrase: null });
  });

  it('trims the phrase and caps it at 255 characters', () => {
    expect(searchSource('https://www.google.com/search?q=++spaced++')).toEqual({ engine: 'Google', phrase: 'spaced' });
    expect(searchSource(`https://www.bing.com/search?q=${'a'.repeat(400)}`).phrase).toHaveLength(255);
  });

  it('reads the host case-insensitively', () => {
    expect(searchSource('HTTPS://WWW.GOOGLE.COM/search?q=x').engine).toBe('Google');
  });

  it('finds the same engine as parsing every referrer with URL would (the host is pre-filtered)', () => {
    // The reference: what the engine is when the whole referrer is parsed as a URL.
    const viaUrl = (referrer: string) => {
      try {
        const url = new URL(referrer);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
        return searchSource(`https://${url.hostname}/`).engine;
      } catch {
        return null;
      }
    };
    const host = fc.constantFrom(
      'www.google.com',
      'google.co.uk',
      'WWW.BING.COM',
      'search.yahoo.co.jp',
      'duckduckgo.com',
      'ya.ru',
      'www.baidu.com',
      'notgoogle.com',
      'google.com.evil.example',
      'bing.com.example',
      'shop.example',
      'localhost',
    );
    const referrer = fc
      .record({
        scheme: fc.constantFrom('https', 'http', 'HTTPS', 'ftp'),
        userInfo: fc.constantFrom('', 'user@', 'user:pw@'),
        host,
        port: fc.constantFrom('', ':443', ':8080', ':'),
        rest: fc.constantFrom('', '/', '/search?q=shoes', '?q=x', '#frag', '/a/b?p=cheap&q=x'),
      })
      .map((r) => `${r.scheme}://${r.userInfo}${r.host}${r.port}${r.rest}`);
    let tried = 0;
    fc.assert(
      fc.property(referrer, (text) => {
        tried++;
        expect(searchSource(text).engine).toBe(viaUrl(text));
      }),
      { numRuns: 500 },
    );
    expect(tried).toBe(500);
  });
});

describe('isBot', () => {
  it.each([
    ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)'],
    ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'],
    ['Slackbot 1.0 (+https://api.slack.com/robots)'],
    ['Twitterbot/1.0'],
    ['LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)'],
    ['WhatsApp/2.23.20.0'],
    ['TelegramBot (like TwitterBot)'],
    ['Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)'],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
    ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0',
    ],
    ['Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)'],
    ['Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36'],
    ['curl/8.5.0'],
    ['Wget/1.21'],
    ['python-requests/2.31.0'],
    ['Go-http-client/2.0'],
    ['Python-urllib/3.11'],
    ['Java/1.8.0_392'],
    ['Scrapy/2.11.0 (+https://scrapy.org)'],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Chrome-Lighthouse',
    ],
    [
      'Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse',
    ],
    ['Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)'],
    ['Pinterest/0.2 (+http://www.pinterest.com/bot.html)'],
    [
      'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    ],
  ])('flags %s', (ua) => {
    expect(isBot(ua)).toBe(true);
    expect(deviceClass(ua)).toBe('bot');
  });

  it('flags a missing or empty user agent', () => {
    expect(isBot(null)).toBe(true);
    expect(isBot(undefined)).toBe(true);
    expect(isBot('')).toBe(true);
  });

  it.each([
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
  ])('does not flag the browser %s', (ua) => {
    expect(isBot(ua)).toBe(false);
  });

  it.each([
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]',
    ],
    [
      'Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 [Pinterest/Android]',
    ],
  ])("does not flag Pinterest's in-app browser %s", (ua) => {
    expect(isBot(ua)).toBe(false);
    expect(deviceClass(ua)).toBe('mobile');
  });

  it.each([
    [
      'Mozilla/5.0 (Linux; Android 10; RoboBot) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
    ],
    [
      'Mozilla/5.0 (Linux; Android 12; KingKong Robot Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
    ],
    [
      'Mozilla/5.0 (Linux; U; Android 9; en-us; Robot) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.0.0 Mobile Safari/537.36',
    ],
  ])('does not flag a phone whose model name ends in "bot": %s', (ua) => {
    expect(isBot(ua)).toBe(false);
    expect(deviceClass(ua)).toBe('mobile');
  });
});

describe('deviceClass', () => {
  it.each([
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36', 'desktop'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15', 'desktop'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148', 'mobile'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36', 'mobile'],
    ['Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148', 'tablet'],
    ['Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 Chrome/130.0 Safari/537.36', 'tablet'],
    ['Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 Silk/108.0 like Chrome/108.0 Safari/537.36', 'tablet'],
    ['Twitterbot/1.0', 'bot'],
  ])('classifies %s as %s', (ua, device) => {
    expect(deviceClass(ua)).toBe(device);
  });

  it('answers unknown without a user agent', () => {
    expect(deviceClass(null)).toBe('unknown');
    expect(deviceClass('')).toBe('unknown');
  });
});
