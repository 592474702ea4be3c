// What money each party may see (DESIGN.md, "What each party may see"). A network's margin is
// revenue (what the advertiser pays) minus payout (what the publisher earns): a publisher never
// sees revenue or anything computed from it, an advertiser never sees payout, the operator sees
// everything. This is the one table of that rule; every API answer (the postback answer too,
// for the advertiser's server), report row, CSV column, portal column, delivered snapshot and
// endpoint macro that carries conversion money is cut through it, per party.
import type { Role } from './principal';

/**
 * The fields each party may not see, by name, wherever they occur in a conversion, its event
 * snapshots, a report row or an offer's terms. Besides the money itself: the payout rule that
 * won (names a publisher's own rate or tier), volume tiers (payout steps), and the advertiser's
 * raw postback log rows (its server's parameters, IP prefix and internal notes such as
 * TradeTracker's descrMerchant) that the click dispute view shows, and likewise the publisher's
 * notification deliveries there (its endpoints, their outcomes and errors): an advertiser sees
 * nothing of how a publisher is notified.
 */
const HIDDEN: Readonly<Record<Role, ReadonlySet<string>>> = {
  operator: new Set(),
  publisher: new Set(['revenue', 'revenue_approved', 'revenue_percent', 'margin', 'postbacks']),
  advertiser: new Set([
    'payout',
    'payout_approved',
    'payout_percent',
    'payout_rule',
    'tiers',
    'tier_period',
    'margin',
    'deliveries',
    'deliveries_per_conversion',
  ]),
};

/** Whether `field` is kept from `role`. */
export const hidden = (role: Role, field: string): boolean => HIDDEN[role].has(field);

/** Which conversion money a role sees: a publisher its payout, an advertiser what it pays, the operator both. */
export const moneyShown = (role: Role) => ({ payout: !hidden(role, 'payout'), revenue: !hidden(role, 'revenue') });

/**
 * What a report's EPC divides by clicks for a role: payout for a publisher (its earnings per
 * click) and the operator, revenue for an advertiser (its cost per click). Either way the
 * number is made of money the role sees.
 */
export const epcBasis = (role: Role): 'payout' | 'revenue' => (hidden(role, 'payout') ? 'revenue' : 'payout');

/**
 * `value` without the fields kept from `role` (one level: the caller names nested parts, so
 * free-form data such as postback parameters is never rewritten). The type is the caller's:
 * every field this drops is optional in the answer shapes.
 */
export function visibleTo<T extends object>(role: Role, value: T): T {
  const kept = HIDDEN[role];
  if (kept.size === 0) return value;
  return Object.fromEntries(Object.entries(value).filter(([field]) => !kept.has(field))) as T;
}

/** A conversion snapshot (an event's, or what a delivery sends) as `role` may see it, with its previous values. */
export function snapshotFor<T extends object>(role: Role, snapshot: T): T {
  const view: T & { previous?: object } = visibleTo(role, snapshot);
  return view.previous ? { ...view, previous: visibleTo(role, view.previous) } : view;
}

/** A conversion as `role` may see it: its money, the values before an adjustment, and each event's snapshot. */
export function conversionFor<T extends object>(role: Role, conversion: T): T {
  const view: T & { previous?: object; events?: { snapshot: object }[] } = visibleTo(role, conversion);
  return {
    ...view,
    ...(view.previous ? { previous: visibleTo(role, view.previous) } : {}),
    ...(view.events
      ? { events: view.events.map((event) => ({ ...event, snapshot: snapshotFor(role, event.snapshot) })) }
      : {}),
  };
}

/**
 * An offer as `role` may see it, down to each goal's commission groups: an advertiser reads
 * what its offers charge it, not what they pay publishers. (A publisher reads offers through
 * its own view, src/admin/publisher-offers.ts, which never reads revenue.)
 */
export function offerFor<T extends { goals: { commission_groups: object[] }[] }>(role: Role, offer: T): T {
  return {
    ...visibleTo(role, offer),
    goals: offer.goals.map((goal) => ({
      ...visibleTo(role, goal),
      commission_groups: goal.commission_groups.map((group) => visibleTo(role, group)),
    })),
  };
}

/**
 * Where a delivery's snapshot is cut for: an endpoint last saved by the operator may carry
 * operator-only macros ({revenue}, for an in-house program that shares it); one a publisher
 * saved (or of unknown origin) renders them empty.
 */
export const endpointAudience = (savedBy: string | null | undefined): Role =>
  savedBy === 'operator' ? 'operator' : 'publisher';
