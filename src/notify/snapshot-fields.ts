// Values of a frozen snapshot as notifications show them, including fields that only newer
// snapshots carry (sub6, the creative ids, the sale amount in the program's currency): events
// frozen before those fields existed render them as absent, never as an error.
import { convertAmount, parseRate } from '../conversions/exchange';
import type { ConversionSnapshot } from '../conversions/snapshot';
import { formatAmount, parseAmount } from '../lib/money';

/** Snapshot fields added after the first snapshots were frozen; every one may be missing. */
export interface SnapshotExtras {
  sub6?: string | null;
  /** Awin's bannerId and groupId: from the click link's creative_id / creative_group_id. */
  creative_id?: number | string | null;
  creative_group_id?: number | string | null;
}

export type RenderedSnapshot = ConversionSnapshot & SnapshotExtras;
// The sale amount in the program's currency, for a sale in another one, is the conversion
// domain's converted_amount (amount and currency stay the sale's own, Awin's tracked ones).

/** A commission group as Awin names it: stable id, code, name, description. */
export interface CommissionGroup {
  id: number | string;
  code: string;
  name: string;
  description: string | null;
}

export const sub6 = (s: RenderedSnapshot): string | null => s.sub6 ?? null;

/** Awin sends "0" for a click without a banner or group. */
export const creativeId = (s: RenderedSnapshot): string => String(s.creative_id ?? 0);
export const creativeGroupId = (s: RenderedSnapshot): string => String(s.creative_group_id ?? 0);

/** True when the sale was reported in another currency than the program's. */
export const isForeignSale = (s: ConversionSnapshot): boolean => s.currency !== s.payout_currency;

/**
 * The sale amount in the program's currency (Awin's transactionAmount): the amount itself for a
 * sale in that currency, the converted amount when the snapshot has one, else null.
 */
export const programAmount = (s: RenderedSnapshot): string | null =>
  isForeignSale(s) ? (s.converted_amount ?? null) : s.amount;

/** The groups named by the conversion's product lines, in first-use order; a code without a row keeps its code as name. */
export function usedGroups(s: ConversionSnapshot, groups: readonly CommissionGroup[]): CommissionGroup[] {
  const byCode = new Map(groups.map((g) => [g.code, g]));
  const used = new Map<string, CommissionGroup>();
  for (const line of s.products) {
    const code = line.commission_group;
    if (code === null || used.has(code)) continue;
    used.set(code, byCode.get(code) ?? { id: code, code, name: code, description: null });
  }
  return [...used.values()];
}

/** The groups of the conversion as Clickhop's own payloads show them (JSON, form, XML). */
export const payloadGroups = (s: ConversionSnapshot, groups: readonly CommissionGroup[]) =>
  usedGroups(s, groups).map((g) => ({ id: g.id, code: g.code, name: g.name, description: g.description }));

/** Awin's commissionGroups objects of a conversion, every scalar a string, empty keys left out. */
export function awinCommissionGroups(s: ConversionSnapshot, groups: readonly CommissionGroup[]) {
  return usedGroups(s, groups).map((g) => ({
    id: String(g.id),
    name: g.name,
    code: g.code,
    ...(g.description ? { description: g.description } : {}),
  }));
}

export type AwinProduct = Partial<
  Record<'productName' | 'unitPrice' | 'skuType' | 'skuCode' | 'quantity' | 'category' | 'cgId', string>
>;

/**
 * Awin's products objects: its key names, every scalar a string, empty keys left out. skuType
 * says what kind of code skuCode is; a Clickhop product line carries the advertiser's SKU, so
 * it is "sku" wherever there is a code.
 */
export function awinProducts(s: ConversionSnapshot, groups: readonly CommissionGroup[]): AwinProduct[] {
  const idOf = new Map(usedGroups(s, groups).map((g) => [g.code, String(g.id)]));
  return s.products.map((line) => {
    const product: AwinProduct = {};
    const fields: [keyof AwinProduct, string | null | undefined][] = [
      ['productName', line.name],
      ['unitPrice', line.unit_price],
      ['skuType', line.sku ? 'sku' : null],
      ['skuCode', line.sku],
      ['quantity', String(line.quantity)],
      ['category', line.category],
      ['cgId', line.commission_group === null ? null : idOf.get(line.commission_group)],
    ];
    for (const [key, value] of fields) if (value !== null && value !== undefined && value !== '') product[key] = value;
    return product;
  });
}

/** On conversion.modified, the values before the adjustment (no revenue: publishers never see it). */
export const previousAmount = (s: ConversionSnapshot): string | null => s.previous?.amount ?? null;
export const previousPayout = (s: ConversionSnapshot): string | null => s.previous?.payout ?? null;

/**
 * The previous sale amount in the program's currency (Awin's oldSaleAmount): the amount itself
 * for a sale in that currency, else converted at the rate the conversion was created with (the
 * rate an adjustment reprices with), else null.
 */
export function previousProgramAmount(s: RenderedSnapshot): string | null {
  if (!s.previous) return null;
  if (!isForeignSale(s)) return s.previous.amount;
  const rate = s.exchange_rate ? parseRate(s.exchange_rate) : null;
  const minor = parseAmount(s.previous.amount, s.currency);
  if (!rate?.ok || !minor.ok) return null;
  return formatAmount(convertAmount(minor.minor, s.currency, s.payout_currency, rate.rate), s.payout_currency);
}
