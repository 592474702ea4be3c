// The Claims pages, for all three roles: a publisher files claims of missed sales and follows
// them; an advertiser (its offers' claims) or the operator (all) accepts or rejects them; both
// sides write in a claim's thread. Everything goes through /api/v1/claims as the signed-in
// person, so scope, validation and the audit log are the API's. Only the claimed sale amount
// is shown: never revenue or payout.
import type { Context } from 'hono';
import { html, type SafeHtml } from '../dashboard/html';
import { callApi, problemText } from './api';
import type { PortalEnv } from './env';
import { field, utcTime } from './format';
import { csrfField, notice, page } from './layout';
import type { PageMessage } from './notifications';

interface Claim {
  id: number;
  offer_id: number;
  publisher_id: number;
  order_id: string;
  amount: string;
  currency: string;
  transaction_date: string;
  click_id: string | null;
  note: string | null;
  status: 'open' | 'accepted' | 'rejected';
  conversion_id: string | null;
  reason: string | null;
  created_at: string;
  messages?: { author_role: string; message: string; created_at: string }[];
}

const CURRENT = '/portal/claims';
const STATUSES = ['open', 'accepted', 'rejected'] as const;

function claimRow(claim: Claim): SafeHtml {
  return html`<tr data-claim-id="${claim.id}"><td><a href="/portal/claims/${claim.id}">${utcTime(claim.created_at)}</a><span class="id">claim ${claim.id}</span></td>
<td>${claim.order_id}<span class="id">offer ${claim.offer_id} · publisher ${claim.publisher_id}</span></td>
<td class="num">${claim.amount} ${claim.currency}</td><td>${claim.transaction_date.slice(0, 10)}</td>
<td><span class="status">${claim.status}</span>${claim.conversion_id ? html`<span class="id">${claim.conversion_id}</span>` : null}</td></tr>`;
}

const fileForm = (
  csrf: string,
) => html`<section aria-labelledby="file-title"><h2 id="file-title">Claim a missed sale</h2>
<form class="stack" method="post" action="/portal/claims">${csrfField(csrf)}
<label>Offer ID<input name="offer_id" required inputmode="numeric" pattern="[0-9]+"></label>
<label>Order ID<input name="order_id" required maxlength="255"></label>
<label>Sale amount<input name="amount" required inputmode="decimal" maxlength="20"></label>
<label>Currency<input name="currency" required maxlength="3" value="EUR"></label>
<label>Date of the sale<input name="transaction_date" type="date" required></label>
<label>Click ID (if you have it)<input name="click_id" maxlength="64"></label>
<label>Note for the advertiser<textarea name="note" rows="3" maxlength="2000"></textarea></label>
<button type="submit">File claim</button>
</form></section>`;

export async function claimsPage(c: Context<PortalEnv>, message?: PageMessage, status: 200 | 400 | 404 | 409 = 200) {
  const viewer = c.get('viewer');
  const wanted = STATUSES.find((s) => s === c.req.query('status'));
  const answer = await callApi<{ data: Claim[] }>(c, 'GET', `/claims?limit=200${wanted ? `&status=${wanted}` : ''}`);
  const claims = answer.status === 200 ? answer.body.data : [];
  const tabs = ['', ...STATUSES].map(
    (s) =>
      html`<a href="/portal/claims${s ? `?status=${s}` : ''}"${s === (wanted ?? '') ? html` aria-current="true"` : null}>${s || 'all'}</a>`,
  );
  const content = html`${message ? notice(message.text, message.kind) : null}
${viewer.role === 'publisher' ? fileForm(viewer.csrf) : null}
<section aria-labelledby="claims-title"><h2 id="claims-title">${viewer.role === 'publisher' ? 'Your claims' : 'Claims to decide'}</h2>
<p id="claim-tabs">${tabs.map((t, i) => (i === 0 ? t : html` · ${t}`))}</p>
<div class="scroll"><table id="claims"><thead><tr><th scope="col">Filed (UTC)</th><th scope="col">Order</th><th scope="col" class="num">Sale amount</th><th scope="col">Sale date</th><th scope="col">Status</th></tr></thead>
<tbody>${claims.length > 0 ? claims.map(claimRow) : html`<tr><td colspan="5" class="muted">No claims.</td></tr>`}</tbody></table></div></section>`;
  return c.html(page(viewer, CURRENT, 'Claims', content), status);
}

export async function fileClaimAction(c: Context<PortalEnv>): Promise<Response> {
  const form = await c.req.parseBody();
  const body: Record<string, unknown> = {
    offer_id: /^\d{1,10}$/.test(field(form, 'offer_id')) ? Number(field(form, 'offer_id')) : field(form, 'offer_id'),
    order_id: field(form, 'order_id'),
    amount: field(form, 'amount'),
    currency: field(form, 'currency').toUpperCase(),
    transaction_date: field(form, 'transaction_date'),
  };
  for (const optional of ['click_id', 'note']) if (field(form, optional)) body[optional] = field(form, optional);
  const answer = await callApi<Claim>(c, 'POST', '/claims', body);
  if (answer.status !== 201) {
    return claimsPage(
      c,
      { text: problemText(answer), kind: 'error' },
      answer.status === 409 ? 409 : answer.status === 404 ? 404 : 400,
    );
  }
  return c.redirect(`/portal/claims/${answer.body.id}`, 303);
}

function decisionForms(claim: Claim, csrf: string): SafeHtml {
  return html`<section aria-labelledby="decide-title"><h2 id="decide-title">Decide</h2>
<form class="stack" method="post" action="/portal/claims/${claim.id}/accept">${csrfField(csrf)}
<label>Goal (the offer's default when empty)<input name="goal" maxlength="64"></label>
<button type="submit" id="accept">Accept: record the conversion</button></form>
<form class="stack" method="post" action="/portal/claims/${claim.id}/reject">${csrfField(csrf)}
<label>Reason<textarea name="reason" rows="2" required maxlength="1000"></textarea></label>
<button type="submit" id="reject" class="plain">Reject</button></form></section>`;
}

export async function claimPage(c: Context<PortalEnv>, message?: PageMessage, status: 200 | 400 | 409 = 200) {
  const viewer = c.get('viewer');
  const id = c.req.param('id') ?? '';
  const answer = await callApi<Claim>(c, 'GET', `/claims/${encodeURIComponent(id)}`);
  if (answer.status !== 200) {
    return c.html(page(viewer, CURRENT, 'Claim', html`${notice(problemText(answer), 'error')}`), 404);
  }
  const claim = answer.body;
  const thread = claim.messages ?? [];
  const content = html`${message ? notice(message.text, message.kind) : null}
<dl id="claim">
<dt>Status</dt><dd><span class="status">${claim.status}</span>${claim.conversion_id ? html` · conversion <code>${claim.conversion_id}</code>` : null}${claim.reason ? html` · ${claim.reason}` : null}</dd>
<dt>Order</dt><dd>${claim.order_id} on offer ${claim.offer_id}, publisher ${claim.publisher_id}</dd>
<dt>Sale</dt><dd>${claim.amount} ${claim.currency} on ${claim.transaction_date.slice(0, 10)}${claim.click_id ? html` · click <code>${claim.click_id}</code>` : null}</dd>
${claim.note ? html`<dt>Note</dt><dd>${claim.note}</dd>` : null}
</dl>
${viewer.role !== 'publisher' && claim.status === 'open' ? decisionForms(claim, viewer.csrf) : null}
<section aria-labelledby="thread-title"><h2 id="thread-title">Thread</h2>
<ol id="thread">${thread.map((m) => html`<li><strong>${m.author_role}</strong> <time datetime="${m.created_at}">${utcTime(m.created_at)}</time><p>${m.message}</p></li>`)}</ol>
<form class="stack" method="post" action="/portal/claims/${claim.id}/messages">${csrfField(viewer.csrf)}
<label>Message<textarea name="message" rows="3" required maxlength="2000"></textarea></label>
<button type="submit" class="plain">Send</button></form></section>
<p><a href="/portal/claims">All claims</a></p>`;
  return c.html(page(viewer, CURRENT, `Claim ${claim.id}`, content), status);
}

export async function claimAction(c: Context<PortalEnv>, action: 'accept' | 'reject' | 'messages'): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const form = await c.req.parseBody();
  const body =
    action === 'accept'
      ? field(form, 'goal')
        ? { goal: field(form, 'goal') }
        : {}
      : action === 'reject'
        ? { reason: field(form, 'reason') }
        : { message: field(form, 'message') };
  const answer = await callApi<Claim>(c, 'POST', `/claims/${encodeURIComponent(id)}/${action}`, body);
  if (answer.status >= 300) {
    return claimPage(c, { text: problemText(answer), kind: 'error' }, answer.status === 409 ? 409 : 400);
  }
  const text =
    action === 'accept'
      ? `Claim accepted: conversion ${answer.body.conversion_id} recorded.`
      : action === 'reject'
        ? 'Claim rejected.'
        : 'Message sent.';
  return claimPage(c, { text, kind: 'ok' });
}
