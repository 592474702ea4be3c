// Server-rendered HTML through Hono's `html` tag: every interpolated value is escaped unless it
// is already escaped HTML (a nested `html` result or `raw(...)`), so escaping is the default.
import { html as honoHtml, raw } from 'hono/html';
import { escapeToBuffer, type HtmlEscapedString } from 'hono/utils/html';

export type SafeHtml = HtmlEscapedString;

/** What may be interpolated: text and numbers (escaped), SafeHtml (kept), lists, or nothing. */
export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

/**
 * Hono's tag, typed for our pages: they never interpolate promises, so the result is always
 * the escaped string itself, never a promise of it.
 */
export const html = (strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml =>
  honoHtml(strings, ...values) as SafeHtml;

export { raw };

/** Text made safe for element content and for double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  const buffer = [''];
  escapeToBuffer(text, buffer);
  return buffer[0] as string;
}
