// Section 3b: deliveries of `conversion.created` to a Node receiver on 127.0.0.1, as fast as
// they come.
import type { BenchContext } from './context.ts';
import { postbackPath } from './fixtures.ts';
import { mintClickIds, postbackAvailable, readAnswer } from './postback.ts';
import { startReceiver } from './receiver.ts';
import { epochNow, sleep } from './stats.ts';

export type DeliveryResult =
  | { available: false; reason: string }
  | {
      available: true;
      conversions: number;
      statuses: Record<string, number>;
      postbackRps: number;
      received: number;
      requests: number;
      deliveriesPerSecond: number;
      keptPace: boolean;
      endToEndPerSecond: number;
      latency: { matched: number; p50: number; p99: number; max: number };
      lagAfterLastPostbackMs: number;
      complete: boolean;
    };

export async function deliverySection(ctx: BenchContext): Promise<DeliveryResult> {
  const { opts, rt, fx, log } = ctx;
  const ours = rt.urls.clickhop as string;
  const available = await postbackAvailable(ours);
  if (!available.ok) return { available: false, reason: `needs /postback: ${available.reason}` };
  const receiver = await startReceiver();
  try {
    const created = await fx.admin.call('POST', '/api/v1/endpoints', {
      publisher_id: fx.publisher.id,
      url: receiver.url,
      method: 'POST',
      format: 'json',
      events: ['conversion.created'],
    });
    if (created.status === 404)
      return { available: false, reason: 'POST /api/v1/endpoints answers 404 (not built yet)' };
    if (created.status !== 200 && created.status !== 201) {
      return {
        available: false,
        reason: `POST /api/v1/endpoints answered ${created.status}: ${created.text.slice(0, 200)}`,
      };
    }
    const ids = await mintClickIds(ctx, opts.deliveries);
    // Postbacks from here (fetch, 10 at a time) so each conversion's answer time is known.
    const answered = new Map<string, number>();
    const statuses: Record<string, number> = {};
    let next = 0;
    const t0 = epochNow();
    const worker = async () => {
      while (next < ids.length && epochNow() - t0 < 120_000) {
        const i = next++;
        const response = await fetch(ours + postbackPath(fx, ids[i] as string, `bench-dlv-${i}`), {
          signal: AbortSignal.timeout(30_000),
        });
        const body = await readAnswer(response);
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (response.status === 200 && body?.conversion_id) answered.set(body.conversion_id, epochNow());
      }
    };
    await Promise.all(Array.from({ length: Math.min(10, ids.length) }, worker));
    const tLoaded = epochNow();
    const accepted = answered.size;
    log(`delivery: ${accepted} conversions in ${((tLoaded - t0) / 1000).toFixed(1)} s; waiting for deliveries`);
    const deadline = epochNow() + 120_000;
    let lastCount = -1;
    let lastChange = epochNow();
    while (receiver.ids.size < accepted && epochNow() < deadline) {
      if (receiver.ids.size !== lastCount) {
        lastCount = receiver.ids.size;
        lastChange = epochNow();
      }
      // Give up early when nothing arrives for 30 s (no consumer, or deliveries failing).
      if (epochNow() - lastChange > 30_000) break;
      await sleep(100);
    }
    const arrivals = receiver.arrivals;
    const received = receiver.ids.size;
    const first = arrivals[0] ?? Number.NaN;
    const last = arrivals[arrivals.length - 1] ?? Number.NaN;
    const latencies: number[] = [];
    for (const [conversionId, at] of receiver.byConversion) {
      const sent = answered.get(conversionId);
      if (sent !== undefined) latencies.push(at - sent);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
    return {
      available: true,
      conversions: accepted,
      statuses,
      postbackRps: accepted / ((tLoaded - t0) / 1000),
      received,
      requests: arrivals.length,
      deliveriesPerSecond: received > 1 ? (received - 1) / ((last - first) / 1000) : Number.NaN,
      // Deliveries finished within ~1.5 s (the queue's batch timeout) of the last conversion:
      // the consumer kept up, so its capacity is at least the conversion rate, not measured past it.
      keptPace: received >= accepted && last - tLoaded < 1_500,
      endToEndPerSecond: received ? received / ((last - t0) / 1000) : Number.NaN,
      latency: { matched: latencies.length, p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1) ?? Number.NaN },
      lagAfterLastPostbackMs: received ? last - tLoaded : Number.NaN,
      complete: received >= accepted,
    };
  } finally {
    await receiver.close();
  }
}
