// Helpers for postback and conversion tests: mint click IDs at a chosen time (no redirect
// needed), send postbacks in each encoding, and read the rows a postback leaves behind.
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { clickIdKeys, mintClickId } from '../src/click/click-id';
import type { DeliveryRow } from '../src/db/deliveries';
import type { AttemptRow } from '../src/db/delivery-attempts';
import { clickRecord, insertClicks, seedEndpoint } from './fixtures';
import { adminOk, type Fixture, uniqueKey, worker } from './helpers';

export interface PostbackAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON answer field by field
  body: any;
}

async function answer(response: Response): Promise<PostbackAnswer> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** A genuine click ID for the fixture's offer and publisher, `ageMs` in the past. */
export async function mintClick(
  f: Pick<Fixture, 'offerId' | 'publisherId'>,
  ageMs = 60_000,
  now = Date.now(),
): Promise<string> {
  return mintClickId(await clickIdKeys(env), {
    clickedAt: now - ageMs,
    offerId: f.offerId,
    publisherId: f.publisherId,
  });
}

/**
 * A genuine click ID whose click the clicks consumer has already stored, `ageMs` in the past: a
 * postback for it finds the click row, where one for a bare minted ID waits for the click
 * (src/clicks/completion.ts) before its notifications go out.
 */
export async function mintLandedClick(
  f: Pick<Fixture, 'offerId' | 'publisherId'>,
  ageMs = 60_000,
  now = Date.now(),
): Promise<string> {
  const clickId = await mintClick(f, ageMs, now);
  await insertClicks([clickRecord(f, new Date(now - ageMs).toISOString(), { click_id: clickId })]);
  return clickId;
}

/** A sale reported by the advertiser's postback, moved into `day` (the month it belongs to). */
export async function datedSale(
  f: Fixture,
  amount: string,
  day: string,
  status = 'approved',
  orderId = uniqueKey('order'),
): Promise<{ id: string; payout: string }> {
  const res = await postJson('/postback', {
    click_id: await mintLandedClick(f),
    event: 'sale',
    order_id: orderId,
    amount,
    currency: 'EUR',
    status,
    key: f.postbackKey,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const id = res.body.conversion_id as string;
  await env.DB.prepare('UPDATE conversions SET created_at = ? WHERE id = ?').bind(`${day}T12:00:00.000Z`, id).run();
  // The advertiser's answer carries no payout (src/auth/money-view.ts): read the stored one.
  return { id, payout: (await withPayout(res)).payout as string };
}

const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

export async function getPostback(
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<PostbackAnswer> {
  const separator = path.includes('?') ? '&' : '?';
  return answer(await worker(`${path}${separator}${query(params)}`, { headers }));
}

export async function postJson(
  path: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<PostbackAnswer> {
  return answer(
    await worker(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

export async function postForm(
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<PostbackAnswer> {
  return answer(
    await worker(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: query(params),
    }),
  );
}

/**
 * A postback answer with the publisher's payout added from the stored conversion, read as the
 * operator: the answer itself never carries payout (it goes to the advertiser's server), and
 * tests keep asserting that money to the cent.
 */
// biome-ignore lint/suspicious/noExplicitAny: tests read the JSON answer field by field
export async function withPayout(res: Pick<PostbackAnswer, 'body'>): Promise<any> {
  expect(res.body).not.toHaveProperty('payout');
  const stored = await adminOk<{ payout: string }>('GET', `/conversions/${res.body.conversion_id}`);
  return { ...res.body, payout: stored.payout };
}

/** A fixture plus a second publisher, for tests that compare publishers. */
export async function createPublisher(name = 'Another blog'): Promise<number> {
  return (await adminOk<{ id: number }>('POST', '/publishers', { name })).id;
}

export async function conversion(id: string) {
  return env.DB.prepare('SELECT * FROM conversions WHERE id = ?').bind(id).first<Record<string, unknown>>();
}

export async function conversionsOfOffer(offerId: number) {
  const { results } = await env.DB.prepare('SELECT * FROM conversions WHERE offer_id = ? ORDER BY created_at, id')
    .bind(offerId)
    .all<Record<string, unknown>>();
  return results;
}

export async function eventsOf(conversionId: string) {
  const { results } = await env.DB.prepare(
    'SELECT * FROM conversion_events WHERE conversion_id = ? ORDER BY created_at, rowid',
  )
    .bind(conversionId)
    .all<Record<string, unknown>>();
  return results;
}

export async function statsOf(offerId: number, publisherId?: number) {
  const { results } = await env.DB.prepare(
    `SELECT * FROM daily_conversion_stats WHERE offer_id = ? ${publisherId === undefined ? '' : 'AND publisher_id = ?'}`,
  )
    .bind(...(publisherId === undefined ? [offerId] : [offerId, publisherId]))
    .all<Record<string, unknown>>();
  return results;
}

export async function logRowsOf(advertiserId: number) {
  const { results } = await env.DB.prepare('SELECT * FROM postback_log WHERE advertiser_id = ? ORDER BY id')
    .bind(advertiserId)
    .all<Record<string, unknown>>();
  return results;
}

export async function lastLogRow() {
  return env.DB.prepare('SELECT * FROM postback_log ORDER BY id DESC LIMIT 1').first<Record<string, unknown>>();
}

/** An endpoint row written directly (the endpoints admin API belongs to the notifications flow). */
export async function insertEndpoint(
  publisherId: number,
  events: string[],
  offerIds: number[] | null = null,
): Promise<number> {
  const endpoint = await seedEndpoint({
    publisher_id: publisherId,
    url: `http://127.0.0.1:${env.RECEIVER_PORT}/postback-tests`,
    events: JSON.stringify(events),
    offer_ids: offerIds ? JSON.stringify(offerIds) : null,
  });
  return endpoint.id;
}

export async function deliveriesOf(conversionId: string) {
  const { results } = await env.DB.prepare(
    'SELECT * FROM deliveries WHERE conversion_id = ? ORDER BY created_at, event_type, endpoint_id',
  )
    .bind(conversionId)
    .all<Record<string, unknown>>();
  return results;
}

export const deliveryRow = (id: string) =>
  env.DB.prepare('SELECT * FROM deliveries WHERE id = ?').bind(id).first<DeliveryRow>();

/** A delivery's attempts, first first. */
export async function attemptsOf(deliveryId: string) {
  const { results } = await env.DB.prepare('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt')
    .bind(deliveryId)
    .all<AttemptRow>();
  return results;
}
