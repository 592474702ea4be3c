#!/usr/bin/env node
// `npm run dev`: runs Clickhop locally with demo data. Applies the D1 migrations to the local
// state (one line; wrangler's per-migration tables only if it fails), starts `wrangler dev`
// (local D1/KV/Queues, no Cloudflare account), creates a demo advertiser, offer, publisher and
// notification endpoint through the admin API and a demo operator person for the portal, and
// prints the admin token, the portal sign-in, a click link, a postback URL and where to watch
// notifications arrive.
// First, so that an old Node.js stops here with advice (imports run in order).
import './check-node.cjs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_USER_AGENT, DEMO_STATE, seedDemo, seedDemoOperator } from './seed.mjs';
import { migrationSummary, runWrangler } from './wrangler-run.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.PORT ?? 8787);
const origin = `http://127.0.0.1:${port}`;
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');

// Local secrets live in .dev.vars (git-ignored), made once with random values.
const devVars = join(root, '.dev.vars');
if (!existsSync(devVars)) {
  writeFileSync(
    devVars,
    [
      `ADMIN_TOKEN="dev-${randomBytes(12).toString('hex')}"`,
      `CLICK_ID_SECRET="${randomBytes(32).toString('base64url')}"`,
      // Lets notifications reach this machine (the demo receiver); never set in production.
      'ALLOW_PRIVATE_DESTINATIONS="true"',
      '',
    ].join('\n'),
  );
  console.log('Created .dev.vars with local secrets.');
}
// Older .dev.vars files may lack the flag the demo receiver needs.
if (!/^ALLOW_PRIVATE_DESTINATIONS=/m.test(readFileSync(devVars, 'utf8'))) {
  appendFileSync(devVars, '\nALLOW_PRIVATE_DESTINATIONS="true"\n');
}
const adminToken = /ADMIN_TOKEN="([^"]+)"/.exec(readFileSync(devVars, 'utf8'))?.[1];
if (!adminToken) {
  console.error('.dev.vars has no ADMIN_TOKEN; delete the file to have it recreated.');
  process.exit(1);
}

// wrangler prints every migration's table after each one (hundreds of lines on a new state):
// kept for a failure, a one-line summary otherwise.
const migrations = readdirSync(join(root, 'migrations')).filter((f) => f.endsWith('.sql')).length;
const migrate = await runWrangler(wrangler, ['d1', 'migrations', 'apply', 'clickhop', '--local'], {
  cwd: root,
  env: { WRANGLER_SEND_METRICS: 'false' },
});
if (migrate.code !== 0) {
  process.stderr.write(migrate.output);
  console.error('Applying the migrations to the local database failed (wrangler output above).');
  process.exit(migrate.code);
}
console.log(`Local database: ${migrationSummary(migrate.output, migrations)}.`);

const dev = spawn(wrangler, ['dev', '--port', String(port), '--ip', '127.0.0.1', ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['inherit', 'inherit', 'inherit'],
});
const stop = () => dev.kill('SIGINT');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
dev.on('exit', (code) => process.exit(code ?? 0));

async function waitForWorker() {
  for (let i = 0; i < 240; i++) {
    try {
      const response = await fetch(`${origin}/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`wrangler dev did not answer on ${origin} within 2 minutes`);
}

try {
  await waitForWorker();
  const demo = await seedDemo({ origin, adminToken });
  const operator = await seedDemoOperator({ origin, adminToken });
  // For `npm run demo:click`: the links, and the postback key made for this session.
  mkdirSync(dirname(join(root, DEMO_STATE)), { recursive: true });
  writeFileSync(join(root, DEMO_STATE), JSON.stringify({ origin, adminToken, ...demo }, null, 2));
  const line = '─'.repeat(72);
  console.log(`\n${line}\nClickhop is running at ${origin} with demo data\n${line}`);
  console.log(`Admin API token:   ${adminToken}   (Authorization: Bearer …)`);
  console.log(`Dashboard:         ${origin}/dashboard   (any user name, the admin token as password)`);
  console.log(`Portal sign-in:    ${operator.loginUrl}`);
  if (operator.password) console.log(`                   ${operator.email} / ${operator.password}   (a demo operator)`);
  else console.log(`                   ${operator.problem}`);
  console.log(`API reference:     ${origin}/api/docs`);
  console.log(`Click link:        ${demo.clickLink}`);
  console.log(`Postback URL:      ${demo.postbackUrl}`);
  if (demo.receiverLog) console.log(`Notifications:     ${demo.receiverLog}`);
  console.log('\nTry it: one click and a sale for it, both then on the dashboard. In another terminal:');
  console.log('  npm run demo:click');
  console.log("Or by hand, clicking as a browser would (curl's own User-Agent counts as a bot):");
  console.log(
    `  cid=$(curl -s -o /dev/null -w '%{redirect_url}' -A '${BROWSER_USER_AGENT}' '${demo.clickLink}' | sed -E 's/.*[?&]${demo.clickParam}=([^&]*).*/\\1/')`,
  );
  console.log(`  curl -s "${demo.postbackUrl.replace('{click_id}', '$cid')}"`);
  if (demo.receiverLog) console.log(`  curl -s ${demo.receiverLog}`);
  console.log(`${line}\n`);
} catch (error) {
  console.error(`Demo setup failed: ${error instanceof Error ? error.message : error}`);
}
