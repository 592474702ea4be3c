// The closing-the-month operations answer as the OpenAPI document says: documented statuses and
// bodies that read strictly with their documented shapes (Claim, ClaimDetail, ClaimMessage,
// ClaimPage, Validation), for the documented examples.
import { describe, expect, it } from 'vitest';
import { createFixture } from '../helpers';
import { getPostback, mintClick } from '../postback-helpers';
import { call } from './openapi-call';

describe('closing the month answers with its documented shapes', () => {
  it('claims: create, list, read, message, accept, reject', async () => {
    const f = await createFixture();
    const today = new Date().toISOString().slice(0, 10);
    const body = {
      offer_id: f.offerId,
      publisher_id: f.publisherId,
      amount: '12.00',
      currency: 'EUR',
      transaction_date: today,
    };
    const created = await call('post', '/api/v1/claims', { body: { ...body, order_id: 'OA-1', note: 'missed' } });
    expect(created.status).toBe(201);
    const id = (created.body as { id: number }).id;
    expect((await call('get', '/api/v1/claims', { query: { status: 'open' } })).status).toBe(200);
    expect(
      (await call('post', '/api/v1/claims/{id}/messages', { params: { id }, body: { message: 'Hello' } })).status,
    ).toBe(201);
    expect((await call('get', '/api/v1/claims/{id}', { params: { id } })).status).toBe(200);
    expect((await call('post', '/api/v1/claims/{id}/accept', { params: { id }, body: { goal: 'sale' } })).status).toBe(
      200,
    );
    expect((await call('post', '/api/v1/claims/{id}/reject', { params: { id }, body: { reason: 'x' } })).status).toBe(
      409,
    );
    const second = await call('post', '/api/v1/claims', { body: { ...body, order_id: 'OA-2' } });
    const rejected = await call('post', '/api/v1/claims/{id}/reject', {
      params: { id: (second.body as { id: number }).id },
      body: { reason: 'Cancelled' },
    });
    expect(rejected.status).toBe(200);
    expect((await call('post', '/api/v1/claims', { body: { ...body, order_id: 'OA-1' } })).status).toBe(409);
  });

  it('validations: dry run, applied, read, refused', async () => {
    const f = await createFixture();
    await getPostback('/postback', {
      click_id: await mintClick(f),
      event: 'sale',
      order_id: 'OV-1',
      amount: '10.00',
      key: f.postbackKey,
    });
    const rows = [
      { order_id: 'OV-1', status: 'approved', amount: '8.00', reason: 'Return' },
      { order_id: 'OV-2', status: 'approved' },
    ];
    expect(
      (await call('post', '/api/v1/conversions/validations', { query: { dry_run: 'true' }, body: { rows } })).status,
    ).toBe(200);
    const applied = await call('post', '/api/v1/conversions/validations', { body: { rows } });
    expect(applied.status).toBe(200);
    const id = (applied.body as { id: string }).id;
    expect(
      (await call('get', '/api/v1/conversions/validations/{id}', { params: { id }, query: { outcome: 'failed' } }))
        .status,
    ).toBe(200);
    expect((await call('get', '/api/v1/conversions/validations/{id}', { params: { id: 'val_nothing' } })).status).toBe(
      404,
    );
    const tooMany = await call('post', '/api/v1/conversions/validations', {
      body: { rows: Array.from({ length: 10_001 }, () => ({ order_id: 'x', status: 'approved' })) },
    });
    expect(tooMany.status).toBe(413);
  });
});
