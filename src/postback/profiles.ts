// Compatibility profiles: each maps the parameter names of a network an advertiser already
// integrates with onto Clickhop's canonical names, so the advertiser only changes the host.
// Canonical names are accepted by every profile too; an alias and its canonical name (or two
// aliases) carrying different values are refused, naming both.
import { badRequest, type FieldErrors } from '../lib/errors';
import { REDACTED, redactKeys } from '../lib/redact';
import type { RawParams } from './params';

export const CANONICAL_FIELDS = [
  'click_id',
  'event',
  'order_id',
  'amount',
  'currency',
  'status',
  'voucher',
  'description',
  'products',
  'key',
  'offer_id',
  'publisher_id',
  'sub1',
  'sub2',
  'sub3',
  'sub4',
  'sub5',
  'sub6',
  'reason',
  'channel',
] as const;

export type CanonicalField = (typeof CANONICAL_FIELDS)[number];

export type ProfileName = 'canonical' | 'hasoffers' | 'tradetracker';

/** Aliases every profile accepts: coupon codes under the names shops' tools use (docs/coupons.md). */
export const COMMON_ALIASES: Partial<Record<CanonicalField, string[]>> = { voucher: ['coupon', 'coupon_code'] };

export interface Profile {
  name: ProfileName;
  /** Foreign names per canonical field, tried besides the canonical name itself. */
  aliases: Partial<Record<CanonicalField, string[]>>;
  /** Fields the profile decides itself (from the path); parameters of that name are ignored. */
  fixed: Partial<Record<CanonicalField, string>>;
  /** Parameters that must never be logged in clear, besides `key`. */
  secrets: string[];
}

export const canonicalProfile: Profile = { name: 'canonical', aliases: {}, fixed: {}, secrets: [] };

/**
 * HasOffers/TUNE: transaction_id, adv_sub, goal_id, security_token; aff_id and aff_sub* for the
 * affiliate-ID protocol. adv_sub2..adv_sub5 are the advertiser's own references: kept in the
 * postback log, not used. Served at /postback/hasoffers and at TUNE's own paths /aff_lsr and
 * /aff_goal, so an advertiser moving from TUNE changes only the host name.
 */
export const hasOffersProfile: Profile = {
  name: 'hasoffers',
  aliases: {
    click_id: ['transaction_id'],
    order_id: ['adv_sub'],
    event: ['goal_id'],
    key: ['security_token'],
    publisher_id: ['aff_id'],
    sub1: ['aff_sub'],
    sub2: ['aff_sub2'],
    sub3: ['aff_sub3'],
    sub4: ['aff_sub4'],
    sub5: ['aff_sub5'],
  },
  fixed: {},
  secrets: ['security_token'],
};

/**
 * TradeTracker S2S: data (click reference), tid, tam, currency, vc, descrAffiliate (the
 * publisher-facing description, macro {publisher_description}). The goal comes from the path,
 * or for callbacks on the root from the host (see tradeTrackerGoal). descrMerchant is
 * merchant-only in TradeTracker, so it is kept in the postback log but never sent to
 * publishers; pid selects the offer's commission group of that code (input.ts); cid, tgi, s2s,
 * qty and event are accepted and ignored (the click ID already names the offer).
 */
export function tradeTrackerProfile(goal: 'lead' | 'sale'): Profile {
  return {
    name: 'tradetracker',
    aliases: {
      click_id: ['data'],
      order_id: ['tid'],
      amount: ['tam'],
      voucher: ['vc'],
      description: ['descrAffiliate'],
    },
    fixed: { event: goal },
    secrets: [],
  };
}

/**
 * The goal of a TradeTracker callback on the root (`/?s2s=1&...`): TradeTracker's hosts say it
 * (`tl.` lead, `ts.` sale), so a host that keeps those first labels keeps the goal; on any
 * other host a callback with an amount (`tam`) is a sale, else a lead.
 */
export function tradeTrackerGoal(host: string, hasAmount: boolean): 'lead' | 'sale' {
  const label = host.toLowerCase().split('.', 1)[0];
  if (label === 'tl') return 'lead';
  if (label === 'ts') return 'sale';
  return hasAmount ? 'sale' : 'lead';
}

export type CanonicalParams = Partial<Record<CanonicalField, string>>;

export interface MappedParams {
  params: CanonicalParams;
  /** The parameter name the value of each field came from, for error messages. */
  names: Partial<Record<CanonicalField, string>>;
}

/** Canonical parameters of a request, or a 400 naming every conflicting parameter. */
export function mapParams(profile: Profile, raw: RawParams): MappedParams {
  const params: CanonicalParams = {};
  const names: MappedParams['names'] = {};
  const errors: FieldErrors = {};
  for (const field of CANONICAL_FIELDS) {
    const fixed = profile.fixed[field];
    if (fixed !== undefined) {
      params[field] = fixed;
      continue;
    }
    let value: string | undefined;
    let from: string | undefined;
    for (const name of [field, ...(profile.aliases[field] ?? []), ...(COMMON_ALIASES[field] ?? [])]) {
      for (const candidate of raw.values.get(name) ?? []) {
        if (value === undefined) {
          value = candidate;
          from = name;
        } else if (candidate !== value) {
          errors[name] =
            name === from ? `${name} was given twice with different values` : `conflicts with ${from} (${field})`;
        }
      }
    }
    if (field === 'key' && raw.bearer !== null) {
      if (value === undefined) {
        value = raw.bearer;
        from = 'Authorization';
      } else if (value !== raw.bearer) {
        errors[from ?? field] = 'differs from the Authorization: Bearer key';
      }
    }
    if (value !== undefined && from !== undefined) {
      params[field] = value;
      names[field] = from;
    }
  }
  if (Object.keys(errors).length > 0) throw badRequest(`Conflicting ${Object.keys(errors).join(', ')}`, errors);
  return { params, names };
}

// Names compared in lower case, so a mistyped `Key=` is not stored in clear either.
// Every profile's secret names too: a HasOffers security_token sent to /postback is still a key.
const ALWAYS_SECRET = ['key', 'api_key', 'apikey', 'token', 'secret', 'password', 'authorization', 'security_token'];

/**
 * The request's parameters as logged: every value, secrets replaced, one value or a list.
 * Credential-shaped text goes wherever it appears (a multipart body sent as a form turns into
 * one parameter whose name and value hold the key).
 */
export function loggableParams(profile: Profile, raw: Pick<RawParams, 'values' | 'hasAuthorization'>) {
  const secrets = new Set([...ALWAYS_SECRET, ...profile.secrets.map((s) => s.toLowerCase())]);
  const out: Record<string, string | string[]> = {};
  for (const [name, list] of raw.values) {
    const shown = secrets.has(name.toLowerCase()) ? list.map(() => REDACTED) : list.map((value) => redactKeys(value));
    out[redactKeys(name)] = shown.length === 1 ? (shown[0] as string) : shown;
  }
  if (raw.hasAuthorization) out.Authorization = REDACTED;
  return out;
}
