// Deduplication keys. A conversion is unique per (offer, goal, dedupe_key), enforced by the
// database: a postback that repeats an order ID or a click ID for a goal that converts once
// finds the conversion it already made instead of making another.
import type { GoalRow } from '../db/offers';
import { randomId } from '../lib/crypto';

/** The key of a conversion with an advertiser order ID; also finds it for a status update. */
export const orderKey = (orderId: string): string => `o:${orderId}`;

/** The key of a once-only goal's conversion from a click without an order ID. */
export const clickKey = (clickId: string): string => `c:${clickId}`;

/** A repeatable goal without an order ID: every postback is a new conversion. */
export const isRepeatKey = (key: string): boolean => key.startsWith('r:');

/**
 * The key of a new conversion: the order ID when there is one, a fresh key for a goal that
 * allows repeats, else the click ID. Null when the goal converts once and there is neither
 * (an offer_id + publisher_id postback without order ID).
 */
export function dedupeKey(
  goal: Pick<GoalRow, 'allow_repeats'>,
  ids: { orderId?: string | undefined; clickId?: string | undefined },
): string | null {
  if (ids.orderId !== undefined) return orderKey(ids.orderId);
  if (goal.allow_repeats === 1) return `r:${randomId('', 12)}`;
  if (ids.clickId !== undefined) return clickKey(ids.clickId);
  return null;
}
