// Complete click data for fast conversions (issue 13 item 1). A conversion that beats its click
// to storage waits (click_data 'pending', deliveries held). It is settled, exactly once, by
// whichever comes first: the clicks consumer storing the click (complete: the click's sub IDs
// and source data go into the row and its event snapshots), or the bounded wait running out
// (a delayed message on the clicks Queue, or the cron as a backstop), which completes it if the
// click has landed meanwhile and otherwise delivers it marked click_data "missing", with a log
// line. Either way the held deliveries are then handed to the notifications Queue. A click that
// lands brings the facts the fraud rules need (bot_click, datacenter_asn): the conversion is
// judged by them before any of its deliveries leaves, and a held offer's conversion created
// approved becomes pending, its approval never delivered.
import { parseFlags } from '../conversions/fraud';
import { statsMove } from '../conversions/lifecycle';
import { rollupStatements } from '../conversions/rollup-moves';
import { decideOnLandedClick } from '../conversions/rules';
import {
  type ClickData,
  completeStatements,
  heldDeliveries,
  holdStatements,
  isHoldStaleError,
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

interface Settling {
  wait: WaitingConversion;
  click: ClickRecord | null;
}

/**
 * What the rules decide now that the click is known (src/conversions/rules.ts): the full flags,
 * and whether a conversion created approved is held pending instead. Only its creation is
 * reconsidered: once a party changed it (updated_at moved), its decision stands and only the
 * flags are added.
 */
function judge(wait: WaitingConversion, click: ClickRecord): { flags: string | null; hold: boolean } {
  if (!wait.click_time) return { flags: wait.flags ?? null, hold: false };
  const verdict = decideOnLandedClick({
    offer: wait,
    status: wait.status,
    createdAt: wait.created_at,
    clickTime: wait.click_time,
    click,
  });
  const flags = [...new Set([...verdict.flags, ...parseFlags(wait.flags)])];
  return {
    flags: flags.length > 0 ? JSON.stringify(flags) : null,
    hold: wait.status === 'approved' && verdict.status === 'pending' && wait.updated_at === wait.created_at,
  };
}

/** The statements settling one conversion; the last one RETURNs its id if this call settled it. */
function settleStatements(env: Env, { wait, click }: Settling, hold: boolean): D1PreparedStatement[] {
  if (!click) return markMissingStatements(env.DB, wait.id);
  const { flags } = judge(wait, click);
  const complete = completeStatements(env.DB, wait.id, clickData(click), flags);
  if (!hold) return complete;
  return [
    ...holdStatements(env.DB, wait.id),
    ...rollupStatements(env.DB, wait, statsMove('approved', 'pending', wait)),
    ...complete,
  ];
}

const settledIds = (result: D1Result | undefined) => ((result?.results ?? []) as { id: string }[]).map((r) => r.id);

/**
 * Settles each conversion with its click (complete, judged by the rules that needed it) or
 * without (missing), then sends the deliveries of those this call settled. The plain ones go in
 * one D1 batch; a conversion put on hold takes a batch of its own, which a change made to it
 * meanwhile aborts (it is then completed plainly). Returns how many it settled.
 */
async function settle(env: Env, items: Settling[]): Promise<number> {
  if (items.length === 0) return 0;
  const holds = items.filter((item) => item.click !== null && judge(item.wait, item.click).hold);
  const plain = items.filter((item) => !holds.includes(item));
  const settled = new Set<string>();
  for (const item of holds) {
    const statements = settleStatements(env, item, true);
    try {
      const results = await env.DB.batch(statements);
      for (const id of settledIds(results[statements.length - 1])) settled.add(id);
      log('info', 'conversion.held_on_click', { conversion_id: item.wait.id, click_id: item.wait.click_id });
    } catch (error) {
      if (!isHoldStaleError(error)) throw error;
      plain.push(item);
    }
  }
  const lists = plain.map((item) => settleStatements(env, item, false));
  const results = lists.length > 0 ? await env.DB.batch(lists.flat()) : [];
  let next = 0;
  for (const list of lists) {
    next += list.length;
    for (const id of settledIds(results[next - 1])) settled.add(id);
  }
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
