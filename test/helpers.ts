// Test helpers: drive the Worker through its real fetch handler, create fixtures through the
// admin API, and poll D1 for effects that land asynchronously (queue consumers).
import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { type ClickListCursor, clickListCursor, type ListedClick, listAllClicks } from '../src/clicks/list';
import type { PartitionKey } from '../src/clicks/partition-key';
import { findClick } from '../src/clicks/reads';
import { partitionStub } from '../src/clicks/store';
import type { ClickRow } from '../src/db/clicks';
import type { ReceivedRequest } from './global-setup';

export const BASE = 'https://clickhop.test';
export const ADMIN = { authorization: 'Bearer test-admin-token' };

export function worker(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(BASE + path, { redirect: 'manual', ...init }));
}

export async function admin<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await worker(`/api/v1${path}`, {
    method,
    headers: { ...ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export async function adminOk<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await admin<T>(method, path, body);
  if (response.status >= 300)
    throw new Error(`${method} ${path} -> ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export interface Fixture {
  advertiserId: number;
  postbackKey: string;
  offerId: number;
  publisherId: number;
}

export async function createFixture(offer: Record<string, unknown> = {}): Promise<Fixture> {
  const advertiser = await adminOk<{ id: number; postback_key: string }>('POST', '/advertisers', { name: 'Shop' });
  const publisher = await adminOk<{ id: number }>('POST', '/publishers', { name: 'Blog' });
  const created = await adminOk<{ id: number }>('POST', '/offers', {
    advertiser_id: advertiser.id,
    name: 'Summer sale',
    landing_url: 'https://shop.example/landing?src=aff',
    currency: 'EUR',
    goals: [
      { key: 'lead', revenue: '5.00', payout: '2.00' },
      { key: 'sale', revenue_percent: 10, payout_percent: 5 },
    ],
    ...offer,
  });
  return {
    advertiserId: advertiser.id,
    postbackKey: advertiser.postback_key,
    offerId: created.id,
    publisherId: publisher.id,
  };
}

/** Polls until `probe` returns a value that is not undefined/null, or fails after `ms`. */
export async function eventually<T>(probe: () => Promise<T | null | undefined>, ms = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() - started > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A stored click wherever it lives: its partition (v2 ID) or the D1 clicks table (v1). */
export async function clickRow(clickId: string): Promise<Record<string, unknown> | null> {
  const row = await findClick(env, clickId);
  return row && { ...row };
}

/**
 * Every stored click of an offer in both stores (partitions and D1), oldest first, read the
 * way the admin list reads them: tests count and inspect clicks without knowing where they live.
 */
export async function clicksOfOffer(...offerIds: number[]): Promise<ClickRow[]> {
  const rows: ListedClick[] = [];
  for (const offerId of offerIds) {
    let cursor: ClickListCursor | undefined;
    for (;;) {
      const page = await listAllClicks(env, { offer_id: offerId }, cursor, 500);
      rows.push(...page);
      const last = page[page.length - 1];
      if (!last || page.length < 500) break;
      const [time, key] = last.cursor.split('|') as [string, string];
      cursor = clickListCursor(time, key) ?? undefined;
    }
  }
  const oldestFirst: ClickRow[] = rows.reverse().map(({ cursor: _cursor, ...row }) => row);
  return oldestFirst.sort((a, b) => (a.clicked_at < b.clicked_at ? -1 : a.clicked_at > b.clicked_at ? 1 : 0));
}

/** How many clicks are stored in all, in the D1 table and in every registered partition. */
export async function storedClickCount(): Promise<number> {
  const d1 = (await env.DB.prepare('SELECT COUNT(*) AS n FROM clicks').first<{ n: number }>())?.n ?? 0;
  const { results } = await env.DB.prepare('SELECT period, shard FROM click_partitions').all<PartitionKey>();
  const partitions = await Promise.all(results.map(async (key) => (await partitionStub(env, key).stats()).clicks));
  return partitions.reduce((sum, n) => sum + n, d1);
}

/** Follows a tracking link once and returns the click ID from the redirect. */
export async function click(fixture: Fixture, query = '', headers: Record<string, string> = {}): Promise<string> {
  const response = await worker(`/c/${fixture.offerId}/${fixture.publisherId}${query}`, {
    headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0', ...headers },
  });
  if (response.status !== 302) throw new Error(`click answered ${response.status}`);
  const location = new URL(response.headers.get('location') ?? '');
  const clickId = location.searchParams.get('click_id');
  if (!clickId) throw new Error(`no click_id in ${location}`);
  return clickId;
}

/** Asserts the contract's {"error":{"code","message","fields"}} with exactly these field names. */
export interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

export function expectError(
  response: { status: number; body: unknown },
  status: number,
  code: string,
  fields?: string[],
) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  const body = response.body as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.stringMatching(/./));
  if (fields) expect(Object.keys(body.error.fields ?? {}).sort()).toEqual([...fields].sort());
  return body.error;
}

/** The loopback HTTP receiver started by global-setup.ts (plays the publisher's server). */
export const RECEIVER = `http://127.0.0.1:${env.RECEIVER_PORT}`;

let receiverKeys = 0;
/** A path segment no other test uses, so each test reads only the requests it caused. */
export const uniqueKey = (name: string) => `${name}-${Date.now().toString(36)}-${++receiverKeys}`;

/** Requests the receiver got under /<key>/..., oldest first. */
export async function received(key: string): Promise<ReceivedRequest[]> {
  return (await (await fetch(`${RECEIVER}/_received?key=${encodeURIComponent(key)}`)).json()) as ReceivedRequest[];
}

/** One number from a `SELECT ... AS n` read (0 when the row or the value is missing). */
export async function scalar(sql: string, ...binds: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number | null }>();
  return row?.n ?? 0;
}
