// Macros in publisher URL templates: canonical `{name}` and Awin-style `!!!name!!!`. Pure string
// work: names are case sensitive, every value is URL-encoded (so a value can never add a query
// parameter, a path segment or a fragment), and rendering is one pass over the template (a
// value that looks like a macro stays text).
import type { ConversionSnapshot } from '../conversions/snapshot';
import {
  awinCommissionGroups,
  awinProducts,
  type CommissionGroup,
  creativeGroupId,
  creativeId,
  isForeignSale,
  previousAmount,
  previousPayout,
  programAmount,
  type RenderedSnapshot,
  sub6,
} from './snapshot-fields';

type Value = (s: RenderedSnapshot, groups: readonly CommissionGroup[]) => string | number | null | undefined;

const text = (value: string | number | null | undefined): string =>
  value === null || value === undefined ? '' : String(value);

/** "2026-11-23T10:15:00.000Z" -> "2026-11-23 10:15:00", the UTC format Awin's date macros use. */
export function awinTime(iso: string | null): string {
  if (!iso) return '';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}` : iso;
}

/** `{name}` macros. The first block is the contract in DESIGN.md; the rest are extras. */
export const CANONICAL_MACROS: Readonly<Record<string, Value>> = {
  click_id: (s) => s.click_id,
  conversion_id: (s) => s.conversion_id,
  order_id: (s) => s.order_id,
  event: (s) => s.event,
  status: (s) => s.status,
  offer_id: (s) => s.offer_id,
  advertiser_id: (s) => s.advertiser_id,
  publisher_id: (s) => s.publisher_id,
  sub1: (s) => s.sub1,
  sub2: (s) => s.sub2,
  sub3: (s) => s.sub3,
  sub4: (s) => s.sub4,
  sub5: (s) => s.sub5,
  sub6,
  amount: (s) => s.amount,
  payout: (s) => s.payout,
  revenue: (s) => s.revenue,
  currency: (s) => s.currency,
  click_time: (s) => s.click_time,
  conversion_time: (s) => s.conversion_time,
  referrer: (s) => s.click?.referrer,
  search_engine: (s) => s.click?.search_engine,
  phrase: (s) => s.click?.search_phrase,
  country: (s) => s.click?.country,
  voucher: (s) => s.voucher,
  products: (s) => JSON.stringify(s.products),
  // Extras.
  goal: (s) => s.goal,
  payout_currency: (s) => s.payout_currency,
  event_time: (s) => s.event_time,
  device: (s) => s.click?.device,
  // TradeTracker's descrAffiliate: the advertiser's note meant for the publisher.
  publisher_description: (s) => s.description,
  creative_id: (s) => s.creative_id,
  creative_group_id: (s) => s.creative_group_id,
  // conversion.modified: the values before the adjustment (empty on other events).
  previous_amount: previousAmount,
  previous_payout: previousPayout,
};

/**
 * `!!!name!!!` macros with the names of Awin's Transaction Notification, so a publisher can
 * paste an Awin callback URL unchanged. Dates use Awin's "YYYY-MM-DD HH:MM:SS" (UTC). As at
 * Awin, transactionCurrency and commission are the program's (the offer's currency); a sale
 * reported in another currency keeps its own amount in trackedAmount/trackedCurrency.
 */
export const AWIN_MACROS: Readonly<Record<string, Value>> = {
  transactionId: (s) => s.conversion_id,
  orderRef: (s) => s.order_id,
  clickRef: (s) => s.sub1,
  clickRef2: (s) => s.sub2,
  clickRef3: (s) => s.sub3,
  clickRef4: (s) => s.sub4,
  clickRef5: (s) => s.sub5,
  clickRef6: sub6,
  commission: (s) => s.payout,
  transactionAmount: programAmount,
  transactionCurrency: (s) => s.payout_currency,
  trackedAmount: (s) => (isForeignSale(s) ? s.amount : null),
  trackedCurrency: (s) => (isForeignSale(s) ? s.currency : null),
  clickTime: (s) => awinTime(s.click_time),
  clickThroughTime: (s) => awinTime(s.click_time),
  transactionDate: (s) => awinTime(s.conversion_time),
  url: (s) => s.click?.referrer,
  phrase: (s) => s.click?.search_phrase,
  searchEngine: (s) => s.click?.search_engine,
  products: (s, groups) => JSON.stringify(awinProducts(s, groups)),
  commissionGroups: (s, groups) => JSON.stringify(awinCommissionGroups(s, groups)),
  affiliateId: (s) => s.publisher_id,
  merchantId: (s) => s.advertiser_id,
  voucherCode: (s) => s.voucher,
  bannerId: creativeId,
  groupId: creativeGroupId,
};

/** Anything shaped like a macro, in either syntax, whatever its case (so `{Click_ID}` is caught). */
const MACRO = /\{([A-Za-z0-9_]+)\}|!!!([A-Za-z0-9_]+)!!!/g;

const has = (table: Readonly<Record<string, Value>>, name: string) => Object.hasOwn(table, name);

/**
 * encodeURIComponent plus the sub-delimiters it leaves alone, so a value is always inert. A lone
 * surrogate (which encodeURIComponent refuses) becomes U+FFFD rather than failing the delivery.
 */
export function encodeMacroValue(value: string): string {
  return encodeURIComponent(value.toWellFormed()).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The macros of a template that are not known, as written (e.g. `{foo}`, `!!!clickref!!!`). */
export function unknownMacros(template: string): string[] {
  const unknown = new Set<string>();
  for (const match of template.matchAll(MACRO)) {
    const [whole, canonical, awin] = match;
    if (canonical !== undefined ? !has(CANONICAL_MACROS, canonical) : !has(AWIN_MACROS, awin as string)) {
      unknown.add(whole);
    }
  }
  return [...unknown];
}

/**
 * The canonical macros of a template whose snapshot field `withheld` names, as written (e.g.
 * `{revenue}` for a publisher: src/auth/money-view.ts). A canonical macro is named after the
 * field it reads.
 */
export function withheldMacros(template: string, withheld: (field: string) => boolean): string[] {
  const found = new Set<string>();
  for (const [whole, canonical] of template.matchAll(MACRO)) {
    if (canonical !== undefined && has(CANONICAL_MACROS, canonical) && withheld(canonical)) found.add(whole);
  }
  return [...found];
}

/**
 * True when a macro sits in the scheme or authority (host, port) of a URL template. Refused at
 * save time: sub IDs come from click URLs anyone can craft, so they must never pick the host.
 */
export function hasMacroInAuthority(template: string): boolean {
  const start = template.indexOf('//');
  const afterScheme = start < 0 ? template : template.slice(0, start + 2);
  const rest = start < 0 ? '' : template.slice(start + 2);
  const authority = rest.split(/[/?#]/, 1)[0] ?? '';
  const probe = (part: string) => new RegExp(MACRO.source).test(part);
  return probe(afterScheme) || probe(authority);
}

/** True when the text holds anything shaped like a macro. */
export const hasMacro = (text: string): boolean => new RegExp(MACRO.source).test(text);

/**
 * Fills every known macro with its value passed through `encode` (URL-encoding unless told
 * otherwise); unknown ones are left as written. `groups` are the offer's commission groups.
 */
export function renderTemplate(
  template: string,
  snapshot: ConversionSnapshot,
  groups: readonly CommissionGroup[] = [],
  encode: (value: string) => string = encodeMacroValue,
): string {
  return template.replace(MACRO, (whole, canonical: string | undefined, awin: string | undefined) => {
    const table = canonical !== undefined ? CANONICAL_MACROS : AWIN_MACROS;
    const name = (canonical ?? awin) as string;
    if (!has(table, name)) return whole;
    return encode(text((table[name] as Value)(snapshot, groups)));
  });
}

/** Replaces every macro with a harmless sample, for checking the URL shape of a template. */
export function withSampleValues(template: string, sample = 'x'): string {
  return template.replace(MACRO, sample);
}
