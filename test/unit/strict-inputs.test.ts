// Every admin request body refuses fields it does not know, naming them (issue 18): some create
// routes used to drop unknown fields silently while others refused them.
import { describe, expect, it } from 'vitest';
import { adminRouters } from '../../src/admin';
import { zodFieldErrors } from '../../src/lib/errors';

const withBody = adminRouters.flatMap((router) => router.operations).filter((op) => op.body !== undefined);

describe('admin request bodies', () => {
  it('covers every operation that takes a body', () => {
    expect(withBody.map((op) => op.operationId)).toEqual(
      expect.arrayContaining(['createAdvertiser', 'createPublisher', 'createOffer', 'createEndpoint']),
    );
  });

  for (const op of withBody) {
    it(`${op.operationId} refuses an unknown field, naming it`, () => {
      const result = op.body?.schema.safeParse({ ...(op.body.example ?? {}), zz_unknown: 1 });
      expect(result?.success).toBe(false);
      if (result && !result.success) expect(zodFieldErrors(result.error)).toHaveProperty(['zz_unknown']);
    });
  }

  it('refuses unknown fields inside goals and commission groups too', () => {
    const create = withBody.find((op) => op.operationId === 'createOffer');
    const example = create?.body?.example ?? {};
    const goals = (example.goals as Record<string, unknown>[] | undefined) ?? [{ key: 'sale', revenue: '1.00' }];
    const result = create?.body?.schema.safeParse({
      ...example,
      goals: [{ ...goals[0], zz_goal: 1, commission_groups: [{ key: 'books', payout: '1.00', zz_group: 1 }] }],
    });
    expect(result?.success).toBe(false);
    if (result && !result.success) {
      const fields = zodFieldErrors(result.error);
      expect(fields).toHaveProperty(['goals.0.zz_goal']);
      expect(fields).toHaveProperty(['goals.0.commission_groups.0.zz_group']);
    }
  });

  it('names a __proto__ field instead of losing it (the message was "Invalid ")', () => {
    const create = withBody.find((op) => op.operationId === 'createAdvertiser');
    const result = create?.body?.schema.safeParse(JSON.parse('{"name":"Shop","__proto__":{"x":1}}'));
    expect(result?.success).toBe(false);
    if (result && !result.success) expect(Object.keys(zodFieldErrors(result.error))).toEqual(['__proto__']);
  });
});
