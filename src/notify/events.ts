// The events a publisher's endpoint may subscribe to: every conversion event, and the
// statement events of closing the month (src/statements/). Statement events are opt-in: an
// endpoint that names no events gets the conversion events only.
import { CONVERSION_EVENT_TYPES, type ConversionEventType } from '../conversions/status';
import { STATEMENT_EVENT_TYPES } from '../statements/kinds';

export const ENDPOINT_EVENT_TYPES = [...CONVERSION_EVENT_TYPES, ...STATEMENT_EVENT_TYPES] as const;

export type EndpointEventType = (typeof ENDPOINT_EVENT_TYPES)[number];

export const isConversionEvent = (event: string): event is ConversionEventType =>
  (CONVERSION_EVENT_TYPES as readonly string[]).includes(event);
