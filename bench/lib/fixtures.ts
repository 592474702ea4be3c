// Benchmark fixtures made through the public admin API, as an operator would make them.
import { BENCH_SECRETS } from './runtime.ts';

export const LANDING_URL = 'https://shop.example.com/landing?utm_source=clickhop';

/** Headers of a plausible browser click from a publisher's page (not a bot, so a full click). */
export const CLICK_HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  referer: 'https://blog.example.net/reviews/best-running-shoes',
  accept: 'text/html,application/xhtml+xml',
  'cf-connecting-ip': '203.0.113.7',
};

/** The fields of admin API answers the benchmark reads. */
export interface Created {
  id: number;
  postback_key?: string;
}

export interface AdminAnswer {
  status: number;
  json: unknown;
  text: string;
}

export interface AdminClient {
  call(method: string, path: string, body?: unknown): Promise<AdminAnswer>;
  create(path: string, body: unknown): Promise<Created>;
}

export function adminClient(origin: string): AdminClient {
  const call = async (method: string, path: string, body?: unknown): Promise<AdminAnswer> => {
    const response = await fetch(origin + path, {
      method,
      headers: { authorization: `Bearer ${BENCH_SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: response.status, json, text };
  };
  const create = async (path: string, body: unknown): Promise<Created> => {
    const res = await call('POST', path, body);
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`POST ${path} -> ${res.status}: ${res.text.slice(0, 300)}`);
    return res.json as Created;
  };
  return { call, create };
}

export interface Fixtures {
  admin: AdminClient;
  advertiser: Created & { postback_key: string };
  publisher: Created;
  offer: Created;
  /** A new offer of the fixture's advertiser with a lead goal. */
  createOffer(name: string): Promise<Created>;
  /** Added to every postback of this fixture (e.g. "&amount=10.00&currency=USD"). */
  postbackQuery?: string;
}

/** One advertiser, one publisher, one offer with a lead goal: the redirect and postback fixture. */
export async function createFixtures(origin: string, name = 'bench'): Promise<Fixtures> {
  const admin = adminClient(origin);
  const advertiser = (await admin.create('/api/v1/advertisers', {
    name: `${name} advertiser`,
  })) as Fixtures['advertiser'];
  const publisher = await admin.create('/api/v1/publishers', { name: `${name} publisher` });
  const createOffer = (offerName: string) =>
    admin.create('/api/v1/offers', {
      advertiser_id: advertiser.id,
      name: offerName,
      landing_url: LANDING_URL,
      currency: 'EUR',
      goals: [{ key: 'lead', revenue: '5.00', payout: '2.00' }],
    });
  const offer = await createOffer(`${name} offer`);
  return { admin, advertiser, publisher, offer, createOffer };
}

/** The fixture's click link. */
export const clickPath = (fx: Fixtures): string => `/c/${fx.offer.id}/${fx.publisher.id}`;

/**
 * A postback for the fixture's advertiser. Click and order ids go in as they are: they are
 * URL-safe, and load jobs pass the {id} and {n} placeholders of load-child.ts through here.
 */
export const postbackPath = (fx: Fixtures, clickId: string, orderId: string): string =>
  `/postback?click_id=${clickId}&key=${encodeURIComponent(fx.advertiser.postback_key)}&order_id=${orderId}${fx.postbackQuery ?? ''}`;
