// The two documents of closing the month share one implementation: a statement tells a
// publisher what it earned (payout), an invoice tells an advertiser what it owes (revenue).
// A kind names the party and the money column; nothing else differs.

export type DocumentKind = 'statement' | 'invoice';

export type DocumentStatus = 'draft' | 'carried' | 'issued' | 'paid';

export const DOCUMENT_STATUSES: readonly DocumentStatus[] = ['draft', 'carried', 'issued', 'paid'];

export interface KindSpec {
  kind: DocumentKind;
  /** The party a document is for, and its column in conversions. */
  party: 'publisher' | 'advertiser';
  partyColumn: 'publisher_id' | 'advertiser_id';
  /** The money a document states: never the other one. */
  value: 'payout' | 'revenue';
  /** For messages and pages: "Statement", "statements". */
  title: string;
  plural: string;
}

export const KINDS: Record<DocumentKind, KindSpec> = {
  statement: {
    kind: 'statement',
    party: 'publisher',
    partyColumn: 'publisher_id',
    value: 'payout',
    title: 'Statement',
    plural: 'statements',
  },
  invoice: {
    kind: 'invoice',
    party: 'advertiser',
    partyColumn: 'advertiser_id',
    value: 'revenue',
    title: 'Invoice',
    plural: 'invoices',
  },
};

/** Events a publisher's endpoint may subscribe to besides the conversion events. */
export const STATEMENT_EVENT_TYPES = ['statement.issued', 'statement.paid'] as const;

export type StatementEventType = (typeof STATEMENT_EVENT_TYPES)[number];
