// What the click path knows about an offer's program terms, and the one decision it makes from
// it: may this publisher's click reach the landing page now? Pure; the data comes from the edge
// config (src/click/config.ts), so the decision costs no storage read.
import type { CapPeriod } from './periods';

/** A cap reached in its current period: whom it closes the offer to, and until when. */
export interface ReachedCap {
  capId: number;
  /** null: every publisher. */
  publisherId: number | null;
  period: CapPeriod;
  /** UTC ms where the period ends and the cap opens again; null for lifetime. */
  until: number | null;
}

export interface OfferTerms {
  /** For a private offer, the approved publishers in ascending order; null for a public offer. */
  approved: number[] | null;
  /** Where refused clicks go first: another offer (a real click there). */
  fallbackOfferId: number | null;
  reached: ReachedCap[];
}

export type Refusal = 'offer_not_available' | 'offer_capped';

/** Why the publisher's click may not reach the offer at `now`, or null when it may. */
export function refusalFor(terms: OfferTerms | undefined, publisherId: number, now: number): Refusal | null {
  if (!terms) return null;
  if (terms.approved && !isApproved(terms.approved, publisherId)) return 'offer_not_available';
  for (const cap of terms.reached) {
    if ((cap.publisherId === null || cap.publisherId === publisherId) && (cap.until === null || now < cap.until)) {
      return 'offer_capped';
    }
  }
  return null;
}

/** Binary search: an offer may have thousands of approved publishers. */
function isApproved(sorted: number[], publisherId: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const value = sorted[mid] as number;
    if (value === publisherId) return true;
    if (value < publisherId) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * The terms to cache for an offer, or undefined when it has none in force (public, nothing
 * reached): the click path then skips the check entirely.
 */
export function offerTerms(
  visibility: 'public' | 'private',
  approved: number[],
  fallbackOfferId: number | null,
  reached: ReachedCap[],
): OfferTerms | undefined {
  if (visibility === 'public' && reached.length === 0) return undefined;
  return { approved: visibility === 'private' ? approved : null, fallbackOfferId, reached };
}

export const REFUSAL_MESSAGES: Record<Refusal, string> = {
  offer_not_available: 'This offer is not available to this publisher',
  offer_capped: 'This offer has reached its cap for this publisher',
};
