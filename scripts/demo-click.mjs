#!/usr/bin/env node
// `npm run demo:click`: against the Clickhop that `npm run dev` runs, makes one click on the demo
// tracking link as a browser would (curl's own User-Agent counts as a bot, and bot clicks are
// kept out of the click numbers), takes the click ID from the redirect, reports a sale for it
// with the demo postback (its payout read back with the admin token), and waits until the
// dashboard's numbers show both.
import './check-node.cjs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_USER_AGENT, DEMO_STATE } from './seed.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function readDemo() {
  try {
    return JSON.parse(readFileSync(join(root, DEMO_STATE), 'utf8'));
  } catch {
    console.error('No demo data found: start `npm run dev` first (in another terminal), then run this again.');
    process.exit(1);
  }
}

const demo = readDemo();
const auth = { authorization: `Bearer ${demo.adminToken}` };

async function totals() {
  const response = await fetch(`${demo.origin}/api/v1/reports?offer_id=${demo.offerId}`, { headers: auth });
  if (!response.ok) throw new Error(`GET /api/v1/reports answered ${response.status}`);
  let clicks = 0;
  let conversions = 0;
  // One row per currency; clicks repeat in each, conversions add up.
  for (const row of (await response.json()).data) {
    clicks = Math.max(clicks, row.clicks);
    conversions += row.conversions.pending + row.conversions.approved;
  }
  return { clicks, conversions };
}

/** The demo receiver's first request about `conversionId`, waiting up to 15 s for it. */
async function notificationFor(conversionId) {
  for (let i = 0; i < 60; i++) {
    const log = await fetch(demo.receiverLog).then((r) => (r.ok ? r.json() : { data: [] }));
    for (const request of log.data ?? []) {
      if (!request.body?.includes(conversionId)) continue;
      const type = /"type":"([^"]+)"/.exec(request.body)?.[1] ?? 'a notification';
      return { type, signature: request.headers?.['webhook-signature'] ? 'webhook-signature header' : 'unsigned' };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

try {
  const before = await totals();

  const click = await fetch(demo.clickLink, { redirect: 'manual', headers: { 'user-agent': BROWSER_USER_AGENT } });
  const location = click.headers.get('location');
  await click.body?.cancel();
  const clickId = location ? new URL(location).searchParams.get(demo.clickParam) : null;
  if (click.status !== 302 || !clickId)
    throw new Error(`the click answered ${click.status}, no click ID in ${location}`);
  console.log(`Click:    ${demo.clickLink}\n          → 302 ${location}`);
  console.log(`Click ID: ${clickId}`);

  const postback = await fetch(
    demo.postbackUrl.replace('{click_id}', encodeURIComponent(clickId)).replace('demo-1', `demo-${Date.now()}`),
  );
  const answer = await postback.json();
  if (!postback.ok) throw new Error(`the postback answered ${postback.status}: ${JSON.stringify(answer)}`);
  // The postback answer is the advertiser's and never carries the publisher's payout: the
  // operator's API has it.
  const stored = await fetch(`${demo.origin}/api/v1/conversions/${answer.conversion_id}`, { headers: auth });
  if (!stored.ok) throw new Error(`GET /api/v1/conversions/${answer.conversion_id} answered ${stored.status}`);
  const conversion = await stored.json();
  console.log(
    `Sale:     ${answer.outcome} conversion ${answer.conversion_id}: amount ${answer.amount} ${answer.currency}, payout ${conversion.payout} ${conversion.payout_currency}`,
  );

  // Clicks reach the numbers through the clicks queue, a moment after the redirect.
  let now = before;
  for (let i = 0; i < 40 && (now.clicks <= before.clicks || now.conversions <= before.conversions); i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    now = await totals();
  }
  console.log(`\nDemo offer, last 30 days: ${now.clicks} click(s), ${now.conversions} conversion(s)`);
  console.log(`Dashboard: ${demo.origin}/dashboard   (any user name, password ${demo.adminToken})`);
  if (demo.receiverLog) {
    // The publisher's notification goes out once the click has landed (it carries the click's
    // sub IDs), so it may arrive a second or two after the sale.
    const got = await notificationFor(answer.conversion_id);
    console.log(
      got
        ? `Notification: ${got.type} for ${answer.conversion_id} reached the demo endpoint, signed (${got.signature})`
        : 'Notification: not arrived yet (see the log below in a moment)',
    );
    console.log(`Notifications the publisher got: curl -s ${demo.receiverLog}`);
  }
} catch (error) {
  console.error(`Demo click failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
