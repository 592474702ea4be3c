// Load with no loss: thousands of clicks through the Worker's fetch handler land as exactly that
// many rows with matching rollups, and hundreds of concurrent postbacks (a third of them
// replays, through every profile) leave exactly one conversion per order, summed to the cent.
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { quietWorkerLogs, report } from '../fuzz/helpers';
import {
  adminOk,
  clicksOfOffer,
  createFixture,
  eventually,
  RECEIVER,
  received,
  scalar,
  uniqueKey,
  worker,
} from '../helpers';
import { getPostback, mintLandedClick, postForm, postJson } from '../postback-helpers';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36';
const BOT = 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)';

/** A small deterministic generator, so a failing run can be repeated exactly. */
function lcg(seed: number) {
  let state = seed >>> 0;
  return (below: number) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % below;
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('load: clicks', () => {
  it('lands 5000 clicks sent in concurrent waves as exactly 5000 rows, with rollups and unique counts to match', async () => {
    quietWorkerLogs();
    const f = await createFixture();
    const total = 5000;
    const wave = 250;
    const visitors = 1000;
    // Visitor v clicks with the same IP and user agent every time; visitors 9, 19, 29 ... are
    // link-preview bots (never unique, counted apart).
    const isBotVisitor = (v: number) => v % 10 === 9;
    const visitorOf = (i: number) => i % visitors;
    const started = Date.now();
    const answered: string[] = [];
    for (let from = 0; from < total; from += wave) {
      const responses = await Promise.all(
        Array.from({ length: Math.min(wave, total - from) }, (_, k) => {
          const i = from + k;
          const v = visitorOf(i);
          return worker(`/c/${f.offerId}/${f.publisherId}?sub1=load-${i}&sub2=v${v}`, {
            headers: {
              'user-agent': isBotVisitor(v) ? BOT : CHROME,
              'cf-connecting-ip': `10.${(v >> 8) & 255}.${v & 255}.7`,
            },
          });
        }),
      );
      for (const response of responses) {
        expect(response.status).toBe(302);
        answered.push(new URL(response.headers.get('location') ?? '').searchParams.get('click_id') ?? '');
      }
    }
    const redirectMs = Date.now() - started;
    expect(new Set(answered).size).toBe(total);

    const count = async () => (await clicksOfOffer(f.offerId)).length;
    await eventually(async () => ((await count()) >= total ? true : null), 60_000);
    const drainedMs = Date.now() - started;
    // The queue has drained; give a late duplicate every chance to show up before counting.
    await pause(1000);
    const stored = await clicksOfOffer(f.offerId);
    const rows = stored.length;
    expect(rows).toBe(total);
    expect(new Set(stored.map((c) => c.sub1)).size).toBe(total);

    // Every answered click ID is a row, and no row is a click that was not answered.
    expect(new Set(stored.map((r) => r.click_id))).toEqual(new Set(answered));

    // Expected figures, computed from what was sent.
    let botClicks = 0;
    const humanVisitors = new Set<number>();
    for (let i = 0; i < total; i++) {
      const v = visitorOf(i);
      if (isBotVisitor(v)) botClicks++;
      else humanVisitors.add(v);
    }
    const humanClicks = total - botClicks;

    const sum = (pick: (c: (typeof stored)[number]) => number) => stored.reduce((n, c) => n + pick(c), 0);
    expect(sum((c) => c.is_bot)).toBe(botClicks);
    expect(sum((c) => c.is_unique)).toBe(humanVisitors.size);
    // Exactly one unique click per human visitor, none for a bot.
    const perVisitor = new Map<string | null, { uniques: number; bot: number }>();
    for (const c of stored) {
      const v = perVisitor.get(c.sub2) ?? { uniques: 0, bot: 0 };
      perVisitor.set(c.sub2, { uniques: v.uniques + c.is_unique, bot: Math.max(v.bot, c.is_bot) });
    }
    expect(perVisitor.size).toBe(visitors);
    for (const row of perVisitor.values()) expect(row.uniques).toBe(row.bot === 1 ? 0 : 1);

    // The daily rollup (summed over days, in case the run crossed midnight UTC) matches the rows.
    const rollup = await env.DB.prepare(
      `SELECT SUM(clicks) AS clicks, SUM(unique_clicks) AS unique_clicks, SUM(bot_clicks) AS bot_clicks
       FROM daily_click_stats WHERE offer_id = ? AND publisher_id = ?`,
    )
      .bind(f.offerId, f.publisherId)
      .first<{ clicks: number; unique_clicks: number; bot_clicks: number }>();
    expect(rollup).toEqual({ clicks: humanClicks, unique_clicks: humanVisitors.size, bot_clicks: botClicks });

    // And the report served from the rollup says the same.
    const served = await adminOk<{ data: { clicks: number; unique_clicks: number; bot_clicks: number }[] }>(
      'GET',
      `/reports?offer_id=${f.offerId}`,
    );
    expect(served.data).toEqual([
      expect.objectContaining({ clicks: humanClicks, unique_clicks: humanVisitors.size, bot_clicks: botClicks }),
    ]);
    report(
      `load: ${total} clicks (${humanClicks} human, ${botClicks} bot, ${humanVisitors.size} unique visitors) -> ` +
        `${rows} rows, rollup clicks ${rollup?.clicks} unique ${rollup?.unique_clicks} bot ${rollup?.bot_clicks}; ` +
        `redirects answered in ${redirectMs} ms, queue drained after ${drainedMs} ms`,
    );
  }, 120_000);
});

type Profile = 'get' | 'json' | 'form' | 'hasoffers' | 'tradetracker';
interface Order {
  orderId: string;
  clickId: string;
  goal: 'sale' | 'lead';
  /** Sale amount in cents (0 for a lead). */
  cents: number;
}

/** One advertiser request for an order, as an integration of that profile would send it. */
function send(order: Order, profile: Profile, key: string) {
  const amount = `${Math.floor(order.cents / 100)}.${String(order.cents % 100).padStart(2, '0')}`;
  const sale = order.goal === 'sale';
  switch (profile) {
    case 'get':
      return getPostback('/postback', {
        click_id: order.clickId,
        event: order.goal,
        order_id: order.orderId,
        ...(sale ? { amount, currency: 'EUR' } : {}),
        key,
      });
    case 'json':
      return postJson(
        '/postback',
        {
          click_id: order.clickId,
          event: order.goal,
          order_id: order.orderId,
          ...(sale ? { amount, currency: 'EUR' } : {}),
        },
        { authorization: `Bearer ${key}` },
      );
    case 'form':
      return postForm('/postback', {
        click_id: order.clickId,
        event: order.goal,
        order_id: order.orderId,
        ...(sale ? { amount } : {}),
        key,
      });
    case 'hasoffers':
      return getPostback('/postback/hasoffers', {
        transaction_id: order.clickId,
        adv_sub: order.orderId,
        goal_id: order.goal,
        ...(sale ? { amount } : {}),
        security_token: key,
      });
    case 'tradetracker':
      return getPostback(`/postback/tradetracker/${order.goal}`, {
        data: order.clickId,
        tid: order.orderId,
        ...(sale ? { tam: amount, currency: 'EUR' } : {}),
        cid: '1',
        pid: '2',
        tgi: '',
        key,
      });
  }
}

/** 10% and 5% of an amount in cents, rounded half up, in integer arithmetic. */
const tenPercent = (cents: number) => Math.floor((cents + 5) / 10);
const fivePercent = (cents: number) => Math.floor((cents + 10) / 20);

describe('load: postbacks', () => {
  it('turns 320 concurrent postbacks of 220 orders (100 replays, across profiles) into exactly 220 conversions, summed to the cent', async () => {
    quietWorkerLogs();
    const f = await createFixture();
    const hook = uniqueKey('load-postbacks');
    await adminOk('POST', '/endpoints', {
      publisher_id: f.publisherId,
      url: `${RECEIVER}/${hook}`,
      format: 'json',
      events: ['conversion.created'],
    });
    const random = lcg(20_261_123);
    const orderCount = 220;
    const replayCount = 100;
    const profiles: Profile[] = ['get', 'json', 'form', 'hasoffers', 'tradetracker'];
    const orders: Order[] = [];
    for (let i = 0; i < orderCount; i++) {
      const goal = i % 4 === 3 ? 'lead' : 'sale';
      orders.push({
        orderId: `LOAD-${i}`,
        clickId: await mintLandedClick(f, 60_000 + i),
        goal,
        // Amounts from 0.01 to 2,500.00 EUR, with every last digit represented.
        cents: goal === 'sale' ? 1 + random(250_000) : 0,
      });
    }
    // Every order once, then 100 replays of randomly chosen orders (some replayed several
    // times), each through a randomly chosen profile, all shuffled and sent at once.
    const requests: { order: Order; profile: Profile }[] = orders.map((order) => ({
      order,
      profile: profiles[random(profiles.length)] as Profile,
    }));
    for (let r = 0; r < replayCount; r++) {
      requests.push({
        order: orders[random(orderCount)] as Order,
        profile: profiles[random(profiles.length)] as Profile,
      });
    }
    for (let i = requests.length - 1; i > 0; i--) {
      const j = random(i + 1);
      [requests[i], requests[j]] = [requests[j] as (typeof requests)[number], requests[i] as (typeof requests)[number]];
    }
    expect(requests).toHaveLength(320);
    expect(new Set(requests.map((r) => r.profile))).toEqual(new Set(profiles));

    const answers = await Promise.all(requests.map(({ order, profile }) => send(order, profile, f.postbackKey)));

    // Every request answered 200; per order, one creation and the same conversion_id throughout.
    const byOrder = new Map<string, { ids: Set<string>; created: number; answers: number }>();
    answers.forEach((answer, i) => {
      const order = requests[i]?.order as Order;
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const entry = byOrder.get(order.orderId) ?? { ids: new Set(), created: 0, answers: 0 };
      entry.ids.add(answer.body.conversion_id);
      entry.answers += 1;
      if (answer.body.duplicate === false) entry.created += 1;
      byOrder.set(order.orderId, entry);
    });
    expect(byOrder.size).toBe(orderCount);
    for (const entry of byOrder.values()) {
      expect(entry.ids.size).toBe(1);
      expect(entry.created).toBe(1);
    }
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(replayCount);

    // The stored conversions, and the sums an independent computation expects.
    const sales = orders.filter((o) => o.goal === 'sale');
    const leads = orders.length - sales.length;
    const expected = {
      conversions: orderCount,
      orders: orderCount,
      amount: sales.reduce((sum, o) => sum + o.cents, 0),
      revenue: sales.reduce((sum, o) => sum + tenPercent(o.cents), 0) + leads * 500,
      payout: sales.reduce((sum, o) => sum + fivePercent(o.cents), 0) + leads * 200,
    };
    const stored = await env.DB.prepare(
      `SELECT COUNT(*) AS conversions, COUNT(DISTINCT order_id) AS orders, SUM(amount) AS amount,
              SUM(revenue) AS revenue, SUM(payout) AS payout
       FROM conversions WHERE offer_id = ?`,
    )
      .bind(f.offerId)
      .first();
    expect(stored).toEqual(expected);
    // Per order too: the right goal, amount and money on each row.
    const { results: rows } = await env.DB.prepare(
      `SELECT c.order_id, g.key AS goal, c.amount, c.revenue, c.payout, c.status
       FROM conversions c JOIN goals g ON g.id = c.goal_id WHERE c.offer_id = ?`,
    )
      .bind(f.offerId)
      .all<{ order_id: string; goal: string; amount: number; revenue: number; payout: number; status: string }>();
    const byId = new Map(rows.map((r) => [r.order_id, r]));
    for (const order of orders) {
      expect(byId.get(order.orderId)).toEqual({
        order_id: order.orderId,
        goal: order.goal,
        amount: order.cents,
        revenue: order.goal === 'sale' ? tenPercent(order.cents) : 500,
        payout: order.goal === 'sale' ? fivePercent(order.cents) : 200,
        status: 'pending',
      });
    }

    // One creation event per conversion, and the rollup agrees with the rows.
    expect(
      await scalar(
        `SELECT COUNT(*) AS n FROM conversion_events e JOIN conversions c ON c.id = e.conversion_id
         WHERE c.offer_id = ? AND e.type = 'conversion.created'`,
        f.offerId,
      ),
    ).toBe(orderCount);
    expect(await scalar('SELECT COUNT(*) AS n FROM conversion_events')).toBe(orderCount);
    const rollup = await env.DB.prepare(
      `SELECT SUM(pending) AS pending, SUM(revenue_pending) AS revenue, SUM(payout_pending) AS payout
       FROM daily_conversion_stats WHERE offer_id = ?`,
    )
      .bind(f.offerId)
      .first();
    expect(rollup).toEqual({ pending: orderCount, revenue: expected.revenue, payout: expected.payout });

    // The postback log has one row per request: 220 created, 100 duplicates, nothing refused.
    // (Rows of concurrent replays are written in batches a few milliseconds after their answers.)
    await eventually(
      async () =>
        (await scalar('SELECT COUNT(*) AS n FROM postback_log WHERE advertiser_id = ?', f.advertiserId)) >=
          requests.length || null,
      5_000,
    );
    const { results: outcomes } = await env.DB.prepare(
      `SELECT outcome, http_status, COUNT(*) AS n FROM postback_log WHERE advertiser_id = ?
       GROUP BY outcome, http_status ORDER BY outcome`,
    )
      .bind(f.advertiserId)
      .all();
    expect(outcomes).toEqual([
      { outcome: 'created', http_status: 200, n: orderCount },
      { outcome: 'duplicate', http_status: 200, n: replayCount },
    ]);
    const byProfile = await env.DB.prepare(
      'SELECT profile, COUNT(*) AS n FROM postback_log WHERE advertiser_id = ? GROUP BY profile',
    )
      .bind(f.advertiserId)
      .all<{ profile: string; n: number }>();
    const sentByProfile = { canonical: 0, hasoffers: 0, tradetracker: 0 };
    for (const { profile } of requests) {
      sentByProfile[
        profile === 'hasoffers' ? 'hasoffers' : profile === 'tradetracker' ? 'tradetracker' : 'canonical'
      ]++;
    }
    expect(Object.fromEntries(byProfile.results.map((r) => [r.profile, r.n]))).toEqual(sentByProfile);

    // Each conversion notifies the publisher exactly once.
    await eventually(
      async () =>
        (await scalar(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'delivered'`)) === orderCount ? true : null,
      60_000,
    );
    await pause(500);
    expect(await scalar('SELECT COUNT(*) AS n FROM deliveries')).toBe(orderCount);
    const hits = await received(hook);
    expect(hits).toHaveLength(orderCount);
    expect(new Set(hits.map((h) => h.headers['webhook-id'])).size).toBe(orderCount);
    const notified = new Set(hits.map((h) => (JSON.parse(h.body) as { data: { order_id: string } }).data.order_id));
    expect(notified).toEqual(new Set(orders.map((o) => o.orderId)));

    report(
      `load: ${requests.length} concurrent postbacks (${orderCount} orders, ${replayCount} replays, ` +
        `${Object.entries(sentByProfile)
          .map(([p, n]) => `${p} ${n}`)
          .join(', ')}) -> ${stored?.conversions} conversions, amount ${expected.amount} revenue ${expected.revenue} ` +
        `payout ${expected.payout} (minor units, exact), ${hits.length} notifications with ${hits.length} distinct webhook-ids`,
    );
  }, 120_000);
});
