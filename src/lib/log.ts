// Structured JSON logs for Workers Logs: one JSON object per line, `level`, `event` and `time`
// first, then operational fields (ids, counts, statuses). Callers pass only such fields: never
// secrets, never full IP addresses (use ipPrefix), never full postback parameters or
// notification URLs. docs/logs.md lists the events.
//
// Text we do not write ourselves can still carry secrets: runtime errors quote URLs ("Fetch API
// cannot load: https://…?token=…"), and an unexpected exception says whatever it says. So every
// line passes through redactSecrets() before it is written, as a safety net, not as the policy.
import { ipPrefix, parseIp } from './ip';
import { CREDENTIAL_IN_LOG_LINE } from './redact';

type Level = 'debug' | 'info' | 'warn' | 'error';

const RESERVED = new Set(['level', 'event', 'time']);
const REDACTED = '[redacted]';
/** Longest error text kept in a line; enough for any D1 or runtime message. */
const MAX_ERROR_LENGTH = 1000;

export function log(level: Level, event: string, fields: Record<string, unknown> = {}): void {
  const time = new Date().toISOString();
  const entry: Record<string, unknown> = { level, event, time };
  for (const [name, value] of Object.entries(fields)) if (!RESERVED.has(name)) entry[name] = value;
  let line: string;
  try {
    line = JSON.stringify(entry, jsonValue);
  } catch (error) {
    // A circular structure: keep the event, say why its fields are missing.
    line = JSON.stringify({ level, event, time, log_error: `fields not serializable: ${errorText(error)}` });
  }
  line = redactSecrets(line);
  // Each level on its own console method, so Workers Logs' own level filter agrees with ours.
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else if (level === 'info') console.info(line);
  else console.debug(line);
}

// A field named like a credential (`token`, `api_key`, `signing_secret` …) never shows its value.
const SECRET_FIELD = /(?:^|[_-])(?:key|apikey|token|secret|password|passwd|signature|authorization|cookie)$/i;

function jsonValue(key: string, value: unknown): unknown {
  if (SECRET_FIELD.test(key) && value !== null && value !== undefined) return REDACTED;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return errorText(value);
  return value;
}

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export function errorFields(error: unknown): { error: string } {
  const text = errorText(error);
  return { error: text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…[truncated]` : text };
}

// Stops at what ends a value in a URL, a header, a sentence or a JSON string (quote, escape).
const VALUE = String.raw`[^\s"'\\&#,;<>()[\]{}]+`;
const AUTH_SCHEME = new RegExp(String.raw`\b(Bearer|Basic|Digest)\s+${VALUE}`, 'gi');
// The whole query of an absolute URL: a publisher's token can have any name (?t=…, ?h=…).
const URL_QUERY = /(\bhttps?:\/\/[^\s"'\\?#<>]*)\?[^\s"'\\#<>]*/gi;
// name=value pairs whose name says secret, wherever they appear (a bare query, a message).
const SECRET_PAIR = new RegExp(
  String.raw`(?<![\w-])((?:[\w-]*[_-])?(?:key|apikey|token|secret|password|passwd|signature|security_token|authorization)=)(?!\[redacted\])${VALUE}`,
  'gi',
);
const IPV4 = /(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,3}))?(?![\w.])/g;
const IPV6 =
  /(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::\d{1,3}(?:\.\d{1,3}){3})?)(?:\/(\d{1,3}))?(?![\w:.])/g;

/**
 * Replaces secret-shaped values in a log line: Authorization credentials, the credentials
 * Clickhop issues (`chk_`, `pbk_`, `whsec_`, `chs_`, `chi_`: src/lib/redact.ts), URL queries,
 * `key=`/`token=`-style pairs, and full IP addresses (cut to the /24 or /48 network the rest of
 * Clickhop keeps). Networks written as prefixes of at most /24 (IPv4)
 * or /64 (IPv6) stay as they are. Only adds characters that are safe inside a JSON string.
 */
export function redactSecrets(line: string): string {
  return line
    .replace(AUTH_SCHEME, (_match, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(URL_QUERY, (_match, base: string) => `${base}?${REDACTED}`)
    .replace(SECRET_PAIR, (_match, name: string) => `${name}${REDACTED}`)
    .replace(CREDENTIAL_IN_LOG_LINE, (_match, kind: string) => `${kind}_${REDACTED}`)
    .replace(IPV4, (match, address: string, bits?: string) => shortenAddress(match, address, bits, 24))
    .replace(IPV6, (match, address: string, bits?: string) => shortenAddress(match, address, bits, 64));
}

function shortenAddress(match: string, address: string, bits: string | undefined, widestKept: number): string {
  // Not an address (a time, a version), or all zeros ("::", "0.0.0.0"), which names nobody.
  if (!/[1-9a-f]/i.test(address) || !parseIp(address)) return match;
  if (bits !== undefined && Number(bits) <= widestKept) return match;
  return ipPrefix(address) ?? match;
}
