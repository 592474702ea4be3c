// /api/v1/offers: goals with fixed and percent payouts stored exactly in minor units, commission
// groups, defaults, landing URL and macro checks, updates, listing with cursor pagination.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { admin, adminOk, expectError } from '../helpers';

interface Rule {
  revenue: string;
  payout: string;
  revenue_percent: number;
  payout_percent: number;
}

interface Goal extends Rule {
  id: number;
  key: string;
  name: string;
  default: boolean;
  allow_repeats: boolean;
  default_status: string;
  commission_groups: (Rule & { key: string })[];
}

interface Offer {
  id: number;
  advertiser_id: number;
  name: string;
  status: string;
  landing_url: string;
  click_param: string;
  deep_link_hosts: string[];
  fallback_url: string | null;
  currency: string;
  attribution_window_days: number;
  allow_publisher_postback: boolean;
  tracking_link: string;
  goals: Goal[];
  created_at: string;
  updated_at: string;
}

interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

interface RuleRow {
  key: string;
  commission_group: string | null;
  revenue_fixed: number;
  revenue_percent_bp: number;
  payout_fixed: number;
  payout_percent_bp: number;
}

async function newAdvertiser() {
  return (await adminOk<{ id: number }>('POST', '/advertisers', { name: 'Merchant' })).id;
}

function offerInput(advertiserId: number, extra: Record<string, unknown> = {}) {
  return {
    advertiser_id: advertiserId,
    name: 'Summer sale',
    landing_url: 'https://shop.example/landing?src=aff',
    currency: 'EUR',
    goals: [
      { key: 'lead', revenue: '5.00', payout: '2.00' },
      { key: 'sale', revenue_percent: 10, payout_percent: 5 },
    ],
    ...extra,
  };
}

/** The stored payout rules of an offer, straight from D1. */
async function storedRules(offerId: number) {
  const { results } = await env.DB.prepare(
    `SELECT g.key, r.commission_group, r.revenue_fixed, r.revenue_percent_bp, r.payout_fixed, r.payout_percent_bp
     FROM payout_rules r JOIN goals g ON g.id = r.goal_id WHERE g.offer_id = ? AND r.publisher_id IS NULL
     ORDER BY g.key, COALESCE(r.commission_group, '')`,
  )
    .bind(offerId)
    .all<RuleRow>();
  return results;
}

async function offerCount() {
  return (await env.DB.prepare('SELECT COUNT(*) AS n FROM offers').first<{ n: number }>())?.n ?? 0;
}

describe('POST /api/v1/offers', () => {
  it('creates an offer with defaults and echoes it with its goals', async () => {
    const advertiserId = await newAdvertiser();
    const response = await admin<Offer>('POST', '/offers', offerInput(advertiserId));
    expect(response.status).toBe(201);
    const offer = response.body;
    expect(offer).toMatchObject({
      id: expect.any(Number),
      advertiser_id: advertiserId,
      name: 'Summer sale',
      status: 'active',
      landing_url: 'https://shop.example/landing?src=aff',
      click_param: 'click_id',
      deep_link_hosts: [],
      fallback_url: null,
      currency: 'EUR',
      attribution_window_days: 30,
      allow_publisher_postback: false,
    });
    expect(offer.tracking_link).toBe(`https://clickhop.test/c/${offer.id}/{publisher_id}`);
    expect(offer.goals).toEqual([
      {
        id: expect.any(Number),
        key: 'lead',
        name: 'lead',
        default: true,
        allow_repeats: false,
        default_status: 'pending',
        revenue: '5.00',
        payout: '2.00',
        revenue_percent: 0,
        payout_percent: 0,
        commission_groups: [],
      },
      {
        id: expect.any(Number),
        key: 'sale',
        name: 'sale',
        default: false,
        allow_repeats: false,
        default_status: 'pending',
        revenue: '0.00',
        payout: '0.00',
        revenue_percent: 10,
        payout_percent: 5,
        commission_groups: [],
      },
    ]);
    expect(await adminOk('GET', `/offers/${offer.id}`)).toEqual(offer);
  });

  it('stores fixed amounts in minor units and percentages in basis points, exactly', async () => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>('POST', '/offers', offerInput(advertiserId));
    expect(await storedRules(offer.id)).toEqual([
      {
        key: 'lead',
        commission_group: null,
        revenue_fixed: 500,
        revenue_percent_bp: 0,
        payout_fixed: 200,
        payout_percent_bp: 0,
      },
      {
        key: 'sale',
        commission_group: null,
        revenue_fixed: 0,
        revenue_percent_bp: 1000,
        payout_fixed: 0,
        payout_percent_bp: 500,
      },
    ]);
  });

  it.each([
    ['EUR', '5.00', 500, '5.00'],
    ['EUR', '26.09', 2609, '26.09'],
    ['EUR', 0.1, 10, '0.10'],
    ['EUR', '10.500', 1050, '10.50'],
    ['JPY', '1999', 1999, '1999'],
    ['JPY', 1999, 1999, '1999'],
    ['BHD', '1.234', 1234, '1.234'],
    ['KWD', '0.005', 5, '0.005'],
  ])('stores %s %j as %i minor units and shows %s', async (currency, amount, minor, shown) => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>(
      'POST',
      '/offers',
      offerInput(advertiserId, { currency, goals: [{ key: 'lead', revenue: amount, payout: amount }] }),
    );
    expect(offer.goals[0]).toMatchObject({ revenue: shown, payout: shown });
    expect(await storedRules(offer.id)).toEqual([
      expect.objectContaining({ revenue_fixed: minor, payout_fixed: minor }),
    ]);
  });

  it.each([
    ['JPY', '19.99', 'goals.0.revenue'],
    ['EUR', '1.001', 'goals.0.revenue'],
    ['BHD', '1.2345', 'goals.0.revenue'],
    ['EUR', '-1.00', 'goals.0.revenue'],
    ['EUR', 'five', 'goals.0.revenue'],
    ['EUR', '1,50', 'goals.0.revenue'],
    ['EUR', '1e3', 'goals.0.revenue'],
    ['EUR', -5, 'goals.0.revenue'],
  ])('refuses %s %j naming %s', async (currency, amount, field) => {
    const advertiserId = await newAdvertiser();
    const before = await offerCount();
    const response = await admin(
      'POST',
      '/offers',
      offerInput(advertiserId, { currency, goals: [{ key: 'lead', revenue: amount }] }),
    );
    expectError(response, 400, 'invalid_request', [field]);
    expect(await offerCount()).toBe(before);
  });

  it.each([
    [2.555, 'goals.0.payout_percent'],
    [-1, 'goals.0.payout_percent'],
    [10001, 'goals.0.payout_percent'],
    ['5', 'goals.0.payout_percent'],
  ])('refuses payout_percent %j naming %s', async (percent, field) => {
    const advertiserId = await newAdvertiser();
    expectError(
      await admin('POST', '/offers', offerInput(advertiserId, { goals: [{ key: 'sale', payout_percent: percent }] })),
      400,
      'invalid_request',
      [field],
    );
  });

  it('stores percentages with two decimals exactly (12.35% = 1235 bp)', async () => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>(
      'POST',
      '/offers',
      offerInput(advertiserId, { goals: [{ key: 'sale', revenue_percent: 12.35, payout_percent: 0.29 }] }),
    );
    expect(offer.goals[0]).toMatchObject({ revenue_percent: 12.35, payout_percent: 0.29 });
    expect(await storedRules(offer.id)).toEqual([
      expect.objectContaining({ revenue_percent_bp: 1235, payout_percent_bp: 29 }),
    ]);
  });

  it('stores commission groups as their own rules of the goal', async () => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>(
      'POST',
      '/offers',
      offerInput(advertiserId, {
        goals: [
          {
            key: 'sale',
            revenue_percent: 10,
            payout_percent: 5,
            commission_groups: [
              { key: 'electronics', revenue_percent: 4, payout_percent: 2 },
              { key: 'books', payout: '0.50', payout_percent: 7.5 },
            ],
          },
        ],
      }),
    );
    // A group named only by its code is named by its code, with no description.
    const group = (key: string) => ({ id: expect.any(Number), key, name: key, description: null });
    expect(offer.goals[0]?.commission_groups).toEqual([
      { ...group('electronics'), revenue: '0.00', payout: '0.00', revenue_percent: 4, payout_percent: 2 },
      { ...group('books'), revenue: '0.00', payout: '0.50', revenue_percent: 0, payout_percent: 7.5 },
    ]);
    expect(await storedRules(offer.id)).toEqual([
      {
        key: 'sale',
        commission_group: null,
        revenue_fixed: 0,
        revenue_percent_bp: 1000,
        payout_fixed: 0,
        payout_percent_bp: 500,
      },
      {
        key: 'sale',
        commission_group: 'books',
        revenue_fixed: 0,
        revenue_percent_bp: 0,
        payout_fixed: 50,
        payout_percent_bp: 750,
      },
      {
        key: 'sale',
        commission_group: 'electronics',
        revenue_fixed: 0,
        revenue_percent_bp: 400,
        payout_fixed: 0,
        payout_percent_bp: 200,
      },
    ]);
  });

  it('takes the optional fields as given', async () => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>(
      'POST',
      '/offers',
      offerInput(advertiserId, {
        click_param: 'aff_click',
        deep_link_hosts: ['Shop.Example', '*.brand.example'],
        attribution_window_days: 45,
        allow_publisher_postback: true,
        fallback_url: 'https://shop.example/fallback',
        status: 'paused',
        goals: [
          { key: 'lead', name: 'Newsletter', payout: '1.00', allow_repeats: true, default_status: 'approved' },
          { key: 'sale', payout_percent: 5, default: true },
        ],
      }),
    );
    expect(offer).toMatchObject({
      click_param: 'aff_click',
      deep_link_hosts: ['shop.example', '*.brand.example'],
      attribution_window_days: 45,
      allow_publisher_postback: true,
      fallback_url: 'https://shop.example/fallback',
      status: 'paused',
    });
    expect(offer.goals.map((g) => [g.key, g.name, g.default, g.allow_repeats, g.default_status])).toEqual([
      ['lead', 'Newsletter', false, true, 'approved'],
      ['sale', 'sale', true, false, 'pending'],
    ]);
  });

  it.each([['XYZ'], ['eur'], ['EURO'], ['E1R'], [''], [978]])(
    'refuses the currency %j naming currency',
    async (currency) => {
      const advertiserId = await newAdvertiser();
      expectError(await admin('POST', '/offers', offerInput(advertiserId, { currency })), 400, 'invalid_request', [
        'currency',
      ]);
    },
  );

  it.each([
    ['javascript:alert(1)'],
    ['ftp://shop.example/'],
    ['/relative/path'],
    ['shop.example/landing'],
    ['//shop.example/landing'],
    ['https://user:pass@shop.example/'],
    ['https://shop.example/with space'],
    ['https://shop.example\\evil'],
    ['https://'],
    [''],
    [`https://shop.example/${'x'.repeat(2100)}`],
  ])('refuses the landing URL %j naming landing_url', async (landingUrl) => {
    const advertiserId = await newAdvertiser();
    expectError(
      await admin('POST', '/offers', offerInput(advertiserId, { landing_url: landingUrl })),
      400,
      'invalid_request',
      ['landing_url'],
    );
  });

  it('names the unknown macros of a landing URL', async () => {
    const advertiserId = await newAdvertiser();
    const error = expectError(
      await admin(
        'POST',
        '/offers',
        offerInput(advertiserId, { landing_url: 'https://shop.example/?c={clickid}&s={sub6}&ok={sub1}&u={CLICK_ID}' }),
      ),
      400,
      'invalid_request',
      ['landing_url'],
    );
    for (const name of ['{clickid}', '{sub6}', '{CLICK_ID}']) expect(error.fields?.landing_url).toContain(name);
    expect(error.fields?.landing_url).not.toContain('{sub1}');
  });

  it('accepts every landing macro', async () => {
    const advertiserId = await newAdvertiser();
    const landing =
      'https://shop.example/{offer_id}?c={click_id}&p={publisher_id}&a={sub1}&b={sub2}&c2={sub3}&d={sub4}&e={sub5}&u={deep_link}';
    expect(
      (await adminOk<Offer>('POST', '/offers', offerInput(advertiserId, { landing_url: landing }))).landing_url,
    ).toBe(landing);
  });

  it('refuses duplicate goal keys naming the second one', async () => {
    const advertiserId = await newAdvertiser();
    const before = await offerCount();
    expectError(
      await admin(
        'POST',
        '/offers',
        offerInput(advertiserId, { goals: [{ key: 'lead' }, { key: 'sale' }, { key: 'lead' }] }),
      ),
      400,
      'invalid_request',
      ['goals.2.key'],
    );
    expect(await offerCount()).toBe(before);
  });

  it('refuses duplicate commission groups and two default goals', async () => {
    const advertiserId = await newAdvertiser();
    expectError(
      await admin(
        'POST',
        '/offers',
        offerInput(advertiserId, {
          goals: [
            { key: 'sale', default: true, commission_groups: [{ key: 'a' }, { key: 'a' }] },
            { key: 'lead', default: true },
          ],
        }),
      ),
      400,
      'invalid_request',
      ['goals.0.commission_groups.1.key', 'goals'],
    );
  });

  it.each([
    [{ goals: [] }, ['goals']],
    [{ goals: undefined }, ['goals']],
    [{ goals: [{ key: 'Lead' }] }, ['goals.0.key']],
    [{ goals: [{ key: 'a b' }] }, ['goals.0.key']],
    [{ goals: [{ key: 'x'.repeat(33) }] }, ['goals.0.key']],
    [{ goals: [{ key: 'lead', default_status: 'rejected' }] }, ['goals.0.default_status']],
    [{ click_param: 'has space' }, ['click_param']],
    [{ click_param: '' }, ['click_param']],
    [{ click_param: 'a&b' }, ['click_param']],
    [{ deep_link_hosts: ['https://shop.example'] }, ['deep_link_hosts.0']],
    [{ deep_link_hosts: ['shop.example', 'shop.example/path'] }, ['deep_link_hosts.1']],
    [{ deep_link_hosts: ['*'] }, ['deep_link_hosts.0']],
    [{ attribution_window_days: 0 }, ['attribution_window_days']],
    [{ attribution_window_days: 366 }, ['attribution_window_days']],
    [{ attribution_window_days: 1.5 }, ['attribution_window_days']],
    [{ fallback_url: 'javascript:alert(1)' }, ['fallback_url']],
    [{ fallback_url: '//evil.com' }, ['fallback_url']],
    [{ status: 'deleted' }, ['status']],
    [{ allow_publisher_postback: 'yes' }, ['allow_publisher_postback']],
    [{ name: '' }, ['name']],
    [{ advertiser_id: '1' }, ['advertiser_id']],
    [{ advertiser_id: 0 }, ['advertiser_id']],
  ])('refuses %j naming %j', async (extra, fields) => {
    const advertiserId = await newAdvertiser();
    expectError(await admin('POST', '/offers', offerInput(advertiserId, extra)), 400, 'invalid_request', fields);
  });

  it('refuses an advertiser_id that does not exist, creating nothing', async () => {
    const before = await offerCount();
    expectError(await admin('POST', '/offers', offerInput(999999)), 400, 'invalid_request', ['advertiser_id']);
    expect(await offerCount()).toBe(before);
  });
});

describe('GET /api/v1/offers', () => {
  it('lists an advertiser’s offers only, with goals, walking every page exactly once', async () => {
    const advertiserId = await newAdvertiser();
    const other = await newAdvertiser();
    const mine: number[] = [];
    for (let i = 0; i < 5; i++) {
      mine.push((await adminOk<Offer>('POST', '/offers', offerInput(advertiserId, { name: `Mine ${i}` }))).id);
      await adminOk('POST', '/offers', offerInput(other, { name: `Other ${i}` }));
    }
    const seen: Offer[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const path: string = `/offers?advertiser_id=${advertiserId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page: Page<Offer> = await adminOk<Page<Offer>>('GET', path);
      seen.push(...page.data);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    expect(seen.map((o) => o.id)).toEqual(mine);
    expect(seen.every((o) => o.goals.length === 2 && o.goals[0]?.revenue === '5.00')).toBe(true);
  });

  it('walks all offers exactly once', async () => {
    const total = await offerCount();
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 500; guard++) {
      const path: string = `/offers?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page: Page<Offer> = await adminOk<Page<Offer>>('GET', path);
      seen.push(...page.data.map((o) => o.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it.each(['999999', 'abc', '0'])('answers 404 for the offer id %j', async (id) => {
    expectError(await admin('GET', `/offers/${id}`), 404, 'not_found');
  });

  it('refuses a bad advertiser_id filter or cursor naming it', async () => {
    expectError(await admin('GET', '/offers?advertiser_id=abc'), 400, 'invalid_request', ['advertiser_id']);
    expectError(await admin('GET', '/offers?cursor=%%%'), 400, 'invalid_request', ['cursor']);
  });
});

describe('PATCH /api/v1/offers/:id', () => {
  it('changes the given fields and leaves the rest', async () => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>(
      'POST',
      '/offers',
      offerInput(advertiserId, { fallback_url: 'https://shop.example/fb' }),
    );
    const updated = await adminOk<Offer>('PATCH', `/offers/${offer.id}`, {
      name: 'Winter sale',
      landing_url: 'https://shop.example/winter?cid={click_id}',
      click_param: 'cid',
      deep_link_hosts: ['shop.example'],
      attribution_window_days: 7,
      allow_publisher_postback: true,
      fallback_url: null,
      status: 'paused',
    });
    expect(updated).toMatchObject({
      id: offer.id,
      advertiser_id: advertiserId,
      name: 'Winter sale',
      landing_url: 'https://shop.example/winter?cid={click_id}',
      click_param: 'cid',
      deep_link_hosts: ['shop.example'],
      attribution_window_days: 7,
      allow_publisher_postback: true,
      fallback_url: null,
      status: 'paused',
      currency: 'EUR',
    });
    expect(updated.goals).toEqual(offer.goals);
    expect(await adminOk('GET', `/offers/${offer.id}`)).toEqual(updated);
  });

  it('updates goals by key: changes existing ones, adds new ones, keeps the others', async () => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>('POST', '/offers', offerInput(advertiserId));
    const updated = await adminOk<Offer>('PATCH', `/offers/${offer.id}`, {
      goals: [
        { key: 'lead', revenue: '6.50', payout: '3.25' },
        { key: 'install', payout: '0.75', commission_groups: [{ key: 'ios', payout: '1.00' }] },
      ],
    });
    expect(updated.goals.map((g) => [g.key, g.revenue, g.payout, g.payout_percent])).toEqual([
      ['lead', '6.50', '3.25', 0],
      ['sale', '0.00', '0.00', 5],
      ['install', '0.00', '0.75', 0],
    ]);
    expect(updated.goals.find((g) => g.key === 'lead')?.id).toBe(offer.goals[0]?.id);
    expect(updated.goals.filter((g) => g.default).map((g) => g.key)).toEqual(['lead']);
    expect(await storedRules(offer.id)).toEqual([
      {
        key: 'install',
        commission_group: null,
        revenue_fixed: 0,
        revenue_percent_bp: 0,
        payout_fixed: 75,
        payout_percent_bp: 0,
      },
      {
        key: 'install',
        commission_group: 'ios',
        revenue_fixed: 0,
        revenue_percent_bp: 0,
        payout_fixed: 100,
        payout_percent_bp: 0,
      },
      {
        key: 'lead',
        commission_group: null,
        revenue_fixed: 650,
        revenue_percent_bp: 0,
        payout_fixed: 325,
        payout_percent_bp: 0,
      },
      {
        key: 'sale',
        commission_group: null,
        revenue_fixed: 0,
        revenue_percent_bp: 1000,
        payout_fixed: 0,
        payout_percent_bp: 500,
      },
    ]);
  });

  it('moves the default goal when an update marks another one default', async () => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>('POST', '/offers', offerInput(advertiserId));
    const updated = await adminOk<Offer>('PATCH', `/offers/${offer.id}`, { goals: [{ key: 'sale', default: true }] });
    expect(updated.goals.filter((g) => g.default).map((g) => g.key)).toEqual(['sale']);
  });

  it('checks new amounts against the offer’s currency', async () => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>(
      'POST',
      '/offers',
      offerInput(advertiserId, { currency: 'JPY', goals: [{ key: 'lead', payout: '100' }] }),
    );
    expectError(
      await admin('PATCH', `/offers/${offer.id}`, { goals: [{ key: 'lead', payout: '1.50' }] }),
      400,
      'invalid_request',
      ['goals.0.payout'],
    );
    expect((await adminOk<Offer>('GET', `/offers/${offer.id}`)).goals[0]?.payout).toBe('100');
  });

  it.each([
    [{ currency: 'USD' }, ['currency']],
    [{ advertiser_id: 1 }, ['advertiser_id']],
    [{ landing_url: 'https://shop.example/?c={click}' }, ['landing_url']],
    [{ landing_url: 'mailto:a@b.c' }, ['landing_url']],
    [{ status: 'deleted' }, ['status']],
    [{ goals: [{ key: 'lead' }, { key: 'lead' }] }, ['goals.1.key']],
    [{ goals: [] }, ['goals']],
  ])('refuses %j naming %j and changes nothing', async (input, fields) => {
    const advertiserId = await newAdvertiser();
    const offer = await adminOk<Offer>('POST', '/offers', offerInput(advertiserId));
    expectError(await admin('PATCH', `/offers/${offer.id}`, input), 400, 'invalid_request', fields);
    expect(await adminOk('GET', `/offers/${offer.id}`)).toEqual(offer);
  });

  it('answers 404 for an offer that does not exist', async () => {
    expectError(await admin('PATCH', '/offers/999999', { name: 'Ghost' }), 404, 'not_found');
    expectError(await admin('PATCH', '/offers/abc', { name: 'Ghost' }), 404, 'not_found');
  });
});
