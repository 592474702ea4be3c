// Reading one click wherever it is stored: a v2 ID names its partition, a v1 ID its D1 row. One
// hop either way (two for a v2 miss in a past week: dropped weeks keep converted clicks in D1).
// Callers pass IDs they verified (verifyClickId): an unverified ID could name
// any partition.
import { clickIdPlacement } from '../click/click-id';
import { type ClickRow, getClick } from '../db/clicks';
import { periodOf } from './partition-key';
import { partitionStub } from './store';

export async function findClick(env: Env, clickId: string, now = Date.now()): Promise<ClickRow | null> {
  const placement = clickIdPlacement(clickId);
  if (!placement) return getClick(env.DB, clickId);
  const period = periodOf(placement.clickedAt);
  const found = await partitionStub(env, { period, shard: placement.shard }).click(clickId);
  // Retention drops old weeks whole after copying their converted clicks to D1 (retention.ts);
  // a click of the current week that is not in its partition has not landed yet. (A miss is
  // rare: a conversion faster than its click, or an ID from a dropped week.)
  if (found || period >= periodOf(now)) return found;
  return getClick(env.DB, clickId);
}
