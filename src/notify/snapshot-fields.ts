// Values of a frozen snapshot as notifications show them, including fields that only newer
// snapshots carry (sub6, the creative ids, the sale amount in the program's currency): events
// frozen before those fields existed render them as absent, never as an error.
import type { ConversionSnapshot } from '../conversions/snapshot';

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
