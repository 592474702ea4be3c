// Scope of API keys, generated from the operations the OpenAPI document lists: every /api/v1 operation is called
// with an operator, a publisher and an advertiser key, against the caller's own resources and
// another party's. The operator reaches everything; a role without a rule for the operation
// gets 403 forbidden; a role with one reaches its own resources and gets 404 for another
// party's, as if they did not exist. A new operation must take a position in src/admin/access.ts
// (or its declaration's `access`), or the first test fails. Every GET a publisher or advertiser
// may call is also read for the other side's money (DESIGN.md "What each party may see"): a
// publisher's answers never hold revenue, an advertiser's never payout.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminRouters } from '../../src/admin';
import { ACCESS } from '../../src/admin/access';
import { insertClaim } from '../../src/db/claims';
import { conversionRow, goalIdOf, seedCreatedConversion, seedEndpoint } from '../fixtures';
import { adminOk, createFixture, type Fixture, worker } from '../helpers';
import { getPostback, mintClick, mintLandedClick } from '../postback-helpers';

type Role = 'operator' | 'publisher' | 'advertiser';
const ROLES: Role[] = ['operator', 'publisher', 'advertiser'];

interface Party {
  fixture: Fixture;
  endpointId: number;
  clickId: string;
  conversionId: string;
  deliveryId: string;
  statementId: number;
  invoiceId: number;
  claimId: number;
  validationId: string;
  keys: Record<Role, { key: string; id: number }>;
  /** Keys the revocation test may revoke (the others keep calling). */
  spare: Record<Role, { key: string; id: number }>;
}

// The declarations the OpenAPI document's /api/v1 paths are built from (src/openapi/document.ts).
const operations = adminRouters.flatMap((router) =>
  router.operations.map((op) => ({ method: op.method, path: op.path, id: op.operationId, example: op.body?.example })),
);

async function party(name: string): Promise<Party> {
  const fixture = await createFixture({ name: `${name} offer` });
  // A sale through the real postback path (before any endpoint exists, so nothing is delivered):
  // its conversion, event snapshot, rollups and postback log row all carry revenue and payout.
  const clickId = await mintLandedClick(fixture);
  const sale = await getPostback('/postback', {
    click_id: clickId,
    event: 'sale',
    order_id: `${name}-1`,
    amount: '100.00',
    descrMerchant: 'internal note',
    key: fixture.postbackKey,
  });
  if (sale.status !== 200) throw new Error(`postback answered ${sale.status}`);
  const endpoint = await seedEndpoint({ publisher_id: fixture.publisherId, url: 'https://hooks.example/x' });
  const seeded = await seedCreatedConversion(
    conversionRow(fixture, await goalIdOf(fixture.offerId), { click_id: await mintClick(fixture) }),
  );
  // A draft statement and invoice of the party (no lines), in a month no test runs.
  const document = async (kind: string, partyId: number) =>
    (await env.DB.prepare(
      `INSERT INTO documents (kind, period, period_start, period_end, party_id, currency, status, total, line_count,
         created_at, updated_at) VALUES (?, '2026-01', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', ?, 'EUR',
         'draft', 0, 0, '2026-02-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z') RETURNING id`,
    )
      .bind(kind, partyId)
      .first<number>('id')) as number;
  const keys = {} as Party['keys'];
  const spare = {} as Party['spare'];
  for (const role of ROLES) {
    const body =
      role === 'publisher'
        ? { role, publisher_id: fixture.publisherId }
        : role === 'advertiser'
          ? { role, advertiser_id: fixture.advertiserId }
          : { role };
    const created = await adminOk<{ key: string; id: number }>('POST', '/api-keys', {
      ...body,
      name: `${name} ${role}`,
    });
    keys[role] = created;
    spare[role] = await adminOk<{ key: string; id: number }>('POST', '/api-keys', {
      ...body,
      name: `${name} ${role} spare`,
    });
  }
  const claim = await insertClaim(env.DB, {
    offer_id: fixture.offerId,
    advertiser_id: fixture.advertiserId,
    publisher_id: fixture.publisherId,
    order_id: `${name}-claim`,
    amount: 1000,
    currency: 'EUR',
    transaction_date: new Date().toISOString(),
    click_id: null,
    note: null,
    created_at: new Date().toISOString(),
  });
  const validation = await call(keys.advertiser.key, 'post', '/conversions/validations', { rows: [] });
  return {
    fixture,
    claimId: claim?.id ?? 0,
    validationId: ((await validation.json()) as { id: string }).id,
    endpointId: endpoint.id,
    clickId,
    conversionId: sale.body.conversion_id as string,
    deliveryId: (seeded.deliveries[0] as { id: string }).id,
    statementId: await document('statement', fixture.publisherId),
    invoiceId: await document('invoice', fixture.advertiserId),
    keys,
    spare,
  };
}

/** The path with its parameters naming `p`'s resources. */
function pathFor(path: string, p: Party, keyRole: Role): string {
  // /api/v1/conversions/validations/{id} names a validation job, not a conversion.
  const resource = path.split('/')[4] === 'validations' ? 'validations' : path.split('/')[3];
  const ids: Record<string, string | number> = {
    advertisers: p.fixture.advertiserId,
    publishers: p.fixture.publisherId,
    offers: p.fixture.offerId,
    endpoints: p.endpointId,
    deliveries: p.deliveryId,
    conversions: p.conversionId,
    clicks: p.clickId,
    claims: p.claimId,
    validations: p.validationId,
    'api-keys': p.spare[keyRole].id,
    statements: p.statementId,
    invoices: p.invoiceId,
  };
  return path
    .replace('{provider}', 'stripe')
    .replace(/\{[^}]+\}/g, () => String(ids[resource ?? ''] ?? 1))
    .replace(/^\/api\/v1/, '');
}

/** Filters a list needs: its party (when the role has one) and the ones a rule requires. */
function queryFor(id: string, p: Party): string {
  const q = new URLSearchParams();
  if (id === 'listDeliveries') q.set('endpoint_id', String(p.endpointId));
  if (id === 'getReport') {
    q.set('offer_id', String(p.fixture.offerId));
    q.set('from', new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
    q.set('to', new Date().toISOString().slice(0, 10));
  }
  return q.size > 0 ? `?${q}` : '';
}

/** A list's other-party probe: the party filter naming the other party. */
function otherFilter(id: string, role: Role, other: Party): string | null {
  const filters: Record<string, Partial<Record<Role, string>>> = {
    listOffers: {
      advertiser: `advertiser_id=${other.fixture.advertiserId}`,
      publisher: `publisher_id=${other.fixture.publisherId}`,
    },
    listEndpoints: { publisher: `publisher_id=${other.fixture.publisherId}` },
    listDeliveries: { publisher: `endpoint_id=${other.endpointId}` },
    listConversions: {
      publisher: `publisher_id=${other.fixture.publisherId}`,
      advertiser: `advertiser_id=${other.fixture.advertiserId}`,
    },
    listClicks: { publisher: `publisher_id=${other.fixture.publisherId}` },
    listPostbackLog: { advertiser: `advertiser_id=${other.fixture.advertiserId}` },
    listStatements: { publisher: `publisher_id=${other.fixture.publisherId}` },
    listInvoices: { advertiser: `advertiser_id=${other.fixture.advertiserId}` },
    listCoupons: {
      publisher: `publisher_id=${other.fixture.publisherId}`,
      advertiser: `offer_id=${other.fixture.offerId}`,
    },
    listApiKeys: {
      publisher: `publisher_id=${other.fixture.publisherId}`,
      advertiser: `advertiser_id=${other.fixture.advertiserId}`,
    },
    getReport: {
      publisher: `publisher_id=${other.fixture.publisherId}&from=2026-01-01&to=2026-01-02`,
      advertiser: `offer_id=${other.fixture.offerId}&from=2026-01-01&to=2026-01-02`,
    },
  };
  const filter = filters[id]?.[role];
  return filter ? `?${filter}` : null;
}

function bodyFor(id: string, example: Record<string, unknown> | undefined, p: Party, role: Role): unknown {
  if (id === 'createApiKey') {
    if (role === 'publisher') return { role, publisher_id: p.fixture.publisherId };
    if (role === 'advertiser') return { role, advertiser_id: p.fixture.advertiserId };
    return { role: 'operator' };
  }
  if (id === 'createEndpoint' || id === 'applyToOffer') return { ...example, publisher_id: p.fixture.publisherId };
  if (id === 'createUser') return { email: `u${Math.random().toString(36).slice(2)}@x.example`, role: 'operator' };
  return example;
}

/**
 * Field names that carry the other side's money (and its side's own traffic: the advertiser's
 * postback log, the publisher's notification deliveries), by the role that must never read
 * them: the contract's list, written out here rather than read from src/auth/money-view.ts.
 */
const OTHER_SIDES_MONEY: Record<'publisher' | 'advertiser', string[]> = {
  publisher: ['revenue', 'revenue_approved', 'revenue_percent', 'margin', 'postbacks', 'descrMerchant'],
  advertiser: [
    'payout',
    'payout_approved',
    'payout_percent',
    'payout_rule',
    'tiers',
    'commission',
    'margin',
    'deliveries',
    'deliveries_per_conversion',
  ],
};
const OWN_MONEY: Record<'publisher' | 'advertiser', string> = { publisher: 'payout', advertiser: 'revenue' };

/** Every path in `value` at which a key of `names` occurs. */
function keysAt(value: unknown, names: readonly string[], path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => keysAt(item, names, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(names.includes(key) ? [`${path}.${key}`] : []),
    ...keysAt(inner, names, `${path}.${key}`),
  ]);
}

/** Operations whose answer showed a role its own money (the money check above read something). */
const ownMoneySeen: Record<'publisher' | 'advertiser', Set<string>> = { publisher: new Set(), advertiser: new Set() };

async function call(key: string, method: string, path: string, body?: unknown): Promise<Response> {
  return worker(`/api/v1${path}`, {
    method: method.toUpperCase(),
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

let mine: Party;
let theirs: Party;
beforeAll(async () => {
  mine = await party('mine');
  theirs = await party('theirs');
  // An offer no publisher may promote: private.
  await env.DB.prepare("UPDATE offers SET visibility = 'private' WHERE id = ?").bind(theirs.fixture.offerId).run();
});

describe('scope of every /api/v1 operation', () => {
  it('every operation of the document takes a position on partner access', () => {
    expect(operations.length).toBeGreaterThan(30);
    const declared = adminRouters
      .flatMap((r) => r.operations)
      .filter((op) => op.access !== undefined)
      .map((op) => op.operationId);
    const own = ['createUser', 'listUsers', 'listAudit'];
    const missing = operations.filter((op) => !(op.id in ACCESS) && !declared.includes(op.id) && !own.includes(op.id));
    expect(missing.map((op) => op.id)).toEqual([]);
  });

  for (const op of operations) {
    for (const role of ROLES) {
      const declaration = adminRouters.flatMap((r) => r.operations).find((d) => d.operationId === op.id);
      const rules = declaration?.access ?? ACCESS[op.id] ?? {};
      const allowed = role === 'operator' || role in rules;
      it(`${op.method.toUpperCase()} ${op.path} as ${role}: ${allowed ? 'own resource yes, another party’s 404' : '403 forbidden'}`, async () => {
        const key = mine.keys[role].key;
        const own = await call(
          key,
          op.method,
          pathFor(op.path, mine, role) + queryFor(op.id, mine),
          bodyFor(op.id, op.example, mine, role),
        );
        const ownText = await own.text();
        if (!allowed) {
          expect(own.status, ownText).toBe(403);
          expect(JSON.parse(ownText).error.code).toBe('forbidden');
          return;
        }
        if (role === 'operator') {
          // The operator reaches every operation (its inputs here may name nothing: 404 is fine).
          expect([401, 403, 500], `${own.status} ${ownText}`).not.toContain(own.status);
          return;
        }
        expect([401, 403, 404, 500], `${own.status} ${ownText}`).not.toContain(own.status);
        if (op.method === 'get' && own.status === 200) {
          const answer: unknown = JSON.parse(ownText);
          expect(keysAt(answer, OTHER_SIDES_MONEY[role]), `${op.id} as ${role}`).toEqual([]);
          if (keysAt(answer, [OWN_MONEY[role]]).length > 0) ownMoneySeen[role].add(op.id);
        }
        const hasPathId = op.path.includes('{');
        const otherProbe = hasPathId
          ? pathFor(op.path, theirs, role)
          : (() => {
              const filter = otherFilter(op.id, role, theirs);
              return filter === null ? null : op.path.replace(/^\/api\/v1/, '') + filter;
            })();
        if (otherProbe === null) {
          // A create that implies the caller's party: the other party cannot be named.
          return;
        }
        const other = await call(key, op.method, otherProbe, bodyFor(op.id, op.example, theirs, role));
        const otherText = await other.text();
        if (op.id === 'getOffer' && role === 'publisher') {
          // Public offers are everybody's to promote; the other party's here is private.
          expect(other.status, otherText).toBe(404);
          return;
        }
        expect(other.status, `${op.id} as ${role} on another party: ${otherText}`).toBe(
          op.id === 'createApiKey' ? 403 : 404,
        );
      });
    }
  }
});

describe('money each party reads', () => {
  it('the money check read real money: each role saw its own side in conversions, clicks and reports', () => {
    const both = ['listConversions', 'getConversion', 'getClick', 'getReport'];
    expect([...ownMoneySeen.publisher].sort()).toEqual(expect.arrayContaining(both));
    expect([...ownMoneySeen.advertiser].sort()).toEqual(expect.arrayContaining([...both, 'listOffers', 'getOffer']));
  });

  it('the operator reads both sides, in the conversion, its snapshots and the click’s postback rows', async () => {
    const conversion = await (await call(mine.keys.operator.key, 'get', `/conversions/${mine.conversionId}`)).json();
    expect(keysAt(conversion, ['revenue']).length).toBeGreaterThan(1);
    expect(keysAt(conversion, ['payout']).length).toBeGreaterThan(1);
    const click = (await (await call(mine.keys.operator.key, 'get', `/clicks/${mine.clickId}`)).json()) as {
      postbacks: { params: Record<string, string> }[];
    };
    expect(click.postbacks[0]?.params.descrMerchant).toBe('internal note');
  });
});

describe('lists show only the caller’s rows', () => {
  it('a publisher key lists its own conversions, clicks and endpoints only', async () => {
    const key = mine.keys.publisher.key;
    for (const path of ['/conversions', '/endpoints', '/api-keys']) {
      const body = (await (await call(key, 'get', path)).json()) as { data: { publisher_id: number | null }[] };
      expect(body.data.length, path).toBeGreaterThan(0);
      expect(
        body.data.every((row) => row.publisher_id === mine.fixture.publisherId),
        path,
      ).toBe(true);
    }
  });

  it('an advertiser key lists its own offers and conversions only', async () => {
    const key = mine.keys.advertiser.key;
    for (const path of ['/offers', '/conversions']) {
      const body = (await (await call(key, 'get', path)).json()) as { data: { advertiser_id: number }[] };
      expect(body.data.length, path).toBeGreaterThan(0);
      expect(
        body.data.every((row) => row.advertiser_id === mine.fixture.advertiserId),
        path,
      ).toBe(true);
    }
  });

  it('a revoked key stops working at once', async () => {
    const created = await adminOk<{ key: string; id: number }>('POST', '/api-keys', { role: 'operator' });
    expect((await call(created.key, 'get', '/offers')).status).toBe(200);
    await adminOk('DELETE', `/api-keys/${created.id}`);
    expect((await call(created.key, 'get', '/offers')).status).toBe(401);
  });
});

describe('a publisher key reads what it may promote, with its own payout', () => {
  type Goal = { key: string; payout: string; payout_percent: number; payout_rule: string };
  type Offer = { id: number; visibility: string; tracking_link: string; goals: Goal[] };

  // The walk above paused the offer (updateOffer's example); paused offers are not promotable.
  beforeAll(async () => {
    await adminOk('PATCH', `/offers/${mine.fixture.offerId}`, { status: 'active' });
  });

  it('lists public active offers and private ones it is approved for, never revenue or the advertiser', async () => {
    const key = mine.keys.publisher.key;
    const privateOffer = await createFixture({ name: 'Private offer', visibility: 'private' });
    const listed = async () => {
      const answer = await call(key, 'get', '/offers?limit=200');
      const text = await answer.text();
      expect(answer.status, text).toBe(200);
      expect(text).not.toMatch(/revenue|advertiser/);
      return (JSON.parse(text) as { data: Offer[] }).data;
    };
    const before = await listed();
    expect(before.map((o) => o.id)).toContain(mine.fixture.offerId);
    expect(before.map((o) => o.id)).not.toContain(theirs.fixture.offerId);
    expect(before.map((o) => o.id)).not.toContain(privateOffer.offerId);
    expect((await call(key, 'get', `/offers/${privateOffer.offerId}`)).status).toBe(404);

    const application = await adminOk<{ id: number }>('POST', `/offers/${privateOffer.offerId}/applications`, {
      publisher_id: mine.fixture.publisherId,
    });
    expect((await listed()).map((o) => o.id)).not.toContain(privateOffer.offerId);
    await adminOk('POST', `/applications/${application.id}/approve`);
    const after = (await listed()).find((o) => o.id === privateOffer.offerId);
    expect(after?.visibility).toBe('private');
    expect(after?.tracking_link).toMatch(new RegExp(`/c/${privateOffer.offerId}/${mine.fixture.publisherId}$`));
    const single = await call(key, 'get', `/offers/${privateOffer.offerId}`);
    expect(single.status).toBe(200);
    expect(await single.text()).not.toMatch(/revenue/);
  });

  it("shows the publisher's own payout while its rule is in force, else the goal's", async () => {
    const key = mine.keys.publisher.key;
    const goals = async () => {
      const answer = await call(key, 'get', `/offers/${mine.fixture.offerId}`);
      return ((await answer.json()) as Offer).goals;
    };
    expect((await goals()).find((g) => g.key === 'lead')).toMatchObject({ payout: '2.00', payout_rule: 'goal' });
    const payoutPath = `/offers/${mine.fixture.offerId}/goals/lead/payouts/${mine.fixture.publisherId}`;
    await adminOk('PUT', payoutPath, { payout: '3.50' });
    expect((await goals()).find((g) => g.key === 'lead')).toMatchObject({ payout: '3.50', payout_rule: 'own' });
    // A rule that ended is no longer in force.
    await adminOk('PUT', payoutPath, { payout: '3.50', ends_at: '2020-01-01T00:00:00Z' });
    expect((await goals()).find((g) => g.key === 'lead')).toMatchObject({ payout: '2.00', payout_rule: 'goal' });
    // Another publisher's own rate never shows.
    await adminOk('PUT', `/offers/${mine.fixture.offerId}/goals/sale/payouts/${theirs.fixture.publisherId}`, {
      payout_percent: 9,
    });
    expect((await goals()).find((g) => g.key === 'sale')).toMatchObject({ payout_percent: 5, payout_rule: 'goal' });
    // An advertiser may not look through a publisher's view of its own offer.
    const advertiser = mine.keys.advertiser.key;
    const view = `/offers/${mine.fixture.offerId}?publisher_id=${theirs.fixture.publisherId}`;
    expect((await call(advertiser, 'get', view)).status).toBe(404);
  });

  it('pages the offers by cursor', async () => {
    const key = mine.keys.publisher.key;
    const seen: number[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const answer = await call(key, 'get', `/offers?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      const body = (await answer.json()) as { data: Offer[]; next_cursor: string | null };
      expect(body.data.length).toBeLessThanOrEqual(1);
      seen.push(...body.data.map((o) => o.id));
      cursor = body.next_cursor;
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen).toContain(mine.fixture.offerId);
  });
});

describe('a publisher key lists deliveries without naming an endpoint', () => {
  it('answers every delivery of its own endpoints, newest first, by cursor, and none of another party', async () => {
    const key = mine.keys.publisher.key;
    const second = await seedEndpoint({ publisher_id: mine.fixture.publisherId, url: 'https://hooks.example/y' });
    const seeded = await seedCreatedConversion(
      conversionRow(mine.fixture, await goalIdOf(mine.fixture.offerId), { click_id: await mintClick(mine.fixture) }),
    );
    // The walk above created more endpoints of this publisher; each took the conversion.
    const endpoints = (await (await call(key, 'get', '/endpoints?limit=200')).json()) as { data: { id: number }[] };
    const own = endpoints.data.map((e) => e.id);
    expect(own).toContain(second.id);
    expect(seeded.deliveries.length).toBeGreaterThanOrEqual(2);
    const ids: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const answer = await call(key, 'get', `/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const body = (await answer.json()) as {
        data: { id: string; endpoint_id: number; created_at: string }[];
        next_cursor: string | null;
      };
      expect(answer.status).toBe(200);
      expect(body.data.every((d) => own.includes(d.endpoint_id))).toBe(true);
      expect(body.data.length).toBeLessThanOrEqual(2);
      ids.push(...body.data.map((d) => d.id));
      cursor = body.next_cursor;
    }
    expect(ids).toContain(mine.deliveryId);
    for (const d of seeded.deliveries as { id: string }[]) expect(ids).toContain(d.id);
    expect(ids).not.toContain(theirs.deliveryId);
    expect(new Set(ids).size).toBe(ids.length);
    // Naming another publisher (or its endpoint) is a 404.
    expect((await call(key, 'get', `/deliveries?publisher_id=${theirs.fixture.publisherId}`)).status).toBe(404);
    expect((await call(key, 'get', `/deliveries?endpoint_id=${theirs.endpointId}`)).status).toBe(404);
  });
});
