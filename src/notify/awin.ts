// The `awin` preset: the body Awin's Transaction Notification POSTs, so a receiver written for
// Awin (json_decode($_POST["AwinTransactionPush"]), then transactionId, clickRef, commission...)
// reads a Clickhop notification unchanged. Awin's keys only, every scalar a string, keys
// without a value left out, dates "YYYY-MM-DD HH:MM:SS" in UTC.
import type { ConversionSnapshot } from '../conversions/snapshot';
import { AWIN_MACROS, awinCommissionGroups } from './macros';
import type { CommissionGroup, RenderedSnapshot } from './snapshot-fields';
import { usedGroups } from './snapshot-fields';

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

type AwinProduct = Partial<Record<'productName' | 'unitPrice' | 'skuCode' | 'quantity' | 'category' | 'cgId', string>>;

export interface AwinTransaction {
  [key: string]: string | ReturnType<typeof awinCommissionGroups> | AwinProduct[];
}

/** Drops keys whose value is null, undefined or empty, so "no value" is an absent key as at Awin. */
function present<T extends Record<string, string | null | undefined>>(fields: T): Partial<Record<keyof T, string>> {
  const out: Partial<Record<keyof T, string>> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== null && value !== undefined && value !== '') out[key as keyof T] = value;
  }
  return out;
}

function awinProducts(s: ConversionSnapshot, groups: readonly CommissionGroup[]): AwinProduct[] {
  const idOf = new Map(usedGroups(s, groups).map((g) => [g.code, String(g.id)]));
  return s.products.map((line) =>
    present({
      productName: line.name,
      unitPrice: line.unit_price,
      skuCode: line.sku,
      quantity: String(line.quantity),
      category: line.category,
      cgId: line.commission_group === null ? null : idOf.get(line.commission_group),
    }),
  );
}

/** Awin's transaction object for one conversion event. */
export function awinTransaction(s: RenderedSnapshot, groups: readonly CommissionGroup[]): AwinTransaction {
  const scalars: Record<string, string | null> = {};
  for (const key of SCALAR_KEYS) {
    const value = AWIN_MACROS[key]?.(s, groups);
    scalars[key] = value === null || value === undefined ? null : String(value);
  }
  const transaction: AwinTransaction = {};
  for (const [key, value] of Object.entries(present(scalars))) if (value !== undefined) transaction[key] = value;
  const commissionGroups = awinCommissionGroups(s, groups);
  if (commissionGroups.length > 0) transaction.commissionGroups = commissionGroups;
  if (s.products.length > 0) transaction.products = awinProducts(s, groups);
  return transaction;
}

/** The form body: one field holding the JSON, as Awin sends it. */
export function awinBody(s: RenderedSnapshot, groups: readonly CommissionGroup[]): string {
  return new URLSearchParams([[AWIN_FORM_FIELD, JSON.stringify(awinTransaction(s, groups))]]).toString();
}
