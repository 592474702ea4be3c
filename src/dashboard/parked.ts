// The parked queue messages on the operator's pages (src/parked): an alert line with the count
// and the oldest age per queue, and the waiting messages with a retry button each. Shown by
// /dashboard and by the portal's overview; each page posts the retry to its own route with its
// own CSRF token.
import {
  type ParkedSummaryRow,
  parkedSummaryStatement,
  type WaitingParkedRow,
  waitingParkedStatement,
} from '../db/parked';
import { html, type SafeHtml } from './html';

/** Waiting messages listed on the page (the alert line counts them all). */
export const PARKED_SHOWN = 20;

export interface ParkedOverview {
  summary: ParkedSummaryRow[];
  waiting: WaitingParkedRow[];
}

/** The two reads, for the caller's D1 batch: the summary per queue, then the oldest waiting. */
export const parkedStatements = (db: D1Database): D1PreparedStatement[] => [
  parkedSummaryStatement(db),
  waitingParkedStatement(db, PARKED_SHOWN),
];

export const parkedFromResults = (summary: D1Result | undefined, waiting: D1Result | undefined): ParkedOverview => ({
  summary: (summary?.results ?? []) as ParkedSummaryRow[],
  waiting: (waiting?.results ?? []) as WaitingParkedRow[],
});

/** Where a page's retry buttons post, the CSRF token they carry, and the notice of the last retry. */
export interface ParkedRetryForm {
  action: (id: string) => string;
  csrf: string;
  /** The `parked` query parameter a retry redirected back with. */
  notice?: string;
}

/** "4 min", "3 h 12 min", "2 d 5 h": how long ago, to the unit that matters. */
export function ageText(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

const QUEUE_LABEL: Record<string, string> = {
  'clickhop-clicks': 'click',
  'clickhop-notifications': 'notification',
};

/** The alert line: nothing parked is said quietly; anything parked is said as an alert. */
export function parkedAlert(summary: ParkedSummaryRow[], nowMs: number, id = 'parked-alert'): SafeHtml {
  if (summary.length === 0) {
    return html`<p class="muted" id="${id}" data-parked="0">No queue message is parked.</p>`;
  }
  const total = summary.reduce((sum, row) => sum + row.waiting, 0);
  const parts = summary.map((row) => {
    const label = QUEUE_LABEL[row.queue] ?? row.queue;
    const age = ageText(nowMs - Date.parse(row.oldest_failed_at));
    return html`<span data-queue="${row.queue}" data-waiting="${row.waiting}">${row.waiting} ${label} ${row.waiting === 1 ? 'message' : 'messages'} (${row.queue}), oldest failed ${age} ago</span>`;
  });
  const joined = parts.flatMap((part, i) => (i === 0 ? [part] : [html`; `, part]));
  return html`<p class="notice error" role="alert" id="${id}" data-parked="${total}">Parked: ${joined}. <a href="#parked">Retry them</a> once the cause is fixed.</p>`;
}

const NOTICES: Record<string, { text: string; kind: 'ok' | 'error' }> = {
  resent: { text: 'The message was sent back to its queue.', kind: 'ok' },
  already_delivered: { text: 'Its notification was delivered already: closed, nothing sent.', kind: 'ok' },
  in_progress: { text: 'Its delivery is under way: closed, nothing sent.', kind: 'ok' },
  not_parked: { text: 'That message was retried already.', kind: 'error' },
  not_retryable: { text: 'No consumer can read that message, so it cannot be retried.', kind: 'error' },
  endpoint_disabled: { text: 'The endpoint of that notification is disabled; enable it, then retry.', kind: 'error' },
  delivery_missing: { text: 'The delivery that message names does not exist.', kind: 'error' },
  queue_unavailable: { text: 'The queue refused the message; nothing was sent. Try again.', kind: 'error' },
  not_found: { text: 'There is no such parked message.', kind: 'error' },
  failed: { text: 'The retry failed; nothing was sent.', kind: 'error' },
};

/** The code a retry redirects back with: an outcome or an error code this page can explain. */
export const retryNoticeCode = (code: string | undefined): string =>
  code && Object.hasOwn(NOTICES, code) ? code : 'failed';

function waitingRow(row: WaitingParkedRow, nowMs: number, retry?: ParkedRetryForm): SafeHtml {
  const retryable = row.reason !== 'undecodable';
  const action = !retry
    ? null
    : retryable
      ? html`<form class="inline" method="post" action="${retry.action(row.id)}"><input type="hidden" name="_csrf" value="${retry.csrf}"><button class="plain" type="submit">Retry</button></form>`
      : html`<span class="muted">not retryable</span>`;
  return html`<tr data-parked-id="${row.id}"><td>${row.queue}<span class="id">${row.id}</span></td>
<td><time datetime="${row.first_failed_at}">${ageText(nowMs - Date.parse(row.first_failed_at))} ago</time></td>
<td>${row.reason}${row.error ? html`<span class="id">${row.error}</span>` : null}</td>
<td class="num">${row.attempts}</td><td class="num">${row.retries}</td>${retry ? html`<td>${action}</td>` : null}</tr>`;
}

export function parkedSection(parked: ParkedOverview, nowMs: number, retry?: ParkedRetryForm): SafeHtml {
  const shown = retry?.notice ? NOTICES[retryNoticeCode(retry.notice)] : undefined;
  const notice = shown
    ? html`<p class="notice${shown.kind === 'error' ? ' error' : ''}" role="status" id="parked-notice">${shown.text}</p>`
    : null;
  const rows = parked.waiting.map((row) => waitingRow(row, nowMs, retry));
  return html`<section aria-labelledby="parked-title" id="parked"><h2 id="parked-title">Parked queue messages</h2>
${notice}${parkedAlert(parked.summary, nowMs, 'parked-summary')}
${
  rows.length > 0
    ? html`<div class="scroll"><table id="parked-messages"><thead><tr><th scope="col">Queue</th><th scope="col">First failed</th><th scope="col">Reason</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Retries</th>${retry ? html`<th scope="col">Action</th>` : null}</tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="muted">Oldest first, at most ${PARKED_SHOWN}; <code>GET /api/v1/parked</code> lists them all with their bodies.</p>`
    : null
}</section>`;
}
