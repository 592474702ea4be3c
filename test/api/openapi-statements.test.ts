// The statement, invoice and balance operations answer as the OpenAPI document says (every
// field declared, nothing more), with their documented examples.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { declaredOperations } from '../../src/openapi/document';
import { createFixture, expectError } from '../helpers';
import { call, json } from './openapi-call';

const example = (operationId: string) =>
  declaredOperations().find((op) => op.operationId === operationId)?.body?.example;

describe('statements, invoices and balances read with their documented shapes', () => {
  it('run, list, read, issue, pay and the 409s, for both kinds; balances', async () => {
    const f = await createFixture();
    await env.DB.prepare(
      `INSERT INTO conversions (id, offer_id, goal_id, advertiser_id, publisher_id, dedupe_key, status, currency, amount,
         payout_currency, revenue, payout, profile, created_at, updated_at)
       SELECT 'cv_doc_1', ?1, id, ?2, ?3, 'r:doc1', 'approved', 'EUR', 10000, 'EUR', 1000, 500, 'canonical',
         '2026-11-05T10:00:00.000Z', '2026-11-05T10:00:00.000Z' FROM goals WHERE offer_id = ?1 LIMIT 1`,
    )
      .bind(f.offerId, f.advertiserId, f.publisherId)
      .run();
    for (const [plural, party, partyId] of [
      ['statements', 'publisher_id', f.publisherId],
      ['invoices', 'advertiser_id', f.advertiserId],
    ] as const) {
      const kind = plural === 'statements' ? 'Statements' : 'Invoices';
      const one = kind.slice(0, -1);
      const run = await call('post', `/api/v1/${plural}`, { body: example(`create${kind}`) });
      expect(json(run)).toMatchObject({ period: '2026-11', draft: 1, lines: 1 });
      const list = await call('get', `/api/v1/${plural}`, { query: { period: '2026-11', [party]: partyId } });
      const id = (json(list).data as { id: number }[])[0]?.id as number;
      const detail = json(await call('get', `/api/v1/${plural}/{id}`, { params: { id } }));
      expect(detail).toMatchObject({ [party]: partyId, total: plural === 'statements' ? '5.00' : '10.00' });
      expectError(
        await call('post', `/api/v1/${plural}/{id}/paid`, { params: { id }, body: example(`pay${one}`) }),
        409,
        'illegal_status_change',
      );
      expect(json(await call('post', `/api/v1/${plural}/{id}/issue`, { params: { id } })).status).toBe('issued');
      expectError(await call('post', `/api/v1/${plural}/{id}/issue`, { params: { id } }), 409, 'illegal_status_change');
      const paid = await call('post', `/api/v1/${plural}/{id}/paid`, { params: { id }, body: example(`pay${one}`) });
      expect(json(paid)).toMatchObject({ status: 'paid', reference: 'SEPA 2026-12-05 #4411' });
      expectError(await call('get', `/api/v1/${plural}/{id}`, { params: { id: 4_000_000_000 } }), 404, 'not_found');
    }
    const balances = json(await call('get', '/api/v1/reports/balances')).data as {
      currency: string;
      payout: Record<string, string>;
      revenue: Record<string, string>;
    }[];
    expect(balances.find((b) => b.currency === 'EUR')).toMatchObject({
      payout: { paid: '5.00', issued: '0.00', draft: '0.00' },
      revenue: { paid: '10.00', issued: '0.00', draft: '0.00' },
    });
  });
});
