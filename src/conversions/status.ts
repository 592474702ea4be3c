// The conversion statuses and the events a conversion emits: the one list every schema, row type
// and lifecycle rule is built from.

export const CONVERSION_STATUSES = ['pending', 'approved', 'rejected', 'reversed'] as const;

export type ConversionStatus = (typeof CONVERSION_STATUSES)[number];

/** Statuses a conversion may be created in (a reversal of something never recorded is not). */
export const INITIAL_STATUSES: readonly ConversionStatus[] = ['pending', 'approved', 'rejected'];

export const CONVERSION_EVENT_TYPES = [
  'conversion.created',
  'conversion.approved',
  'conversion.rejected',
  'conversion.reversed',
  // An adjustment of amount or products (status unchanged); carries the previous values.
  'conversion.modified',
] as const;

export type ConversionEventType = (typeof CONVERSION_EVENT_TYPES)[number];

/** Who caused a conversion event. */
export type ConversionActor = 'postback' | 'admin' | 'advertiser' | 'system';
