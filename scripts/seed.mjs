#!/usr/bin/env node
// Creates (once) the demo advertiser, publisher, offer and notification endpoint through the
// admin API of a running Clickhop, and returns the links to try. Run alone as
// `npm run seed -- <origin> <admin token>`.

async function api(origin, adminToken, method, path, body) {
  const response = await fetch(`${origin}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

const DEMO = 'Demo';
/** Where `npm run dev` keeps the demo's links and key for `npm run demo:click` (git-ignored). */
export const DEMO_STATE = '.wrangler/demo.json';
/** A browser's User-Agent for demo clicks: clicks with curl's own count as bot clicks, not as clicks. */
export const BROWSER_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export async function seedDemo({ origin, adminToken }) {
  const call = (method, path, body) => api(origin, adminToken, method, path, body);
  const advertisers = await call('GET', '/advertisers?limit=200');
  let advertiser = advertisers.data.find((a) => a.name === `${DEMO} Shop`);
  let postbackKey;
  if (advertiser) {
    // The key is shown only when made: make a fresh one for this session.
    postbackKey = (await call('POST', `/advertisers/${advertiser.id}/postback-key`)).postback_key;
  } else {
    advertiser = await call('POST', '/advertisers', { name: `${DEMO} Shop` });
    postbackKey = advertiser.postback_key;
  }

  const publishers = await call('GET', '/publishers?limit=200');
  const publisher =
    publishers.data.find((p) => p.name === `${DEMO} Publisher`) ??
    (await call('POST', '/publishers', { name: `${DEMO} Publisher` }));

  const offers = await call('GET', `/offers?advertiser_id=${advertiser.id}&limit=200`);
  const offer =
    offers.data.find((o) => o.name === `${DEMO} Offer`) ??
    (await call('POST', '/offers', {
      advertiser_id: advertiser.id,
      name: `${DEMO} Offer`,
      landing_url: 'https://shop.example/landing?utm_source=clickhop',
      currency: 'EUR',
      deep_link_hosts: ['shop.example'],
      goals: [
        { key: 'lead', name: 'Sign-up', revenue: '5.00', payout: '2.00', default: true },
        { key: 'sale', name: 'Purchase', revenue_percent: 10, payout_percent: 5 },
      ],
    }));

  // A notification endpoint pointing at the Worker's own dev-only demo receiver.
  let receiverLog = null;
  const receiver = await fetch(`${origin}/dev/receiver/log`).catch(() => null);
  if (receiver?.ok) {
    const endpoints = await call('GET', `/endpoints?publisher_id=${publisher.id}&limit=200`);
    if (!endpoints.data.some((e) => String(e.url).startsWith(`${origin}/dev/receiver`))) {
      await call('POST', '/endpoints', {
        publisher_id: publisher.id,
        url: `${origin}/dev/receiver`,
        method: 'POST',
        format: 'json',
        events: ['conversion.created', 'conversion.approved', 'conversion.rejected', 'conversion.reversed'],
        include_products: true,
        include_click_data: true,
      });
    }
    receiverLog = `${origin}/dev/receiver/log`;
  }

  return {
    offerId: offer.id,
    clickParam: offer.click_param ?? 'click_id',
    clickLink: `${origin}/c/${offer.id}/${publisher.id}?sub1=demo`,
    postbackUrl: `${origin}/postback?click_id={click_id}&event=sale&order_id=demo-1&amount=49.90&currency=EUR&key=${postbackKey}`,
    receiverLog,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [origin = 'http://127.0.0.1:8787', adminToken = process.env.ADMIN_TOKEN] = process.argv.slice(2);
  if (!adminToken) {
    console.error('usage: npm run seed -- <origin> <admin token>');
    process.exit(1);
  }
  console.log(JSON.stringify(await seedDemo({ origin, adminToken }), null, 2));
}
