// Complete click data for fast conversions (issue 13 item 1). A conversion that beats its click
// to storage waits (click_data 'pending', deliveries held). It is settled, exactly once, by
// whichever comes first: the clicks consumer storing the click (complete: the click's sub IDs
// and source data go into the row and its event snapshots), or the bounded wait running out
// (a delayed message on the clicks Queue, or the cron as a backstop), which completes it if the
// click has landed meanwhile and otherwise delivers it marked click_data "missing", with a log
// line. Either way the held deliveries are then handed to the notifications Queue.
import {
  type ClickData,
  completeStatements,
  heldDeliveries,
  markMissingStatements,
  type WaitingConversion,
  waitingByIds,
  waitingForClicks,
  waitingSince,
} from '../db/click-completion';
import type { ClickRecord } from '../db/clicks';
import { jsonGroups } from '../lib/chunks';
import { errorFields, log } from '../lib/log';
import { iso } from '../lib/time';
import { sendDeliveryMessages } from '../notify/fanout';
import { findClick } from './reads';

/** How long a conversion waits for its click before it is delivered without the click data. */
export const CLICK_WAIT_MS = 120_000;
const SWEEP_LIMIT = 100;

export function clickData(click: ClickRecord): ClickData {
  return {
    subs: [click.sub1, click.sub2, click.sub3, click.sub4, click.sub5, click.sub6 ?? null],
    creative: { id: click.creative_id ?? null, groupId: click.creative_group_id ?? null },
    source: {
      referrer: click.referrer,
      search_engine: click.search_engine,
      search_phrase: click.search_phrase,
      country: click.country,
      device: click.device,
      deep_link: click.deep_link,
    },
  };
}

/**
 * Settles each conversion with its click (complete) or without (missing) in one D1 batch, then
 * sends the deliveries of those this call settled. Returns how many it settled.
 */
async function settle(env: Env, items: { wait: WaitingConversion; click: ClickRecord | null }[]): Promise<number> {
  if (items.length === 0) return 0;
  const statements = items.flatMap(({ wait, click }) =>
    click ? completeStatements(env.DB, wait.id, clickData(click)) : markMissingStatements(env.DB, wait.id),
  );
  const results = await env.DB.batch(statements);
  const settled = new Set(
    results.flatMap((result, i) => (i % 2 === 1 ? ((result.results ?? []) as { id: string }[]).map((r) => r.id) : [])),
  );
  for (const { wait, click } of items) {
    if (!click && settled.has(wait.id)) {
      log('warn', 'conversion.click_data_missing', {
        conversion_id: wait.id,
        click_id: wait.click_id,
        waited_ms: Date.now() - Date.parse(wait.created_at),
      });
    }
  }
  // A failed hand-off leaves them pending; the cron's reconciliation re-sends them.
  await sendDeliveryMessages(env, await heldDeliveries(env.DB, [...settled]));
  return settled.size;
}

/**
 * After a batch of clicks is stored: completes the conversions that were waiting for any of
 * them. One indexed D1 read per batch; the clicks in hand are the data, no partition read.
 */
export async function completeWaitingConversions(env: Env, clicks: ClickRecord[]): Promise<number> {
  if (clicks.length === 0) return 0;
  const waiting = await waitingForClicks(
    env.DB,
    clicks.map((c) => c.click_id),
  );
  if (waiting.length === 0) return 0;
  const byId = new Map(clicks.map((c) => [c.click_id, c]));
  return settle(
    env,
    waiting.map((wait) => ({ wait, click: byId.get(wait.click_id) ?? null })),
  );
}

/**
 * Settles waiting conversions whose wait is over: those named (a delayed settle message) or,
 * without names, the oldest ones past the wait (the cron). A click that landed without
 * completing them (a consumer that failed after storing) is found and used. Returns the ids
 * named but not yet due, for the caller to look at again later.
 */
export async function settleDueConversions(
  env: Env,
  now = Date.now(),
  ids?: string[],
): Promise<{ settled: number; notDue: string[] }> {
  const due = iso(now - CLICK_WAIT_MS);
  const waiting = ids ? await waitingByIds(env.DB, ids) : await waitingSince(env.DB, due, SWEEP_LIMIT);
  const items = await Promise.all(waiting.map(async (wait) => ({ wait, click: await findClick(env, wait.click_id) })));
  const ready = items.filter(({ wait, click }) => click !== null || wait.created_at < due);
  const notDue = items.filter((item) => !ready.includes(item)).map(({ wait }) => wait.id);
  return { settled: await settle(env, ready), notDue };
}

/** A settle message's ids stay far under a Queue message's 128,000 bytes (src/lib/queue-limits.ts). */
const SETTLE_MESSAGE_BYTES = 64_000;

/** Asks the clicks Queue to settle these conversions once their wait is over. */
export async function scheduleSettle(env: Env, conversionIds: string[]): Promise<void> {
  for (const { items } of jsonGroups(conversionIds, SETTLE_MESSAGE_BYTES)) {
    try {
      await env.CLICKS_QUEUE.send(
        { v: 1, clicks: [], settle: items },
        { contentType: 'json', delaySeconds: CLICK_WAIT_MS / 1000 },
      );
    } catch (error) {
      // The cron's sweep settles them instead (within its interval of the wait ending).
      log('warn', 'conversion.settle_schedule_failed', { conversions: items.length, ...errorFields(error) });
    }
  }
}
