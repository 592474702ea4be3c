#!/usr/bin/env node
// Creates (once) the demo advertiser, publisher, offer and notification endpoint through the
// admin API of a running Clickhop, and returns the links to try; and a demo operator person for
// the portal. Run alone as `npm run seed -- <origin> <admin token>`.
import { createHmac } from 'node:crypto';

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

/** The demo operator's portal sign-in. */
export const DEMO_OPERATOR_EMAIL = 'demo-operator@clickhop.test';

/**
 * The demo operator's password: derived from the admin token in .dev.vars, so every run of
 * `npm run dev` prints the same one for the same local state, and nothing else has to keep it.
 */
export function demoOperatorPassword(adminToken) {
  return `demo-${createHmac('sha256', adminToken).update('clickhop demo operator').digest('base64url').slice(0, 16)}`;
}

/** The form token cookie and hidden field a portal page hands out (src/auth/form-token.ts). */
function formTokenOf(response, page) {
  const cookie = (response.headers.getSetCookie?.() ?? [])
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('clickhop_form='));
  const field = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!cookie || !field) throw new Error(`${response.url} handed out no form token`);
  return { cookie, field };
}

/** Posts a portal form as a browser would, with the form token of the page it came from. */
async function postPortalForm(origin, path, token, fields) {
  return fetch(`${origin}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: token.cookie },
    body: new URLSearchParams({ ...fields, _csrf: token.field }).toString(),
  });
}

/**
 * Creates (once) an operator person who signs in to the portal with email and password, the
 * way the operator would invite one: POST /api/v1/users answers an invitation link, and the
 * invitation page sets the password. Answers the sign-in, or why there is none.
 */
export async function seedDemoOperator({ origin, adminToken }) {
  const email = DEMO_OPERATOR_EMAIL;
  const password = demoOperatorPassword(adminToken);
  const users = await api(origin, adminToken, 'GET', '/users?limit=200');
  const existing = users.data.find((u) => u.email === email);
  if (!existing) {
    const invited = await api(origin, adminToken, 'POST', '/users', { email, role: 'operator' });
    const invitation = new URL(invited.invite_url);
    const page = await fetch(`${origin}${invitation.pathname}${invitation.search}`);
    const token = formTokenOf(page, await page.text());
    const accepted = await postPortalForm(origin, '/portal/invite', token, {
      token: invitation.searchParams.get('token') ?? '',
      password,
      confirm: password,
    });
    if (accepted.status !== 303)
      throw new Error(`accepting the demo operator's invitation answered ${accepted.status}`);
    return { email, password, loginUrl: `${origin}/portal/login` };
  }
  // Made by an earlier run: check the password still signs in (.dev.vars may have been remade).
  const login = await fetch(`${origin}/portal/login`);
  const token = formTokenOf(login, await login.text());
  const signedIn = await postPortalForm(origin, '/portal/login', token, { email, password });
  if (signedIn.status !== 303) {
    return {
      email,
      password: null,
      loginUrl: `${origin}/portal/login`,
      problem: `${email} exists (${existing.status}) but its password is not the one derived from this .dev.vars; delete .wrangler/state to start over`,
    };
  }
  return { email, password, loginUrl: `${origin}/portal/login` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [origin = 'http://127.0.0.1:8787', adminToken = process.env.ADMIN_TOKEN] = process.argv.slice(2);
  if (!adminToken) {
    console.error('usage: npm run seed -- <origin> <admin token>');
    process.exit(1);
  }
  const demo = await seedDemo({ origin, adminToken });
  const operator = await seedDemoOperator({ origin, adminToken });
  console.log(JSON.stringify({ ...demo, operator }, null, 2));
}
