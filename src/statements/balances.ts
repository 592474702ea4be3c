// What is owed and what is paid, by currency: conversions pending and approved (from the daily
// rollups), and what statements and invoices hold by status. `unstated` is approved work not
// yet on a draft, issued or paid document (including totals carried forward).
import { conversionTotals, documentTotals } from '../db/statements';
import { formatAmount } from '../lib/money';
import type { DocumentKind } from './kinds';

export interface Balance {
  pending: number;
  approved: number;
  unstated: number;
  draft: number;
  issued: number;
  paid: number;
}

export interface CurrencyBalances {
  currency: string;
  /** What publishers earn (statements). */
  payout: Balance;
  /** What advertisers owe (invoices). */
  revenue: Balance;
}

const empty = (): Balance => ({ pending: 0, approved: 0, unstated: 0, draft: 0, issued: 0, paid: 0 });

export async function readBalances(db: D1Database): Promise<CurrencyBalances[]> {
  const [conversions, documents] = await Promise.all([conversionTotals(db), documentTotals(db)]);
  const byCurrency = new Map<string, CurrencyBalances>();
  const of = (currency: string) => {
    let entry = byCurrency.get(currency);
    if (!entry) {
      entry = { currency, payout: empty(), revenue: empty() };
      byCurrency.set(currency, entry);
    }
    return entry;
  };
  for (const row of conversions) {
    const entry = of(row.currency);
    entry.payout.pending += row.payout_pending;
    entry.payout.approved += row.payout_approved;
    entry.revenue.pending += row.revenue_pending;
    entry.revenue.approved += row.revenue_approved;
  }
  const side: Record<DocumentKind, 'payout' | 'revenue'> = { statement: 'payout', invoice: 'revenue' };
  for (const row of documents) {
    if (row.status === 'carried') continue;
    of(row.currency)[side[row.kind]][row.status] += row.total;
  }
  for (const entry of byCurrency.values()) {
    for (const b of [entry.payout, entry.revenue]) b.unstated = b.approved - b.draft - b.issued - b.paid;
  }
  return [...byCurrency.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1));
}

/** Minor units as decimal text, for answers and pages. */
export const formatBalance = (b: Balance, currency: string) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, formatAmount(v, currency)])) as Record<
    keyof Balance,
    string
  >;
