// Reading one click wherever it is stored: a v2 ID names its partition, a v1 ID its D1 row. One
// hop either way. Callers pass IDs they verified (verifyClickId): an unverified ID could name
// any partition.
import { clickIdPlacement } from '../click/click-id';
import { type ClickRow, getClick } from '../db/clicks';
import { periodOf } from './partition-key';
import { partitionStub } from './store';

export async function findClick(env: Env, clickId: string): Promise<ClickRow | null> {
  const placement = clickIdPlacement(clickId);
  if (!placement) return getClick(env.DB, clickId);
  return partitionStub(env, { period: periodOf(placement.clickedAt), shard: placement.shard }).click(clickId);
}
