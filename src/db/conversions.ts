// conversions and conversion_events tables: row types shared by the postback flow (which
// writes them) and the notification flow (which reads events and their snapshots).

export type ConversionStatus = 'pending' | 'approved' | 'rejected' | 'reversed';

export type ConversionEventType =
  | 'conversion.created'
  | 'conversion.approved'
  | 'conversion.rejected'
  | 'conversion.reversed';

export const CONVERSION_EVENT_TYPES: readonly ConversionEventType[] = [
  'conversion.created',
  'conversion.approved',
  'conversion.rejected',
  'conversion.reversed',
];

export interface ConversionRow {
  id: string;
  offer_id: number;
  goal_id: number;
  advertiser_id: number;
  publisher_id: number;
  click_id: string | null;
  click_time: string | null;
  order_id: string | null;
  dedupe_key: string;
  status: ConversionStatus;
  currency: string;
  amount: number;
  payout_currency: string;
  revenue: number;
  payout: number;
  voucher: string | null;
  description: string | null;
  products: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  source: string;
  flags: string | null;
  created_at: string;
  updated_at: string;
}

export interface ConversionEventRow {
  id: string;
  conversion_id: string;
  type: ConversionEventType;
  from_status: ConversionStatus | null;
  to_status: ConversionStatus;
  actor: 'postback' | 'admin' | 'system';
  reason: string | null;
  /** JSON of a ConversionSnapshot (src/notify/snapshot.ts). */
  snapshot: string;
  created_at: string;
}
