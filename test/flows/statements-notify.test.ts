// statement.issued / statement.paid as the publisher's server receives them on loopback: only
// endpoints that subscribe, in their format (JSON, flat form, XML), signed; retried after a
// failure; refused on endpoints that cannot carry them. Issuing and paying are audited.
import { env } from 'cloudflare:workers';
import { XMLParser } from 'fast-xml-parser';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { goalIdOf } from '../fixtures';
import {
  admin,
  adminOk,
  createFixture,
  eventually,
  expectError,
  type Fixture,
  RECEIVER,
  received,
  uniqueKey,
} from '../helpers';

async function approvedSale(f: Fixture, payout: number, day: string) {
  const goalId = await goalIdOf(f.offerId);
  const id = uniqueKey('cv_notify');
  await env.DB.prepare(
    `INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, dedupe_key, status, currency, amount,
       payout_currency, revenue, payout, profile, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 'r:' || ?1, 'approved', 'EUR', 0, 'EUR', ?6 * 2, ?6, 'canonical', ?7, ?7)`,
  )
    .bind(id, f.offerId, goalId, f.advertiserId, f.publisherId, payout, `${day}T08:00:00.000Z`)
    .run();
}

async function draftOf(f: Fixture, period: string): Promise<number> {
  await adminOk('POST', '/statements', { period });
  const list = await adminOk<{ data: { id: number }[] }>(
    'GET',
    `/statements?period=${period}&publisher_id=${f.publisherId}`,
  );
  return list.data[0]?.id as number;
}

describe('statement events', () => {
  it('reach subscribing endpoints in their own format, signed, and are audited', async () => {
    const f = await createFixture();
    const keys = { form: uniqueKey('st-form'), xml: uniqueKey('st-xml'), paidOnly: uniqueKey('st-paid') };
    const form = await adminOk<{ signing_secret: string }>('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${keys.form}`,
      format: 'form',
      events: ['statement.issued'],
    });
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${keys.xml}`,
      format: 'xml',
      events: ['conversion.created', 'statement.issued'],
    });
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${keys.paidOnly}`,
      format: 'json',
      events: ['statement.paid'],
    });
    await approvedSale(f, 1234, '2026-05-04');
    const id = await draftOf(f, '2026-05');
    await adminOk('POST', `/statements/${id}/issue`);

    const formBody = await eventually(async () => (await received(keys.form))[0]);
    expect(formBody.headers['content-type']).toBe('application/x-www-form-urlencoded');
    // The library checks the signature, then reads the body as JSON: a form body passes the
    // first and fails only the second; a wrong secret fails the first.
    expect(() => new Webhook(form.signing_secret).verify(formBody.body, formBody.headers)).toThrow(SyntaxError);
    expect(() => new Webhook(`whsec_${btoa('x'.repeat(32))}`).verify(formBody.body, formBody.headers)).toThrow(
      /signature/i,
    );
    const fields = Object.fromEntries(new URLSearchParams(formBody.body));
    expect(fields).toMatchObject({
      event: 'statement.issued',
      statement_id: String(id),
      period: '2026-05',
      currency: 'EUR',
      total: '12.34',
      line_count: '1',
      paid_at: '',
    });
    const xml = await eventually(async () => (await received(keys.xml))[0]);
    const parsed = new XMLParser({ parseTagValue: false }).parse(xml.body);
    expect(JSON.stringify(parsed)).toContain('statement.issued');
    expect(JSON.stringify(parsed)).toContain('12.34');
    expect(await received(keys.paidOnly)).toEqual([]);

    await adminOk('POST', `/statements/${id}/paid`, { reference: 'R-1' });
    const paid = await eventually(async () => (await received(keys.paidOnly))[0]);
    expect(JSON.parse(paid.body).data).toMatchObject({ statement_id: id, status: 'paid', reference: 'R-1' });

    const audit = await env.DB.prepare(
      "SELECT action, resource, resource_id, before, after FROM audit_log WHERE resource = 'statement' AND resource_id = ? ORDER BY id",
    )
      .bind(String(id))
      .all<{ action: string; before: string; after: string }>();
    expect(audit.results.map((r) => r.action)).toEqual(['issueStatement', 'payStatement']);
    expect(JSON.parse(audit.results[0]?.before ?? '{}').status).toBe('draft');
    expect(JSON.parse(audit.results[1]?.after ?? '{}').status).toBe('paid');
  });

  it('a failed delivery waits for its retry with backoff, as conversion deliveries do', async () => {
    const f = await createFixture();
    const key = uniqueKey('st-retry');
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${key}?status=503`,
      format: 'json',
      events: ['statement.issued'],
    });
    await approvedSale(f, 500, '2026-04-04');
    const id = await draftOf(f, '2026-04');
    await adminOk('POST', `/statements/${id}/issue`);
    const row = await eventually(() =>
      env.DB.prepare("SELECT * FROM document_deliveries WHERE document_id = ? AND status = 'retrying'")
        .bind(id)
        .first<{ attempts: number; last_status_code: number; next_attempt_at: string }>(),
    );
    expect(row).toMatchObject({ attempts: 1, last_status_code: 503 });
    expect(Date.parse(row.next_attempt_at)).toBeGreaterThan(Date.now());
    expect((await received(key)).length).toBe(1);
  });

  it('cannot be subscribed by endpoints that could not carry them', async () => {
    const f = await createFixture();
    for (const body of [
      { format: 'query', url: 'https://hooks.example/pb?c={conversion_id}' },
      { format: 'form', preset: 'awin', url: 'https://hooks.example/awin' },
      { format: 'json', body_template: '{"c":"{conversion_id}"}', url: 'https://hooks.example/t' },
    ]) {
      const refused = await admin('POST', '/endpoints', {
        publisher_id: f.publisherId,
        events: ['conversion.created', 'statement.issued'],
        ...body,
      });
      const error = expectError(refused, 400, 'invalid_request');
      expect(error.fields?.events).toMatch(/signed POST/);
    }
  });
});
