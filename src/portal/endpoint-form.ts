// The portal's "Add an endpoint" form: every delivery format the endpoints API has (query, json,
// form, xml, the awin preset) with the fields each needs (method, body template, form field),
// the events, an offer filter and the payload options. The form only turns fields into the API's
// body; the API's own rules judge it, and a refusal comes back with each field's problem shown
// next to its input and what was typed kept.
import { CONVERSION_EVENT_TYPES } from '../conversions/status';
import { html, type SafeHtml } from '../dashboard/html';
import { MAX_BODY_TEMPLATE } from '../notify/body-template';
import { csrfField } from './layout';

/** What the person typed, as the form's fields (all text, so a refused form shows it again). */
export interface EndpointFormValues {
  url: string;
  format: string;
  method: string;
  body_template: string;
  form_field: string;
  offer_ids: string;
  events: string[];
  include_products: boolean;
  include_click_data: boolean;
}

export const EMPTY_ENDPOINT_FORM: EndpointFormValues = {
  url: '',
  format: 'query',
  method: '',
  body_template: '',
  form_field: '',
  offer_ids: '',
  events: ['conversion.created'],
  include_products: false,
  include_click_data: false,
};

/** The formats offered: the API's four, and Awin's preset (a POST form it writes itself). */
const FORMATS: [string, string][] = [
  ['query', 'query: GET, values in the URL'],
  ['json', 'json: POST, JSON body'],
  ['form', 'form: POST, form fields'],
  ['xml', 'xml: POST, XML body'],
  ['awin', "awin: Awin's AwinTransactionPush"],
];

const METHODS: [string, string][] = [
  ['', 'As the format is sent'],
  ['GET', 'GET'],
  ['POST', 'POST'],
];

/** The form's fields read from a submitted body. */
export function endpointFormValues(form: Record<string, unknown>): EndpointFormValues {
  const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
  const events = [form.events ?? []].flat().filter((e): e is string => typeof e === 'string');
  return {
    url: text('url').trim(),
    format: text('format').trim(),
    method: text('method').trim(),
    // A template is the receiver's exact body: its spaces and line breaks are kept.
    body_template: text('body_template'),
    form_field: text('form_field').trim(),
    offer_ids: text('offer_ids').trim(),
    events,
    include_products: form.include_products !== undefined,
    include_click_data: form.include_click_data !== undefined,
  };
}

/**
 * The createEndpoint body the form's fields make. Empty optional fields are left out, so the API
 * applies its defaults; anything else goes as typed, for the API to accept or name as wrong.
 */
export function endpointRequest(values: EndpointFormValues): Record<string, unknown> {
  const awin = values.format === 'awin';
  const offerIds = values.offer_ids
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((id) => (/^\d{1,12}$/.test(id) ? Number(id) : id));
  return {
    url: values.url,
    ...(awin ? { preset: 'awin' } : values.format ? { format: values.format } : {}),
    ...(values.method ? { method: values.method } : {}),
    ...(values.body_template.trim() ? { body_template: values.body_template } : {}),
    ...(values.form_field ? { form_field: values.form_field } : {}),
    ...(offerIds.length > 0 ? { offer_ids: offerIds } : {}),
    events: values.events,
    include_products: values.include_products,
    include_click_data: values.include_click_data,
  };
}

/** Where each API field's problem is shown: the input it came from (preset: the format's). */
const INPUT_OF: Record<string, string> = { preset: 'format' };

/** The API's field errors by form input ("offer_ids.0" under offer_ids, "preset" under format). */
export function errorsByInput(fields: Record<string, string> | undefined): Record<string, string> {
  const byInput: Record<string, string> = {};
  for (const [name, problem] of Object.entries(fields ?? {})) {
    const base = name.split('.')[0] ?? name;
    const input = INPUT_OF[base] ?? base;
    byInput[input] = byInput[input] ? `${byInput[input]}; ${problem}` : problem;
  }
  return byInput;
}

const problemOf = (errors: Record<string, string>, input: string): SafeHtml | null =>
  errors[input]
    ? html`<span class="field-error" id="${input}-error" role="alert">${input.replace('_', ' ')}: ${errors[input]}</span>`
    : null;

const invalid = (errors: Record<string, string>, input: string): SafeHtml | null =>
  errors[input] ? html` aria-invalid="true" aria-describedby="${input}-error"` : null;

function options(choices: [string, string][], chosen: string): SafeHtml[] {
  return choices.map(
    ([value, label]) => html`<option value="${value}"${value === chosen ? html` selected` : null}>${label}</option>`,
  );
}

export function endpointForm(csrf: string, values: EndpointFormValues, errors: Record<string, string>): SafeHtml {
  const eventBoxes = CONVERSION_EVENT_TYPES.map(
    (e) =>
      html`<label class="row"><input type="checkbox" name="events" value="${e}"${values.events.includes(e) ? html` checked` : null}> ${e}</label>`,
  );
  const box = (name: 'include_products' | 'include_click_data', label: string) =>
    html`<label class="row"><input type="checkbox" name="${name}" value="1"${values[name] ? html` checked` : null}> ${label}</label>`;
  return html`<form class="stack" id="endpoint-form" method="post" action="/portal/endpoints">${csrfField(csrf)}
<label>URL (https; macros like {click_id} {payout} {sub1} !!!clickRef!!! allowed)<input name="url" type="url" required maxlength="2048" value="${values.url}"${invalid(errors, 'url')} placeholder="https://you.example/postback?click={click_id}&amp;payout={payout}"></label>
${problemOf(errors, 'url')}
<label>Format<select name="format"${invalid(errors, 'format')}>${options(FORMATS, values.format)}</select></label>
${problemOf(errors, 'format')}
<label>Method<select name="method"${invalid(errors, 'method')}>${options(METHODS, values.method)}</select></label>
${problemOf(errors, 'method')}
<label>Body template (json, form or xml: your own body with macros; empty for Clickhop's payload)<textarea name="body_template" rows="5" maxlength="${MAX_BODY_TEMPLATE}"${invalid(errors, 'body_template')} placeholder="{&quot;click&quot;: &quot;{click_id}&quot;, &quot;payout&quot;: &quot;{payout}&quot;}">${values.body_template}</textarea></label>
${problemOf(errors, 'body_template')}
<label>Form field (form only: send the JSON payload in this one field; empty for flat fields)<input name="form_field" maxlength="64" value="${values.form_field}"${invalid(errors, 'form_field')}></label>
${problemOf(errors, 'form_field')}
<fieldset><legend class="muted">Events</legend>${eventBoxes}</fieldset>
${problemOf(errors, 'events')}
<label>Only these offers (ids, comma-separated; empty for every offer)<input name="offer_ids" inputmode="numeric" maxlength="2000" value="${values.offer_ids}"${invalid(errors, 'offer_ids')}></label>
${problemOf(errors, 'offer_ids')}
${box('include_products', 'Include product lines')}
${box('include_click_data', 'Include click data (referrer, country)')}
<button type="submit">Add endpoint</button>
</form>`;
}
