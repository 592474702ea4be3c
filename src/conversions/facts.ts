// What the program terms need to know from D1 to price a new conversion beyond the offer, its
// goals and rules: the publisher's conversions so far in the tier period (volume tiers) and the
// exchange rate in force for the sale's currency. Offered as statements, so a postback reads
// them in its one read batch (src/postback/reads.ts), and as a loader for everyone else.
import { type RateInForce, rateIntoOfferStatement } from '../db/exchange-rates';
import { tierCountsStatement } from '../db/payout-rules';
import { tierPeriodStart } from './tiers';

export interface RuleFacts {
  /** The publisher's conversions (pending or approved) per tiered goal in the current tier period. */
  tierCounts: Map<number, number>;
  /** The rate from the sale currency into the offer's in force now, when they differ. */
  exchangeRate: RateInForce | null;
}

export interface RuleFactsQuery {
  offerId: number;
  publisherId: number;
  /** The sale currency as sent (null: the offer's own). */
  currency: string | null;
  now: number;
  timeZone: string;
}

export interface FactRead {
  statement: D1PreparedStatement;
  take(rows: unknown[]): void;
}

/** The statements that read the facts of `query`, and the facts they fill once run. */
export function ruleFactReads(db: D1Database, query: RuleFactsQuery): { reads: FactRead[]; facts: RuleFacts } {
  const facts: RuleFacts = { tierCounts: new Map(), exchangeRate: null };
  const since = tierPeriodStart(query.now, query.timeZone);
  const reads: FactRead[] = [
    {
      statement: tierCountsStatement(db, query.offerId, query.publisherId, since),
      take: (rows) => {
        for (const row of rows as { goal_id: number; n: number }[]) facts.tierCounts.set(row.goal_id, row.n);
      },
    },
  ];
  if (query.currency !== null) {
    reads.push({
      statement: rateIntoOfferStatement(db, query.currency, query.offerId, new Date(query.now).toISOString()),
      take: (rows) => {
        facts.exchangeRate = (rows[0] as RateInForce | undefined) ?? null;
      },
    });
  }
  return { reads, facts };
}

export async function loadRuleFacts(db: D1Database, query: RuleFactsQuery): Promise<RuleFacts> {
  const { reads, facts } = ruleFactReads(db, query);
  const results = await db.batch(reads.map((r) => r.statement));
  results.forEach((result, i) => {
    reads[i]?.take(result.results ?? []);
  });
  return facts;
}

/** The key under which facts of a query are remembered within one request. */
export const factsKey = (q: Pick<RuleFactsQuery, 'offerId' | 'publisherId' | 'currency'>): string =>
  `${q.offerId}\n${q.publisherId}\n${q.currency ?? ''}`;
