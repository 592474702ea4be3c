// The `awin` preset: the body Awin's Transaction Notification POSTs, so a receiver written for
// Awin (json_decode($_POST["AwinTransactionPush"]), then transactionId, clickRef, commission...)
// reads a Clickhop notification unchanged. Awin's keys only, every scalar a string, keys
// without a value left out, dates "YYYY-MM-DD HH:MM:SS" in UTC.
//
// Awin pushes a transaction once, when it is tracked; its later life (validation, amendment) is
// read from Awin's transactions API. A preset endpoint subscribed to later events therefore gets
// the same push plus that API's own fields for them (commissionStatus, validationDate, amended,
// oldSaleAmount, oldCommissionAmount), so a receiver can tell a decision from a new sale; the
// conversion.created push carries none of them, exactly as Awin's.
import type { ConversionStatus } from '../conversions/status';
import { AWIN_MACROS, awinTime } from './macros';
import {
  type AwinProduct,
  awinCommissionGroups,
  awinProducts,
  type CommissionGroup,
  previousProgramAmount,
  type RenderedSnapshot,
} from './snapshot-fields';

export const AWIN_FORM_FIELD = 'AwinTransactionPush';
export const AWIN_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=UTF-8';

/** Scalar keys of Awin's JSON, in Awin's order; each is filled by the `!!!name!!!` macro of that name. */
const SCALAR_KEYS = [
  'transactionId',
  'transactionDate',
  'transactionCurrency',
  'transactionAmount',
  'trackedCurrency',
  'trackedAmount',
  'affiliateId',
  'merchantId',
  'groupId',
  'bannerId',
  'clickRef',
  'clickRef2',
  'clickRef3',
  'clickRef4',
  'clickRef5',
  'clickRef6',
  'clickThroughTime',
  'clickTime',
  'url',
  'phrase',
  'searchEngine',
  'commission',
] as const;

/** Awin's commissionStatus words: a rejected or reversed sale is "declined" there. */
const AWIN_STATUS: Record<ConversionStatus, string> = {
  pending: 'pending',
  approved: 'approved',
  rejected: 'declined',
  reversed: 'declined',
};

export interface AwinTransaction {
  [key: string]: string | ReturnType<typeof awinCommissionGroups> | AwinProduct[];
}

/** The transactions-API fields a push after conversion.created carries; none on created. */
function laterFields(s: RenderedSnapshot): Record<string, string | null> {
  if (s.event === 'conversion.created') return {};
  const decided = s.event !== 'conversion.modified';
  return {
    commissionStatus: AWIN_STATUS[s.status],
    validationDate: decided ? awinTime(s.event_time) : null,
    amended: s.event === 'conversion.modified' ? 'true' : null,
    oldSaleAmount: s.event === 'conversion.modified' ? previousProgramAmount(s) : null,
    oldCommissionAmount: s.event === 'conversion.modified' ? (s.previous?.payout ?? null) : null,
  };
}

/** Awin's transaction object for one conversion event. */
export function awinTransaction(s: RenderedSnapshot, groups: readonly CommissionGroup[]): AwinTransaction {
  const scalars: Record<string, string | null> = {};
  for (const key of SCALAR_KEYS) {
    const value = AWIN_MACROS[key]?.(s, groups);
    scalars[key] = value === null || value === undefined ? null : String(value);
  }
  Object.assign(scalars, laterFields(s));
  const transaction: AwinTransaction = {};
  for (const [key, value] of Object.entries(scalars)) if (value !== null && value !== '') transaction[key] = value;
  const commissionGroups = awinCommissionGroups(s, groups);
  if (commissionGroups.length > 0) transaction.commissionGroups = commissionGroups;
  if (s.products.length > 0) transaction.products = awinProducts(s, groups);
  return transaction;
}

/** The form body: one field holding the JSON, as Awin sends it. */
export function awinBody(s: RenderedSnapshot, groups: readonly CommissionGroup[]): string {
  return new URLSearchParams([[AWIN_FORM_FIELD, JSON.stringify(awinTransaction(s, groups))]]).toString();
}
