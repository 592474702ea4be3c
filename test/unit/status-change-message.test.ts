// The refusal of a status change reads as English (issue 18: "Cannot change a approved conversion").
import { describe, expect, it } from 'vitest';
import { illegalStatusChange } from '../../src/conversions/lifecycle';

describe('illegal status change message', () => {
  it.each([
    ['approved', 'pending', /^Cannot change an approved conversion to pending: /],
    ['rejected', 'approved', /^Cannot change a rejected conversion to approved: /],
    ['reversed', 'approved', /^Cannot change a reversed conversion to approved: reversed is final$/],
  ] as const)('from %s to %s', (from, to, message) => {
    expect(illegalStatusChange(from, to).message).toMatch(message);
  });
});
