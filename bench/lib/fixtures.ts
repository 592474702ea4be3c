// Benchmark fixtures made through the public admin API, as an operator would make them.
import { BENCH_SECRETS } from './runtime.mjs';

export const LANDING_URL = 'https://shop.example.com/landing?utm_source=clickhop';

/** Headers of a plausible browser click from a publisher's page (not a bot, so a full click). */
export const CLICK_HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  referer: 'https://blog.example.net/reviews/best-running-shoes',
  accept: 'text/html,application/xhtml+xml',
  'cf-connecting-ip': '203.0.113.7',
};

export function adminClient(origin) {
  const call = async (method, path, body) => {
    const response = await fetch(origin + path, {
      method,
      headers: { authorization: `Bearer ${BENCH_SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: response.status, json, text };
  };
  const create = async (path, body) => {
    const res = await call('POST', path, body);
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`POST ${path} -> ${res.status}: ${res.text.slice(0, 300)}`);
    return res.json;
  };
  return { call, create };
}

/** One advertiser, one publisher, one offer with a lead goal: the redirect and postback fixture. */
export async function createFixtures(origin, name = 'bench') {
  const admin = adminClient(origin);
  const advertiser = await admin.create('/api/v1/advertisers', { name: `${name} advertiser` });
  const publisher = await admin.create('/api/v1/publishers', { name: `${name} publisher` });
  const offer = await admin.create('/api/v1/offers', {
    advertiser_id: advertiser.id,
    name: `${name} offer`,
    landing_url: LANDING_URL,
    currency: 'EUR',
    goals: [{ key: 'lead', revenue: '5.00', payout: '2.00' }],
  });
  return { admin, advertiser, publisher, offer };
}
