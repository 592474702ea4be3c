// The rules an endpoint's delivery settings must meet on every save: method fits format, the
// form field only for forms, known macros outside the host, a safe destination, known offers.
import type { ConversionEventType } from '../conversions/status';
import { existingOfferIds } from '../db/offers';
import { badRequest, type FieldErrors } from '../lib/errors';
import { checkDestination } from '../notify/destination';
import { hasMacroInAuthority, unknownMacros, withSampleValues } from '../notify/macros';

export type EndpointMethod = 'GET' | 'POST';
export type EndpointFormat = 'query' | 'json' | 'form';

const METHOD_OF_FORMAT = { query: 'GET', json: 'POST', form: 'POST' } as const;

export interface EndpointSettings {
  url: string;
  method: EndpointMethod;
  format: EndpointFormat;
  form_field: string | null;
  events: ConversionEventType[];
  offer_ids: number[] | null;
}

/** Checks an endpoint as it would be stored; every problem is reported at once, by field. */
export async function validateSettings(env: Env, settings: EndpointSettings): Promise<void> {
  const errors: FieldErrors = {};
  if (METHOD_OF_FORMAT[settings.format] !== settings.method) {
    errors.method =
      settings.format === 'query'
        ? 'format query is sent with GET'
        : `format ${settings.format} is sent with POST (use format query for GET)`;
  }
  if (settings.form_field !== null && settings.format !== 'form') errors.form_field = 'only for format form';
  const unknown = unknownMacros(settings.url);
  if (unknown.length > 0) errors.url = `unknown macros: ${unknown.join(', ')}`;
  else if (hasMacroInAuthority(settings.url))
    errors.url = 'macros are allowed in the path and query only, not in the host';
  else {
    const destination = checkDestination(withSampleValues(settings.url), env);
    if (!destination.ok) errors.url = destination.reason;
  }
  if (settings.offer_ids) {
    const known = await existingOfferIds(env.DB, settings.offer_ids);
    const missing = settings.offer_ids.filter((id) => !known.has(id));
    if (missing.length > 0) errors.offer_ids = `unknown offers: ${missing.join(', ')}`;
  }
  if (Object.keys(errors).length > 0) {
    const message =
      unknown.length > 0 ? `Unknown macros in url: ${unknown.join(', ')}` : `Invalid ${Object.keys(errors).join(', ')}`;
    throw badRequest(message, errors);
  }
}

/** Fills in method from format or format from method, whichever was not given. */
export function resolveShape(
  given: { method?: EndpointMethod; format?: EndpointFormat },
  current?: { method: EndpointMethod; format: EndpointFormat },
): { method: EndpointMethod; format: EndpointFormat } {
  if (given.method && given.format) return { method: given.method, format: given.format };
  if (given.format) return { method: METHOD_OF_FORMAT[given.format], format: given.format };
  if (given.method) {
    const keep = current && METHOD_OF_FORMAT[current.format] === given.method ? current.format : undefined;
    return { method: given.method, format: keep ?? (given.method === 'GET' ? 'query' : 'json') };
  }
  if (current) return { method: current.method, format: current.format };
  throw badRequest('Give method or format', { format: 'required (query, json or form)' });
}
