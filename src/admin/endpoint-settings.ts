// The rules an endpoint's delivery settings must meet on every save: method fits format, the
// form field only for forms, a preset or body template that fits the format, known macros
// outside the host and none the saving party may not see, a safe destination, known offers.
import { hidden } from '../auth/money-view';
import type { Role } from '../auth/principal';
import { CONVERSION_EVENT_TYPES, type ConversionEventType } from '../conversions/status';
import { existingOfferIds } from '../db/offers';
import { badRequest, type FieldErrors } from '../lib/errors';
import { AWIN_FORM_FIELD } from '../notify/awin';
import { bodyTemplateProblem } from '../notify/body-template';
import { checkDestination } from '../notify/destination';
import { type EndpointEventType, isConversionEvent } from '../notify/events';
import { hasMacroInAuthority, unknownMacros, withheldMacros, withSampleValues } from '../notify/macros';

export type EndpointMethod = 'GET' | 'POST';
export type EndpointFormat = 'query' | 'json' | 'form' | 'xml';
export type EndpointPreset = 'awin';

const METHOD_OF_FORMAT = { query: 'GET', json: 'POST', form: 'POST', xml: 'POST' } as const;

/** The format a preset is sent in, when the request names none. */
export const presetFormat = (preset: EndpointPreset | null | undefined): EndpointFormat | undefined =>
  preset === 'awin' ? 'form' : undefined;

/**
 * The events an endpoint gets when it names none: all of them, but for the awin preset only
 * conversion.created, since Awin pushes a transaction once and a receiver written for Awin
 * would count every later push as another sale.
 */
export const defaultEvents = (preset: EndpointPreset | null | undefined): ConversionEventType[] =>
  preset === 'awin' ? ['conversion.created'] : [...CONVERSION_EVENT_TYPES];

export interface EndpointSettings {
  url: string;
  method: EndpointMethod;
  format: EndpointFormat;
  form_field: string | null;
  preset: EndpointPreset | null;
  body_template: string | null;
  events: EndpointEventType[];
  offer_ids: number[] | null;
}

/**
 * Checks an endpoint as it would be stored, saved by `savedBy`; every problem is reported at
 * once, by field.
 */
export async function validateSettings(env: Env, settings: EndpointSettings, savedBy: Role): Promise<void> {
  const errors: FieldErrors = {};
  if (METHOD_OF_FORMAT[settings.format] !== settings.method) {
    errors.method =
      settings.format === 'query'
        ? 'format query is sent with GET'
        : `format ${settings.format} is sent with POST (use format query for GET)`;
  }
  if (settings.form_field !== null && settings.format !== 'form') errors.form_field = 'only for format form';
  checkPayloadChoice(settings, errors);
  checkStatementEvents(settings, errors);
  const unknown = unknownMacros(settings.url);
  if (unknown.length > 0) errors.url = `unknown macros: ${unknown.join(', ')}`;
  else if (hasMacroInAuthority(settings.url))
    errors.url = 'macros are allowed in the path and query only, not in the host';
  else {
    const destination = checkDestination(withSampleValues(settings.url), env);
    if (!destination.ok) errors.url = destination.reason;
  }
  const withheld = checkWithheldMacros(settings, savedBy, errors);
  if (settings.offer_ids) {
    const known = await existingOfferIds(env.DB, settings.offer_ids);
    const missing = settings.offer_ids.filter((id) => !known.has(id));
    if (missing.length > 0) errors.offer_ids = `unknown offers: ${missing.join(', ')}`;
  }
  if (Object.keys(errors).length > 0) {
    const message =
      unknown.length > 0
        ? `Unknown macros in url: ${unknown.join(', ')}`
        : withheld.length > 0
          ? `Operator-only macros: ${withheld.join(', ')}`
          : `Invalid ${Object.keys(errors).join(', ')}`;
    throw badRequest(message, errors);
  }
}

/**
 * Macros whose value the saving party may not see ({revenue} for a publisher): a publisher's
 * endpoint sends to the publisher's own server, so it could read the network's margin there.
 * Returns the macros refused, as written.
 */
function checkWithheldMacros(settings: EndpointSettings, savedBy: Role, errors: FieldErrors): string[] {
  const refused = new Set<string>();
  for (const field of ['url', 'body_template'] as const) {
    const macros = withheldMacros(settings[field] ?? '', (name) => hidden(savedBy, name));
    if (macros.length === 0) continue;
    errors[field] ??= `operator-only macros, a ${savedBy} cannot use them: ${macros.join(', ')}`;
    for (const macro of macros) refused.add(macro);
  }
  return [...refused];
}

/** Statement events are sent as Clickhop's own signed POST body: they need one to send it in. */
function checkStatementEvents(settings: EndpointSettings, errors: FieldErrors): void {
  if (settings.events.every(isConversionEvent)) return;
  if (settings.format === 'query' || settings.preset !== null || settings.body_template !== null) {
    errors.events =
      'statement.issued and statement.paid are sent as a signed POST (json, form or xml) without a preset or body_template';
  }
}

/** A preset or a body template, each only where it can be sent, and not both. */
function checkPayloadChoice(settings: EndpointSettings, errors: FieldErrors): void {
  if (settings.preset === 'awin') {
    if (settings.format !== 'form') errors.preset = 'awin is sent as a POST form (format form)';
    if (settings.form_field !== null && settings.form_field !== AWIN_FORM_FIELD) {
      errors.form_field = `the awin preset always uses ${AWIN_FORM_FIELD}`;
    }
    if (settings.body_template !== null) errors.body_template = 'not with a preset (the preset writes the body)';
    return;
  }
  if (settings.body_template === null) return;
  if (settings.format === 'query') {
    errors.body_template = 'only for POST formats (json, xml, form)';
    return;
  }
  if (settings.form_field !== null) errors.form_field = 'not with a body_template';
  const problem = bodyTemplateProblem(settings.body_template, settings.format);
  if (problem) errors.body_template = problem;
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
  throw badRequest('Give method or format', { format: 'required (query, json, form or xml)' });
}
