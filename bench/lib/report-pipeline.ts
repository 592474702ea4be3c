// RESULTS.md sections 3 and 4: click ingest, notification delivery, platform calls per request,
// isolate cache memory.
import type { ReportInput } from './report.ts';
import { boundedText, errorOf, okOf, skipped, table, us } from './report-format.ts';
import { fmt, mb, ms } from './stats.ts';

export function pipelineText(r: ReportInput): string[] {
  const ingest = okOf(r.ingest);
  const ingestError = errorOf(r.ingest);
  const delivery = okOf(r.delivery);
  const deliveryError = errorOf(r.delivery);
  const calls = okOf(r.calls);
  const callsError = errorOf(r.calls);
  const memory = okOf(r.memory);
  const memoryError = errorOf(r.memory);
  const out: string[] = [];
  // 3. Ingest and delivery
  out.push('## 3. Click ingest and notification delivery', '');
  if (!r.ingest) out.push(skipped('Ingest', 'section not selected'), '');
  else if (ingestError) out.push(skipped('Ingest', ingestError), '');
  else if (ingest) {
    const e = ingest.endToEnd;
    const q = ingest.consumer;
    out.push(
      table(
        ['measurement', 'clicks', 'clicks/s', 'details'],
        [
          [
            'end to end: `GET /c` at full speed until every row is in D1',
            fmt(e.clicks),
            fmt(e.clicksPerSecond),
            `redirects ${fmt(e.redirectRps)}/s; last row ${ms(e.lagMs)} ms after the last 302; workerd CPU ${us(e.cpuUsPerClick)}/click; stored ${fmt(e.stored)}${e.complete ? '' : ' (INCOMPLETE)'}`,
          ],
          [
            'consumer alone: messages of 100 clicks put on the queue, until every row is in D1',
            fmt(q.clicks),
            fmt(q.clicksPerSecond),
            `${fmt(q.messages)} messages sent (from Node, in batches of 4) in ${ms(q.sendMs)} ms, included in the time; ${fmt(q.d1Batches)} consumer invocations (one json_each INSERT + rollup each); workerd CPU ${us(q.cpuUsPerClick)}/click, i.e. about ${fmt(q.cpuBoundClicksPerSecond)} clicks/s per busy core; stored ${fmt(q.stored)}${q.complete ? '' : ' (INCOMPLETE)'}`,
          ],
        ],
      ),
      '',
      'The consumer is configured with `max_batch_size = 100` messages and `max_batch_timeout = 1` s; the redirect path packs up to 100 clicks into one message (25 ms coalescing), so one consumer batch carries up to 10,000 clicks.',
      '',
    );
  }
  if (!r.delivery) out.push(skipped('Delivery', 'section not selected'), '');
  else if (deliveryError) out.push(skipped('Delivery', deliveryError), '');
  else if (!delivery) out.push(skipped('Delivery', 'no result'), '');
  else if (!delivery.available) out.push(`**Notification delivery not available:** ${delivery.reason}.`, '');
  else {
    const d = delivery;
    out.push(
      table(
        ['measurement', 'value'],
        [
          [
            'conversions created (accepted postbacks, one JSON POST endpoint)',
            `${fmt(d.conversions)} at ${fmt(d.postbackRps)}/s`,
          ],
          [
            'deliveries received (distinct `webhook-id`)',
            `${fmt(d.received)}${d.complete ? '' : ' (INCOMPLETE)'}; HTTP requests ${fmt(d.requests)}`,
          ],
          [
            '**deliveries/s** at the receiver (first to last arrival)',
            `**${fmt(d.deliveriesPerSecond)}**${d.keptPace ? ' — kept pace with the conversions: the postback rate was the limit, not the delivery consumer' : ''}`,
          ],
          ['end to end (first postback to last delivery)', `${fmt(d.endToEndPerSecond)}/s`],
          [
            'conversion answered → notification received',
            `p50 ${ms(d.latency.p50)} ms, p99 ${ms(d.latency.p99)} ms, max ${ms(d.latency.max)} ms (${fmt(d.latency.matched)} matched by conversion_id)`,
          ],
          ['last delivery after the last postback answer', `${ms(d.lagAfterLastPostbackMs)} ms`],
        ],
      ),
      '',
      'Postbacks are sent 10 at a time from the harness; the notifications consumer batches up to 25 messages ' +
        '(`max_batch_timeout` 1 s), so a notification normally follows its conversion within about a second.',
      '',
    );
  }

  // Platform calls per request
  if (calls) {
    const labels: Record<string, string> = {
      click: 'click, warm config',
      unknownPair: 'click, unknown offer and publisher ids (404)',
      postbackAccepted: 'postback, accepted',
      postbackReplay: 'postback, replay',
    };
    out.push(
      '### Platform calls per request',
      '',
      `Counted on an instrumented copy of the Worker (\`bench/count-entry.js\`), ${fmt(calls.click?.n)} sequential requests each, ` +
        "including work the request left to `waitUntil`; the clicks consumer's own D1 batch is not included. Locally every D1 round trip " +
        'is an RPC into the D1 simulator (about 1 ms of CPU each here); on Cloudflare it is a network round trip to the database.',
      '',
      table(
        ['request', 'D1 round trips', 'D1 statements', 'KV reads', 'KV writes', 'Queue sends', 'status'],
        Object.entries(calls).map(([k, x]) => [
          labels[k] ?? k,
          fmt(x.d1Calls, 2),
          fmt(x.d1Statements, 2),
          fmt(x.kvReads, 2),
          fmt(x.kvWrites, 2),
          fmt(x.queueSends, 2),
          x.statuses.join(', '),
        ]),
      ),
      '',
    );
  } else if (callsError) out.push('### Platform calls per request', '', skipped('Platform calls', callsError), '');

  // 4. Memory
  out.push('## 4. Isolate cache memory under many distinct offer/publisher pairs', '');
  if (!r.memory) out.push(skipped('Memory', 'section not selected'), '');
  else if (memoryError) out.push(skipped('Memory', memoryError), '');
  else if (memory) {
    const m = memory;
    out.push(
      `${fmt(m.pairs)} distinct pairs${m.pairs < m.pairsRequested ? ` of ${fmt(m.pairsRequested)} requested (time cap reached)` : ''}: ` +
        `${fmt(m.offers)} unknown offer ids × ${fmt(m.publishers)} unknown publisher ids = ${fmt(m.distinctKeys)} distinct cache keys ` +
        `(the cache holds at most ISOLATE_MAX_ENTRIES = ${m.bound ? fmt(m.bound) : 'unknown'} entries), in ${fmt(m.seconds)} s. Status codes: ${JSON.stringify(m.statuses)}. ` +
        'Measured on a second workerd started with the V8 inspector: the isolate heap is `Runtime.getHeapUsage` after a full GC; RSS is the whole workerd process.',
      '',
      table(
        [
          'step',
          'distinct pairs so far',
          'distinct cache keys so far',
          'isolate JS heap used (MB)',
          'workerd RSS (MB)',
        ],
        m.points.map((p) => [p.label, fmt(p.pairs), fmt(p.keys), mb(p.heapUsed), mb(p.rss)]),
      ),
      '',
    );
    const start = m.points[0];
    const control = m.points[1];
    const last = m.points[m.points.length - 1];
    if (start && control && last && last !== control) {
      out.push(
        `Isolate JS heap, start to end: +${mb(last.heapUsed - start.heapUsed)} MB — this is the cache (about ` +
          `${fmt((last.heapUsed - start.heapUsed) / Math.max(1, Math.min(last.keys, m.bound ?? last.keys)))} bytes per entry). ` +
          boundedText(m) +
          `workerd RSS: +${mb(control.rss - start.rss)} MB during the control requests (serving requests at all: buffers and ` +
          `allocator high-water marks), then +${mb(last.rss - control.rss)} MB during the walk. ` +
          'That growth is native memory outside the Clickhop isolate: every unknown id costs a KV read, a D1 read and a KV ' +
          'write, and the KV and D1 simulators (SQLite) live in the same process.',
        '',
      );
    }
  }
  return out;
}
