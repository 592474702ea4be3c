#!/usr/bin/env node
// Runs every example of docs/migrating.md against a live `wrangler dev`: starts it on a free
// port with a temporary state directory, seeds an advertiser, offer, publisher and endpoints
// through the admin API, then makes each documented request (old network's URL with only the
// host changed) and checks the answer, and what a publisher's server receives. Slow (it starts
// wrangler), so it is not part of CI: `node scripts/check-migrating.mjs`.
import './check-node.cjs';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const state = mkdtempSync(join(tmpdir(), 'clickhop-migrating-'));
const adminToken = `check-${randomBytes(8).toString('hex')}`;
const envFile = join(state, '.dev.vars');
writeFileSync(
  envFile,
  [
    `ADMIN_TOKEN="${adminToken}"`,
    `CLICK_ID_SECRET="${randomBytes(32).toString('base64url')}"`,
    'ALLOW_PRIVATE_DESTINATIONS="true"',
    '',
  ].join('\n'),
);

let failures = 0;
let passes = 0;
function check(name, ok, detail = '') {
  if (ok) passes++;
  else failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `\n     ${detail}`}`);
}

/** The publisher's server: keeps every request it receives, by path. */
const receivedRequests = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    receivedRequests.push({ method: req.method, url: req.url, headers: req.headers, body });
    res.end('ok');
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverOrigin = `http://127.0.0.1:${receiver.address().port}`;

const freePort = await new Promise((resolve) => {
  const probe = http.createServer();
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const origin = `http://127.0.0.1:${freePort}`;

const migrate = spawnSync(wrangler, ['d1', 'migrations', 'apply', 'clickhop', '--local', '--persist-to', state], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (migrate.status !== 0) throw new Error('migrations failed');
const dev = spawn(
  wrangler,
  ['dev', '--port', String(freePort), '--ip', '127.0.0.1', '--persist-to', state, '--env-file', envFile],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], detached: true },
);

function stop() {
  try {
    process.kill(-dev.pid, 'SIGINT');
  } catch {
    // already gone
  }
  receiver.close();
  rmSync(state, { recursive: true, force: true });
}

/** A request to the Worker with an explicit Host header (TradeTracker's tl./ts. hosts). */
function request(method, path, { host, headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${origin}${path}`,
      { method, headers: { ...headers, ...(host ? { host } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function api(method, path, body) {
  const res = await request(method, `/api/v1${path}`, {
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${res.text}`);
  return JSON.parse(res.text);
}

async function waitForWorker() {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await request('GET', '/')).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`wrangler dev did not answer on ${origin} within 2 minutes`);
}

async function receivedAt(path, ms = 30_000) {
  for (let waited = 0; waited < ms; waited += 250) {
    const found = receivedRequests.filter((r) => r.url.startsWith(path));
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return [];
}

/** Follows a publisher link and returns the click ID from the landing URL. */
async function clickThrough(path) {
  const res = await request('GET', path);
  const location = res.headers.location ?? '';
  return { status: res.status, clickId: new URL(location).searchParams.get('click_id') };
}

try {
  await waitForWorker();
  const advertiser = await api('POST', '/advertisers', { name: 'Shop moving from another network' });
  const publisher = await api('POST', '/publishers', { name: 'Cashback site' });
  const offer = await api('POST', '/offers', {
    advertiser_id: advertiser.id,
    name: 'Shoes',
    landing_url: 'https://shop.example/landing',
    currency: 'EUR',
    goals: [
      { key: 'lead', revenue: '5.00', payout: '2.00' },
      {
        key: 'sale',
        revenue_percent: 10,
        payout_percent: 5,
        commission_groups: [{ key: 'SHOES', revenue_percent: 20, payout_percent: 12 }],
      },
    ],
  });
  const key = advertiser.postback_key;
  const link = (query) => `/c/${offer.id}/${publisher.id}?${query}`;

  // ---- TUNE / HasOffers
  {
    const click = await clickThrough(link('sub1=REF-9'));
    check('TUNE: publisher link answers 302 with a click ID', click.status === 302 && !!click.clickId);
    const res = await request(
      'GET',
      `/aff_lsr?transaction_id=${click.clickId}&amount=40.00&adv_sub=TUNE-1&goal_id=sale&security_token=${key}`,
    );
    const body = JSON.parse(res.text);
    check(
      'TUNE: /aff_lsr records the sale',
      res.status === 200 && body.event === 'sale' && body.payout === '2.00',
      res.text,
    );
    const goal = await request(
      'GET',
      `/aff_goal?a=lsr&goal_id=lead&transaction_id=${click.clickId}&adv_sub=TUNE-2&security_token=${key}`,
    );
    check('TUNE: /aff_goal records the lead', goal.status === 200 && JSON.parse(goal.text).event === 'lead', goal.text);
  }

  // ---- TradeTracker
  {
    const lead = await clickThrough(link('sub1=TT-1'));
    const tl = await request(
      'GET',
      `/?s2s=1&cid=12345&pid=67890&tgi=&tid=TT-LEAD-1&descrMerchant=new%20player&descrAffiliate=new%20player&data=${lead.clickId}&key=${key}`,
      { host: 'tl.track.shop.example' },
    );
    check(
      'TradeTracker: lead callback on a tl. host',
      tl.status === 200 && JSON.parse(tl.text).event === 'lead',
      tl.text,
    );
    const sale = await clickThrough(link('sub1=TT-2'));
    const ts = await request(
      'GET',
      `/?s2s=1&tid=TT-SALE-1&tam=100.00&currency=EUR&pid=SHOES&data=${sale.clickId}&key=${key}`,
      {
        host: 'ts.track.shop.example',
      },
    );
    const tsBody = JSON.parse(ts.text);
    check(
      'TradeTracker: sale callback on a ts. host, pid=SHOES priced in that commission group',
      ts.status === 200 && tsBody.event === 'sale' && tsBody.payout === '12.00',
      ts.text,
    );
    const root = await request('GET', '/');
    check('TradeTracker: / without s2s still answers the service', JSON.parse(root.text).service === 'clickhop');
  }

  // ---- Awin (publisher side): AwinTransactionPush
  {
    await api('POST', '/endpoints', {
      publisher_id: publisher.id,
      url: `${receiverOrigin}/awin/notification.php`,
      preset: 'awin',
      events: ['conversion.created'],
    });
    const click = await clickThrough(link('sub1=member-42'));
    await request('GET', `/postback?click_id=${click.clickId}&event=sale&amount=26.09&order_id=AW-1&key=${key}`);
    const [push] = await receivedAt('/awin/notification.php');
    const decoded = push ? JSON.parse(new URLSearchParams(push.body).get('AwinTransactionPush') ?? '{}') : {};
    check(
      'Awin: AwinTransactionPush holds Awin JSON (clickRef, commission, transactionCurrency)',
      decoded.clickRef === 'member-42' && decoded.commission === '1.30' && decoded.transactionCurrency === 'EUR',
      JSON.stringify(decoded),
    );
    check(
      'Awin: form content type and Standard Webhooks signature',
      push?.headers['content-type'] === 'application/x-www-form-urlencoded; charset=UTF-8' &&
        /^v1,/.test(push?.headers['webhook-signature'] ?? ''),
    );
  }

  // ---- impact.com (publisher side): query, JSON body template, XML
  {
    await api('POST', '/endpoints', {
      publisher_id: publisher.id,
      url: `${receiverOrigin}/impact/postback?subId1={sub1}&payout={payout}&currency={payout_currency}&oid={order_id}`,
      format: 'query',
      events: ['conversion.created'],
    });
    await api('POST', '/endpoints', {
      publisher_id: publisher.id,
      url: `${receiverOrigin}/impact/xml`,
      format: 'xml',
      events: ['conversion.created'],
    });
    await api('POST', '/endpoints', {
      publisher_id: publisher.id,
      url: `${receiverOrigin}/impact/json`,
      format: 'json',
      body_template: '{"SubId1":"{sub1}","Payout":"{payout}","OrderId":"{order_id}"}',
      events: ['conversion.created'],
    });
    const click = await clickThrough(link('sub1=IMP%20"1"'));
    await request('GET', `/postback?click_id=${click.clickId}&event=lead&order_id=IMP-1&key=${key}`);
    const [query] = await receivedAt('/impact/postback');
    check(
      'impact: GET postback with macros',
      query?.url === '/impact/postback?subId1=IMP%20%221%22&payout=2.00&currency=EUR&oid=IMP-1',
      query?.url,
    );
    const [xml] = await receivedAt('/impact/xml');
    check(
      'impact: XML body',
      xml?.headers['content-type'] === 'application/xml' && xml.body.includes('<sub1>IMP &quot;1&quot;</sub1>'),
      xml?.body,
    );
    const [json] = await receivedAt('/impact/json');
    const parsed = json ? JSON.parse(json.body) : {};
    check('impact: JSON body template', parsed.SubId1 === 'IMP "1"' && parsed.Payout === '2.00', json?.body);
  }
} catch (error) {
  failures++;
  console.error(error);
} finally {
  stop();
}
console.log(`${passes} passed, ${failures} failed`);
process.exit(failures > 0 ? 1 : 0);
