// Rejected conversions in the reports, split by reason (cap_reached among them) and, for rows
// grouped by offer, by the cap that refused them. Reads src/db/rejected-conversions.ts over the
// report's local days; the day of a conversion follows the same zone offsets as the rollups.
import { type RejectionGroup, type RejectionRow, readRejections, type ZoneSpan } from '../db/rejected-conversions';
import type { RollupPlan } from '../db/rollups';
import { iso } from '../lib/time';
import { fromWallTime } from '../lib/timezone';

export interface RejectionSplit {
  /** Rejected conversions by reason; 'none' when a party rejected without a rule's reason. */
  rejected_by_reason: Record<string, number>;
  /** Only on rows grouped by offer whose caps refused conversions (reason cap_reached). */
  rejected_by_cap?: { cap_id: number; conversions: number }[];
}

const QUARTER_S = 900;
const wall = (day: string): [number, number, number] => {
  const [y = 1970, m = 1, d = 1] = day.split('-').map(Number);
  return [y, m, d];
};
const nextDay = (day: string) => iso(Date.parse(`${day}T00:00:00Z`) + 86_400_000).slice(0, 10);

/**
 * Reads the rejections of local days `from`..`to` in `zone`, grouped like the report. `plan` is
 * the rollups' plan for the same range: its offset spans give each conversion its local day.
 */
export function readReportRejections(
  db: D1Database,
  range: { from: string; to: string; zone: string; offer_id?: number; publisher_id?: number; advertiser_id?: number },
  groups: readonly RejectionGroup[],
  plan: RollupPlan,
): Promise<RejectionRow[]> {
  const spans: ZoneSpan[] =
    plan.kind === 'daily'
      ? []
      : plan.spans.map((s) => ({ from: s.from * QUARTER_S, to: s.to * QUARTER_S, offset: s.offset }));
  return readRejections(
    db,
    {
      from: iso(fromWallTime(...wall(range.from), range.zone)),
      to: iso(fromWallTime(...wall(nextDay(range.to)), range.zone)),
      offer_id: range.offer_id,
      publisher_id: range.publisher_id,
      advertiser_id: range.advertiser_id,
      spans,
    },
    groups,
  );
}

/**
 * The split of each report row that has rejections, keyed as `rowKey` keys a report row (its
 * group values and currency). `byCap` adds the per-cap counts (rows grouped by offer).
 */
export function splitRejections(
  rows: readonly RejectionRow[],
  rowKey: (row: RejectionRow) => string,
  byCap: boolean,
): Map<string, RejectionSplit> {
  const splits = new Map<string, RejectionSplit>();
  for (const row of rows) {
    const key = rowKey(row);
    const split = splits.get(key) ?? { rejected_by_reason: {} };
    split.rejected_by_reason[row.reason] = (split.rejected_by_reason[row.reason] ?? 0) + row.conversions;
    if (byCap && row.cap_id !== null) {
      split.rejected_by_cap ??= [];
      const cap = split.rejected_by_cap.find((c) => c.cap_id === row.cap_id);
      if (cap) cap.conversions += row.conversions;
      else split.rejected_by_cap.push({ cap_id: row.cap_id, conversions: row.conversions });
    }
    splits.set(key, split);
  }
  for (const split of splits.values()) split.rejected_by_cap?.sort((a, b) => a.cap_id - b.cap_id);
  return splits;
}
