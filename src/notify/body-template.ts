// Body templates: a receiver writes its own POST body (JSON, XML or form) with macros, and every
// value is escaped for that content type, so a quote, `<`, `&`, a newline or non-ASCII text in a
// sub ID arrives as the same characters and can never change the body's structure.
import type { ConversionSnapshot } from '../conversions/snapshot';
import { encodeMacroValue, hasMacro, renderTemplate, unknownMacros, withSampleValues } from './macros';
import type { CommissionGroup } from './snapshot-fields';
import { escapeXml, xmlProblem } from './xml';

export type TemplateFormat = 'json' | 'xml' | 'form';

export const CONTENT_TYPES: Record<TemplateFormat, string> = {
  json: 'application/json',
  xml: 'application/xml',
  form: 'application/x-www-form-urlencoded',
};

/** The escaping of one macro value inside a body of each content type. */
export const ESCAPES: Record<TemplateFormat, (value: string) => string> = {
  // The inside of a JSON string: macros stand inside quotes in the template.
  json: (value) => JSON.stringify(value.toWellFormed()).slice(1, -1),
  xml: escapeXml,
  form: encodeMacroValue,
};

export const MAX_BODY_TEMPLATE = 16 * 1024;

// A sample holding every character that could break out of a value in one of the formats.
const SAMPLE = 'a b"\'<&>\n';

/** Why a template cannot be used for the format, or null. Every value is checked as escaped. */
export function bodyTemplateProblem(template: string, format: TemplateFormat): string | null {
  if (template.length > MAX_BODY_TEMPLATE) return `must be at most ${MAX_BODY_TEMPLATE} characters`;
  const unknown = unknownMacros(template);
  if (unknown.length > 0) return `unknown macros: ${unknown.join(', ')}`;
  const filled = withSampleValues(template, ESCAPES[format](SAMPLE));
  if (format === 'json') {
    try {
      JSON.parse(filled);
    } catch {
      return 'is not valid JSON once macros are filled (put each macro inside a JSON string)';
    }
    return null;
  }
  if (format === 'xml') {
    // Entities are not decoded in CDATA or comments, so an escaped value there would arrive altered.
    for (const section of template.match(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g) ?? []) {
      if (hasMacro(section)) return 'macros belong in element text or attribute values, not in CDATA or comments';
    }
    const problem = xmlProblem(filled);
    return problem === null ? null : `is not well-formed XML once macros are filled: ${problem}`;
  }
  return null;
}

export function renderBodyTemplate(
  template: string,
  format: TemplateFormat,
  snapshot: ConversionSnapshot,
  groups: readonly CommissionGroup[],
): string {
  return renderTemplate(template, snapshot, groups, ESCAPES[format]);
}
