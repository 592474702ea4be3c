// Every credential Clickhop issues has a recognisable shape, so it can be removed from any text
// that might hold one: a key sent in the wrong field ends up in an ID column, a field name or an
// error message, and the postback log is read by the advertiser, the error answer by whoever
// sent it. The operator's ADMIN_TOKEN has no shape (the operator chooses it), so it is removed
// by value wherever the deployment's secrets are at hand (deploymentSecrets).
export const REDACTED = '[redacted]';

/**
 * The prefixes of the credentials Clickhop issues: API keys (`chk_`), postback keys (`pbk_`),
 * endpoint signing secrets (`whsec_`), portal session ids (`chs_`) and invitation links (`chi_`).
 */
export const CREDENTIAL_PREFIXES = ['chk', 'pbk', 'whsec', 'chs', 'chi'] as const;

// Eight characters are enough to tell a key from a word that merely starts with the prefix.
const CREDENTIAL = new RegExp(`(?:${CREDENTIAL_PREFIXES.join('|')})_[A-Za-z0-9+/=_-]{8,}`, 'g');

/** The same shapes for log lines, keeping the prefix (`pbk_[redacted]`) so a line says what it held. */
export const CREDENTIAL_IN_LOG_LINE = new RegExp(
  `(?<![\\w-])(${CREDENTIAL_PREFIXES.join('|')})_[A-Za-z0-9+/=_-]+`,
  'g',
);

// A secret shorter than this is not redacted by value: it would blank out ordinary words, and a
// token that short is no secret (docs/deploy.md asks for a long random one).
const MIN_SECRET_BY_VALUE = 8;

/** The deployment's shapeless secrets, redacted by value: the ADMIN_TOKEN. */
export function deploymentSecrets(env: Partial<Pick<Env, 'ADMIN_TOKEN'>>): string[] {
  const token = env.ADMIN_TOKEN;
  return token && token.length >= MIN_SECRET_BY_VALUE ? [token] : [];
}

/** `text` with every credential-shaped part, and every value in `secrets`, replaced by "[redacted]". */
export function redactKeys(text: string, secrets: readonly string[] = []): string {
  // Values first: a chosen token may contain a credential-shaped part.
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
  return out.includes('_') ? out.replace(CREDENTIAL, REDACTED) : out;
}

export const redactKeysOrNull = (text: string | null, secrets: readonly string[] = []): string | null =>
  text === null ? null : redactKeys(text, secrets);
