// Endpoint limits under concurrency (issue 22): the limits are enforced by the write itself, so
// concurrent creates and activations cannot pass a count together, and disabled endpoints are
// bounded too (a publisher key could otherwise add rows without end).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MAX_ACTIVE_ENDPOINTS, MAX_ENDPOINTS } from '../../src/admin/endpoint-limit';
import { admin, createFixture, expectError } from '../helpers';

const endpoint = (publisherId: number, status: 'active' | 'disabled' = 'active') => ({
  publisher_id: publisherId,
  url: 'https://hooks.example.com/clickhop',
  format: 'json',
  status,
});

const tally = (answers: { status: number }[]) => {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
};

async function stored(publisherId: number) {
  return env.DB.prepare(
    `SELECT count(*) AS total, coalesce(sum(status = 'active'), 0) AS active FROM endpoints WHERE publisher_id = ?`,
  )
    .bind(publisherId)
    .first<{ total: number; active: number }>();
}

describe('the active endpoint limit', () => {
  it(`holds for 30 concurrent creates: ${MAX_ACTIVE_ENDPOINTS} made, the rest 409 naming publisher_id`, async () => {
    const f = await createFixture();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => admin('POST', '/endpoints', endpoint(f.publisherId))),
    );
    expect(tally(answers)).toEqual({ 201: MAX_ACTIVE_ENDPOINTS, 409: 30 - MAX_ACTIVE_ENDPOINTS });
    expect(await stored(f.publisherId)).toEqual({ total: MAX_ACTIVE_ENDPOINTS, active: MAX_ACTIVE_ENDPOINTS });
    const refused = answers.find((a) => a.status === 409) as { status: number; body: Record<string, unknown> };
    const error = expectError(refused, 409, 'endpoint_limit_reached', ['publisher_id']);
    expect(error.message).toContain(`${MAX_ACTIVE_ENDPOINTS} active endpoints`);
  });

  it('holds for concurrent activations of disabled endpoints', async () => {
    const f = await createFixture();
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push((await admin<{ id: number }>('POST', '/endpoints', endpoint(f.publisherId, 'disabled'))).body.id);
    }
    const answers = await Promise.all(ids.map((id) => admin('PATCH', `/endpoints/${id}`, { status: 'active' })));
    expect(tally(answers)).toEqual({ 200: MAX_ACTIVE_ENDPOINTS, 409: 20 - MAX_ACTIVE_ENDPOINTS });
    expect(await stored(f.publisherId)).toEqual({ total: 20, active: MAX_ACTIVE_ENDPOINTS });
    // Changing an active one (or enabling one already active) is no activation.
    const active = answers.findIndex((a) => a.status === 200);
    expect(
      (await admin('PATCH', `/endpoints/${ids[active]}`, { status: 'active', events: ['conversion.created'] })).status,
    ).toBe(200);
  });
});

describe('the total endpoint limit', () => {
  it(`bounds disabled endpoints too: ${MAX_ENDPOINTS} in all, even when created at once`, async () => {
    const f = await createFixture();
    const answers = await Promise.all(
      Array.from({ length: MAX_ENDPOINTS + 10 }, () =>
        admin('POST', '/endpoints', endpoint(f.publisherId, 'disabled')),
      ),
    );
    expect(tally(answers)).toEqual({ 201: MAX_ENDPOINTS, 409: 10 });
    expect(await stored(f.publisherId)).toEqual({ total: MAX_ENDPOINTS, active: 0 });
    const error = expectError(
      await admin('POST', '/endpoints', endpoint(f.publisherId)),
      409,
      'endpoint_limit_reached',
      ['publisher_id'],
    );
    expect(error.message).toContain(`${MAX_ENDPOINTS} endpoints`);
    expect(error.fields?.publisher_id).toContain('change a disabled one instead');
    // A disabled one can still be changed and enabled.
    const first = answers.find((a) => a.status === 201)?.body as { id: number };
    const enabled = await admin('PATCH', `/endpoints/${first.id}`, {
      status: 'active',
      url: 'https://hooks.example.com/another',
    });
    expect(enabled.status).toBe(200);
  });

  it('is per publisher: another publisher still creates', async () => {
    const f = await createFixture();
    const g = await createFixture();
    await Promise.all(
      Array.from({ length: MAX_ACTIVE_ENDPOINTS }, () => admin('POST', '/endpoints', endpoint(f.publisherId))),
    );
    expect((await admin('POST', '/endpoints', endpoint(g.publisherId))).status).toBe(201);
  });
});
