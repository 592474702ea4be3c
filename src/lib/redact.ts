// Clickhop's own secrets (postback keys `pbk_…`, endpoint signing secrets `whsec_…`) have a
// recognisable shape, so they can be removed from any text that might hold one: a postback
// key sent in the wrong field ends up in an ID column, a field name or an error message.
export const REDACTED = '[redacted]';

// Eight characters are enough to tell a key from a word that merely starts with the prefix.
const OWN_SECRET = /(pbk|whsec)_[A-Za-z0-9+/=_-]{8,}/g;

/** `text` with every key-shaped part replaced by "[redacted]". */
export function redactKeys(text: string): string {
  return text.includes('_') ? text.replace(OWN_SECRET, REDACTED) : text;
}

export const redactKeysOrNull = (text: string | null): string | null => (text === null ? null : redactKeys(text));
