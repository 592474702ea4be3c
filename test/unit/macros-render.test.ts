// Macro rendering in publisher URL templates: every canonical and Awin macro, URL-encoding of
// every value, case sensitivity, and the save-time checks (unknown macros, macros in the host).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConversionSnapshot } from '../../src/conversions/snapshot';
import {
  AWIN_MACROS,
  awinTime,
  CANONICAL_MACROS,
  encodeMacroValue,
  hasMacroInAuthority,
  renderTemplate,
  unknownMacros,
} from '../../src/notify/macros';

const snapshot: ConversionSnapshot = {
  event: 'conversion.approved',
  event_time: '2026-11-24T08:00:00.000Z',
  conversion_id: 'cv_abc',
  status: 'approved',
  goal: 'sale',
  offer_id: 12,
  offer_name: 'Summer sale',
  advertiser_id: 3661,
  publisher_id: 45628,
  click_id: 'CLK-1',
  click_time: '2026-11-23T09:05:06.789Z',
  conversion_time: '2026-11-23T10:15:00.000Z',
  order_id: 'ORD/7?x',
  amount: '26.09',
  currency: 'EUR',
  revenue: '2.61',
  payout: '1.64',
  payout_currency: 'GBP',
  voucher: 'SAVE 10%',
  description: 'ignored',
  sub1: 'LINKCMP2013-06',
  sub2: 's2',
  sub3: 's3',
  sub4: 's4',
  sub5: 's5',
  products: [{ sku: 'A1', name: 'Shoe', unit_price: '26.09', quantity: 1, category: null, commission_group: 'CG' }],
  click: {
    referrer: 'https://www.bing.com/search?q=red shoes&x=1',
    search_engine: 'bing',
    search_phrase: 'red shoes',
    country: 'NL',
    device: 'mobile',
    deep_link: null,
  },
};

const PRODUCTS_JSON =
  '[{"sku":"A1","name":"Shoe","unit_price":"26.09","quantity":1,"category":null,"commission_group":"CG"}]';

/** Each macro and the raw (unencoded) value it stands for in `snapshot`. */
const CANONICAL_EXPECTED: Record<string, string> = {
  click_id: 'CLK-1',
  conversion_id: 'cv_abc',
  order_id: 'ORD/7?x',
  event: 'conversion.approved',
  status: 'approved',
  offer_id: '12',
  advertiser_id: '3661',
  publisher_id: '45628',
  sub1: 'LINKCMP2013-06',
  sub2: 's2',
  sub3: 's3',
  sub4: 's4',
  sub5: 's5',
  amount: '26.09',
  payout: '1.64',
  revenue: '2.61',
  currency: 'EUR',
  click_time: '2026-11-23T09:05:06.789Z',
  conversion_time: '2026-11-23T10:15:00.000Z',
  referrer: 'https://www.bing.com/search?q=red shoes&x=1',
  search_engine: 'bing',
  phrase: 'red shoes',
  country: 'NL',
  voucher: 'SAVE 10%',
  products: PRODUCTS_JSON,
  goal: 'sale',
  payout_currency: 'GBP',
  event_time: '2026-11-24T08:00:00.000Z',
  device: 'mobile',
  sub6: '',
  publisher_description: 'ignored',
  creative_id: '',
  creative_group_id: '',
  // Set only on conversion.modified (a snapshot with `previous`).
  previous_amount: '',
  previous_payout: '',
};

const AWIN_EXPECTED: Record<string, string> = {
  transactionId: 'cv_abc',
  orderRef: 'ORD/7?x',
  clickRef: 'LINKCMP2013-06',
  clickRef2: 's2',
  clickRef3: 's3',
  clickRef4: 's4',
  clickRef5: 's5',
  clickRef6: '',
  commission: '1.64',
  // The sale is in EUR, the program pays in GBP: Awin's transaction fields are the program's,
  // the sale's own amount and currency are the tracked ones (no converted amount in this snapshot).
  transactionAmount: '',
  transactionCurrency: 'GBP',
  trackedAmount: '26.09',
  trackedCurrency: 'EUR',
  commissionGroups: '[{"id":"CG","name":"CG","code":"CG"}]',
  clickTime: '2026-11-23 09:05:06',
  clickThroughTime: '2026-11-23 09:05:06',
  transactionDate: '2026-11-23 10:15:00',
  url: 'https://www.bing.com/search?q=red shoes&x=1',
  phrase: 'red shoes',
  searchEngine: 'bing',
  // Awin's product keys; a group the offer has no row for keeps its code as id (cgId).
  products: '[{"productName":"Shoe","unitPrice":"26.09","skuType":"sku","skuCode":"A1","quantity":"1","cgId":"CG"}]',
  affiliateId: '45628',
  merchantId: '3661',
  voucherCode: 'SAVE 10%',
  bannerId: '0',
  groupId: '0',
};

const DESIGN_CANONICAL = [
  'click_id',
  'conversion_id',
  'order_id',
  'event',
  'status',
  'offer_id',
  'advertiser_id',
  'publisher_id',
  'sub1',
  'sub2',
  'sub3',
  'sub4',
  'sub5',
  'amount',
  'payout',
  'revenue',
  'currency',
  'click_time',
  'conversion_time',
  'referrer',
  'search_engine',
  'phrase',
  'country',
  'voucher',
  'products',
];
const DESIGN_AWIN = [
  'transactionId',
  'clickRef',
  'clickRef2',
  'clickRef3',
  'clickRef4',
  'clickRef5',
  'clickRef6',
  'commission',
  'transactionAmount',
  'transactionCurrency',
  'clickTime',
  'transactionDate',
  'url',
  'phrase',
  'searchEngine',
  'products',
  'affiliateId',
  'merchantId',
];

describe('macro tables', () => {
  it('know every name DESIGN.md lists, in both syntaxes', () => {
    for (const name of DESIGN_CANONICAL) expect(Object.keys(CANONICAL_MACROS)).toContain(name);
    for (const name of DESIGN_AWIN) expect(Object.keys(AWIN_MACROS)).toContain(name);
  });

  it('are covered one for one by this test', () => {
    expect(Object.keys(CANONICAL_EXPECTED).sort()).toEqual(Object.keys(CANONICAL_MACROS).sort());
    expect(Object.keys(AWIN_EXPECTED).sort()).toEqual(Object.keys(AWIN_MACROS).sort());
  });
});

describe('renderTemplate', () => {
  it.each(Object.entries(CANONICAL_EXPECTED))('renders {%s} URL-encoded', (name, raw) => {
    expect(renderTemplate(`https://p.example/cb?v={${name}}`, snapshot)).toBe(
      `https://p.example/cb?v=${encodeMacroValue(raw)}`,
    );
  });

  it.each(Object.entries(AWIN_EXPECTED))('renders !!!%s!!! URL-encoded', (name, raw) => {
    expect(renderTemplate(`https://p.example/cb?v=!!!${name}!!!`, snapshot)).toBe(
      `https://p.example/cb?v=${encodeMacroValue(raw)}`,
    );
  });

  it('spells out the encoded forms exactly', () => {
    expect(
      renderTemplate('https://p.example/?o={order_id}&v={voucher}&t={click_time}&a=!!!clickTime!!!', snapshot),
    ).toBe(
      'https://p.example/?o=ORD%2F7%3Fx&v=SAVE%2010%25&t=2026-11-23T09%3A05%3A06.789Z&a=2026-11-23%2009%3A05%3A06',
    );
    expect(renderTemplate('https://p.example/?r={referrer}', snapshot)).toBe(
      'https://p.example/?r=https%3A%2F%2Fwww.bing.com%2Fsearch%3Fq%3Dred%20shoes%26x%3D1',
    );
  });

  it('renders the Awin example URL', () => {
    const template =
      'http://www.publisher-domain.com/!!!merchantId!!!/pixel.php?clk=!!!clickRef!!!&cnv=!!!transactionId!!!&com=!!!commission!!!';
    expect(renderTemplate(template, snapshot)).toBe(
      'http://www.publisher-domain.com/3661/pixel.php?clk=LINKCMP2013-06&cnv=cv_abc&com=1.64',
    );
  });

  it('never lets a value add a query parameter, a path segment or a fragment', () => {
    const hostile = { ...snapshot, sub1: 'a&b=c', sub2: '../admin?x=1#frag', sub3: "!'()*" };
    const url = new URL(renderTemplate('https://p.example/x/{sub2}?s1={sub1}&s3={sub3}&k=1', hostile));
    expect([...url.searchParams.keys()]).toEqual(['s1', 's3', 'k']);
    expect(url.searchParams.get('s1')).toBe('a&b=c');
    expect(url.pathname).toBe('/x/..%2Fadmin%3Fx%3D1%23frag');
    expect(url.hash).toBe('');
    expect(url.search).toBe('?s1=a%26b%3Dc&s3=%21%27%28%29%2A&k=1');
  });

  it('renders missing values (null subs, no click data) as empty strings', () => {
    const bare = { ...snapshot, sub3: null, click_id: null, click: null, click_time: null, voucher: null };
    expect(
      renderTemplate('https://p.example/?a={sub3}&b={click_id}&c={referrer}&d=!!!clickTime!!!&e={voucher}', bare),
    ).toBe('https://p.example/?a=&b=&c=&d=&e=');
  });

  it('encodes a lone surrogate as U+FFFD instead of failing', () => {
    expect(renderTemplate('https://p.example/?a={sub1}', { ...snapshot, sub1: 'x\uD800y' })).toBe(
      'https://p.example/?a=x%EF%BF%BDy',
    );
  });

  it('is one pass: a value that looks like a macro stays text', () => {
    const tricky = { ...snapshot, sub1: '{conversion_id}', sub2: '!!!transactionId!!!' };
    expect(renderTemplate('https://p.example/?a={sub1}&b=!!!clickRef2!!!', tricky)).toBe(
      'https://p.example/?a=%7Bconversion_id%7D&b=%21%21%21transactionId%21%21%21',
    );
  });

  it('is case sensitive: a wrongly cased name is left as written', () => {
    expect(renderTemplate('https://p.example/?a={Click_ID}&b=!!!clickref!!!&c={click_id}', snapshot)).toBe(
      'https://p.example/?a={Click_ID}&b=!!!clickref!!!&c=CLK-1',
    );
  });

  it('keeps any value inert whatever its characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const url = new URL(
          renderTemplate('https://p.example/p/{sub1}?x={sub2}&y=1', { ...snapshot, sub1: a, sub2: b }),
        );
        expect([...url.searchParams.keys()]).toEqual(['x', 'y']);
        expect(url.searchParams.get('x')).toBe(b);
        expect(url.hash).toBe('');
        expect(url.pathname.split('/')).toHaveLength(3);
      }),
    );
  });
});

describe('unknownMacros', () => {
  it('accepts templates made of known macros', () => {
    expect(
      unknownMacros(
        'https://p.example/!!!merchantId!!!/?a={click_id}&b=!!!clickRef6!!!&c={payout}&d=!!!voucherCode!!!',
      ),
    ).toEqual([]);
  });

  it('names every unknown or wrongly cased macro once, as written', () => {
    expect(
      unknownMacros('https://p.example/?a={clickid}&b=!!!clickref!!!&c={Click_ID}&d={clickid}&e=!!!foo!!!&f={sub7}'),
    ).toEqual(['{clickid}', '!!!clickref!!!', '{Click_ID}', '!!!foo!!!', '{sub7}']);
  });

  it('does not take a macro name of the other syntax', () => {
    expect(unknownMacros('https://p.example/?a={clickRef}&b=!!!click_id!!!')).toEqual(['{clickRef}', '!!!click_id!!!']);
  });

  it('ignores braces that are not macro-shaped', () => {
    expect(unknownMacros('https://p.example/?a={}&b={a-b}&c=!!x!!')).toEqual([]);
  });
});

describe('hasMacroInAuthority', () => {
  it.each([
    ['https://{sub1}.example.com/x', true],
    ['https://p.example:{offer_id}/x', true],
    ['https://!!!clickRef!!!/x', true],
    ['https://user{sub1}@p.example/x', true],
    ['https://p.example/{sub1}?a={sub2}#{sub3}', false],
    ['https://p.example?a={sub1}', false],
    ['http://www.publisher-domain.com/!!!merchantId!!!/pixel.php?clk=!!!clickRef!!!', false],
  ])('%s -> %s', (template, expected) => {
    expect(hasMacroInAuthority(template)).toBe(expected);
  });
});

describe('awinTime', () => {
  it('formats ISO times the way Awin does, in UTC', () => {
    expect(awinTime('2013-06-13T12:00:00.000Z')).toBe('2013-06-13 12:00:00');
    expect(awinTime(null)).toBe('');
  });
});
