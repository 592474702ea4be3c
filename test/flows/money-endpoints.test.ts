// {revenue} is operator-only (DESIGN.md "What each party may see"): a publisher that saves it in
// its endpoint's URL or body template is refused, naming the field; an endpoint the publisher
// saved never renders revenue at delivery (nor in a test send), while one the operator saved for
// an in-house program does; and migration 0024 tells existing endpoints apart by their audit trail.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/conversions/snapshot';
import worker from '../../src/index';
import type { NotificationMessage } from '../../src/notify/fanout';
import { conversionRow, goalIdOf, seedCreatedConversion, seedEndpoint } from '../fixtures';
import { adminOk, createFixture, expectError, type Fixture, RECEIVER, received, uniqueKey } from '../helpers';

type Endpoint = { id: number };

async function publisherKey(f: Fixture): Promise<string> {
  return (await adminOk<{ key: string }>('POST', '/api-keys', { role: 'publisher', publisher_id: f.publisherId })).key;
}

async function endpointCall(key: string, method: string, path: string, body: unknown) {
  const response = await worker.fetch(
    new Request(`https://clickhop.test/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
    env,
    createExecutionContext(),
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const savedBy = async (id: number) =>
  (await env.DB.prepare('SELECT saved_by FROM endpoints WHERE id = ?').bind(id).first<{ saved_by: string | null }>())
    ?.saved_by;

const endpointCount = async (publisherId: number) =>
  (
    await env.DB.prepare('SELECT COUNT(*) AS n FROM endpoints WHERE publisher_id = ?').bind(publisherId).first<{
      n: number;
    }>()
  )?.n;

describe('saving {revenue}', () => {
  it('a publisher is refused with 400 naming url or body_template, and nothing is stored', async () => {
    const f = await createFixture();
    const key = await publisherKey(f);
    const url = 'https://hooks.publisher.example/cb?rev={revenue}&pay={payout}';
    const refused = await endpointCall(key, 'POST', '/endpoints', { url, format: 'query' });
    const error = expectError(refused, 400, 'invalid_request', ['url']);
    expect(error.message).toContain('{revenue}');
    expect(error.fields?.url).toContain('operator-only');
    expectError(
      await endpointCall(key, 'POST', '/endpoints', {
        url: 'https://hooks.publisher.example/cb',
        format: 'json',
        body_template: '{"rev":"{revenue}","pay":"{payout}"}',
      }),
      400,
      'invalid_request',
      ['body_template'],
    );
    expect(await endpointCount(f.publisherId)).toBe(0);

    // Its own payout is its to use; changing that endpoint to carry revenue is refused too.
    const allowed = await endpointCall(key, 'POST', '/endpoints', {
      url: 'https://hooks.publisher.example/cb?pay={payout}',
      format: 'query',
    });
    expect(allowed.status).toBe(201);
    const id = allowed.body.id as number;
    expect(await savedBy(id)).toBe('publisher');
    expectError(await endpointCall(key, 'PATCH', `/endpoints/${id}`, { url }), 400, 'invalid_request', ['url']);
    expect((await adminOk<{ url: string }>('GET', `/endpoints/${id}`)).url).not.toContain('{revenue}');
  });

  it('the operator may save it; a publisher then changes that endpoint only by removing it (or disables it)', async () => {
    const f = await createFixture();
    const key = await publisherKey(f);
    const endpoint = await adminOk<Endpoint>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: 'https://hooks.publisher.example/cb?rev={revenue}',
      format: 'query',
    });
    expect(await savedBy(endpoint.id)).toBe('operator');
    expectError(
      await endpointCall(key, 'PATCH', `/endpoints/${endpoint.id}`, { events: ['conversion.approved'] }),
      400,
      'invalid_request',
      ['url'],
    );
    // Disabling leaves the delivery settings as the operator saved them.
    expect((await endpointCall(key, 'PATCH', `/endpoints/${endpoint.id}`, { status: 'disabled' })).status).toBe(200);
    expect(await savedBy(endpoint.id)).toBe('operator');
    const replaced = await endpointCall(key, 'PATCH', `/endpoints/${endpoint.id}`, {
      url: 'https://hooks.publisher.example/cb?pay={payout}',
      status: 'active',
    });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(await savedBy(endpoint.id)).toBe('publisher');
  });
});

describe('{revenue} at delivery', () => {
  /** An endpoint of `f`'s publisher that sends revenue and payout to the receiver under `path`. */
  async function revenueEndpoint(f: Fixture, path: string, template: boolean): Promise<number> {
    return (
      await adminOk<Endpoint>('POST', '/endpoints', {
        publisher_id: f.publisherId,
        url: `${RECEIVER}/${path}?rev={revenue}&pay={payout}`,
        events: ['conversion.created'],
        ...(template ? { format: 'json', body_template: '{"rev":"{revenue}","pay":"{payout}"}' } : { format: 'query' }),
      })
    ).id;
  }

  async function deliverSale(f: Fixture): Promise<void> {
    const now = new Date().toISOString();
    const conversion = conversionRow(f, await goalIdOf(f.offerId, 'sale'), {
      amount: 10000,
      revenue: 1000,
      payout: 500,
      created_at: now,
      updated_at: now,
    });
    const snapshot = buildSnapshot({
      event: 'conversion.created',
      eventTime: now,
      conversion,
      goalKey: 'sale',
      offerName: 'Summer sale',
      click: null,
    });
    const { deliveries } = await seedCreatedConversion(conversion, { snapshot });
    const batch = createMessageBatch<NotificationMessage>(
      'clickhop-notifications',
      deliveries.map((d, i) => ({
        id: `money-${uniqueKey('m')}-${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: { v: 1 as const, delivery_id: d.id },
      })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(deliveries.length);
  }

  it('an endpoint the operator saved renders revenue; one a publisher saved (or of unknown origin) renders it empty', async () => {
    const f = await createFixture();
    const key = uniqueKey('revenue');
    await revenueEndpoint(f, `${key}/operator`, false);
    await revenueEndpoint(f, `${key}/operator-body`, true);
    // Saved by the publisher before the check existed, and written with no record of who saved it.
    const legacy = await revenueEndpoint(f, `${key}/publisher`, false);
    const legacyBody = await revenueEndpoint(f, `${key}/publisher-body`, true);
    const unknown = await revenueEndpoint(f, `${key}/unknown`, false);
    await env.DB.prepare("UPDATE endpoints SET saved_by = 'publisher' WHERE id IN (?, ?)")
      .bind(legacy, legacyBody)
      .run();
    await env.DB.prepare('UPDATE endpoints SET saved_by = NULL WHERE id = ?').bind(unknown).run();

    await deliverSale(f);
    const requests = await received(key);
    const at = (path: string) => requests.find((r) => new URL(r.url, RECEIVER).pathname === `/${key}/${path}`);
    expect(at('operator')?.url).toMatch(/\?rev=10\.00&pay=5\.00$/);
    expect(JSON.parse(at('operator-body')?.body ?? '')).toEqual({ rev: '10.00', pay: '5.00' });
    expect(at('publisher')?.url).toMatch(/\?rev=&pay=5\.00$/);
    expect(JSON.parse(at('publisher-body')?.body ?? '')).toEqual({ rev: '', pay: '5.00' });
    expect(at('unknown')?.url).toMatch(/\?rev=&pay=5\.00$/);
    expect(requests).toHaveLength(5);
  });

  it("a test send of a publisher's endpoint renders revenue empty too", async () => {
    const f = await createFixture();
    const key = uniqueKey('revenue-test');
    const legacy = await revenueEndpoint(f, `${key}/publisher`, false);
    await env.DB.prepare("UPDATE endpoints SET saved_by = 'publisher' WHERE id = ?").bind(legacy).run();
    const report = await endpointCall(await publisherKey(f), 'POST', `/endpoints/${legacy}/test`, {});
    expect(report.status).toBe(200);
    expect((report.body.request as { url: string }).url).toMatch(/\?rev=&pay=5\.00$/);
    const operatorSaved = await revenueEndpoint(f, `${key}/operator`, false);
    const operatorReport = await adminOk<{ request: { url: string } }>('POST', `/endpoints/${operatorSaved}/test`, {});
    expect(operatorReport.request.url).toMatch(/\?rev=10\.00&pay=5\.00$/);
  });
});

describe('migration 0024 on endpoints saved before it', () => {
  it("takes each endpoint's party from its last audited save; an endpoint with none is the operator's", async () => {
    const f = await createFixture();
    const key = await publisherKey(f);
    const url = 'https://hooks.publisher.example/cb?pay={payout}';
    const byOperator = (
      await adminOk<Endpoint>('POST', '/endpoints', { publisher_id: f.publisherId, url, format: 'query' })
    ).id;
    const byPublisher = (await endpointCall(key, 'POST', '/endpoints', { url, format: 'query' })).body.id as number;
    const publisherThenOperator = (await endpointCall(key, 'POST', '/endpoints', { url, format: 'query' })).body
      .id as number;
    await adminOk('PATCH', `/endpoints/${publisherThenOperator}`, { events: ['conversion.approved'] });
    const operatorThenPublisherToggle = (
      await adminOk<Endpoint>('POST', '/endpoints', { publisher_id: f.publisherId, url, format: 'query' })
    ).id;
    expect(
      (await endpointCall(key, 'PATCH', `/endpoints/${operatorThenPublisherToggle}`, { include_products: true }))
        .status,
    ).toBe(200);
    const unaudited = (await seedEndpoint({ publisher_id: f.publisherId, url })).id;

    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0024_'));
    const backfill = migration?.queries.find((q) => q.includes('UPDATE endpoints SET saved_by'));
    expect(backfill).toBeDefined();
    await env.DB.prepare('UPDATE endpoints SET saved_by = NULL WHERE publisher_id = ?').bind(f.publisherId).run();
    await env.DB.prepare(backfill as string).run();
    expect(
      await Promise.all(
        [byOperator, byPublisher, publisherThenOperator, operatorThenPublisherToggle, unaudited].map(savedBy),
      ),
    ).toEqual(['operator', 'publisher', 'operator', 'publisher', 'operator']);
  });
});
