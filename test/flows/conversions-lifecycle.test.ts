// The status lifecycle (pure): which moves are legal, which events they emit, and how a move
// shifts count and money between rollup columns.
import { describe, expect, it } from 'vitest';
import {
  canChangeStatus,
  creationEventTypes,
  statsContribution,
  statsMove,
  statusEventType,
} from '../../src/conversions/lifecycle';
import type { ConversionStatus } from '../../src/db/conversions';

const ALL: ConversionStatus[] = ['pending', 'approved', 'rejected', 'reversed'];
const LEGAL = new Set(['pending>approved', 'pending>rejected', 'approved>reversed']);

describe('canChangeStatus', () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const legal = LEGAL.has(`${from}>${to}`);
      it(`${legal ? 'allows' : 'refuses'} ${from} -> ${to}`, () => {
        expect(canChangeStatus(from, to)).toBe(legal);
      });
    }
  }
});

describe('events', () => {
  it('emits created, plus approved or rejected when a conversion starts that way', () => {
    expect(creationEventTypes('pending')).toEqual(['conversion.created']);
    expect(creationEventTypes('approved')).toEqual(['conversion.created', 'conversion.approved']);
    expect(creationEventTypes('rejected')).toEqual(['conversion.created', 'conversion.rejected']);
  });

  it('names the event of each status change after the new status', () => {
    expect(statusEventType('approved')).toBe('conversion.approved');
    expect(statusEventType('rejected')).toBe('conversion.rejected');
    expect(statusEventType('reversed')).toBe('conversion.reversed');
    expect(statusEventType('pending')).toBeNull();
  });
});

describe('rollup deltas', () => {
  const money = { revenue: 2000, payout: 1000 };

  it('counts money only in the pending and approved columns', () => {
    expect(statsContribution('pending', money)).toEqual({ pending: 1, revenue_pending: 2000, payout_pending: 1000 });
    expect(statsContribution('approved', money)).toEqual({
      approved: 1,
      revenue_approved: 2000,
      payout_approved: 1000,
    });
    expect(statsContribution('rejected', money)).toEqual({ rejected: 1 });
    expect(statsContribution('reversed', money)).toEqual({ reversed: 1 });
  });

  it('moves count and money from one status to the next', () => {
    expect(statsMove('pending', 'approved', money)).toEqual({
      pending: -1,
      revenue_pending: -2000,
      payout_pending: -1000,
      approved: 1,
      revenue_approved: 2000,
      payout_approved: 1000,
    });
    expect(statsMove('approved', 'reversed', money)).toEqual({
      approved: -1,
      revenue_approved: -2000,
      payout_approved: -1000,
      reversed: 1,
    });
  });

  it('applied along any legal path, leaves exactly the final status counted', () => {
    for (const path of [
      ['pending', 'approved', 'reversed'],
      ['pending', 'rejected'],
      ['approved', 'reversed'],
    ] as ConversionStatus[][]) {
      const total: Record<string, number> = {};
      const add = (delta: Record<string, number>) => {
        for (const [k, v] of Object.entries(delta)) total[k] = (total[k] ?? 0) + v;
      };
      add(statsContribution(path[0] as ConversionStatus, money));
      for (let i = 1; i < path.length; i++)
        add(statsMove(path[i - 1] as ConversionStatus, path[i] as ConversionStatus, money));
      const nonZero = Object.fromEntries(Object.entries(total).filter(([, v]) => v !== 0));
      expect(nonZero).toEqual(statsContribution(path[path.length - 1] as ConversionStatus, money));
    }
  });
});
