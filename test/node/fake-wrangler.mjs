#!/usr/bin/env node
// A stand-in for wrangler on PATH, for test/node/deploy-script.test.ts: a Cloudflare account
// kept in a JSON file (FAKE_WRANGLER_STATE) that the commands scripts/deploy.mjs runs read and
// change, printing what wrangler 4.164 prints for each (its messages, from wrangler's source).
// Every call is appended to the state's `calls`, with what it read on standard input.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const statePath = process.env.FAKE_WRANGLER_STATE;
const state = JSON.parse(readFileSync(statePath, 'utf8'));
const args = process.argv.slice(2);
const stdin = process.stdin.isTTY
  ? null
  : await new Promise((resolve) => {
      let text = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk) => {
        text += chunk;
      });
      process.stdin.on('end', () => resolve(text));
    });
state.calls.push({ args, stdin });

const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
function exit(code, out = '', err = '') {
  save();
  if (out) process.stdout.write(out);
  if (err) process.stderr.write(err);
  process.exit(code);
}
const apiError = (path, text, code) =>
  `\n✘ [ERROR] A request to the Cloudflare API (/accounts/0123456789abcdef/${path}) failed.\n\n  ${text} [code: ${code}]\n`;

const [command, sub, third] = args;
const failing = state.fail?.[args.slice(0, 2).join(' ')];
if (failing) exit(1, '', failing);

if (command === '--version') exit(0, '4.164.0\n');
if (command === 'whoami') {
  if (state.loggedIn)
    exit(0, `${JSON.stringify({ loggedIn: true, authType: 'OAuth Token', email: 'ops@example.com' })}\n`);
  exit(1, '', `${JSON.stringify({ loggedIn: false }, null, 2)}\n`);
}
if (command === 'login') {
  state.loggedIn = true;
  exit(0, 'Attempting to login via OAuth...\nSuccessfully logged in.\n');
}
if (command === 'queues' && sub === 'create') {
  if (state.queues.includes(third))
    exit(1, `🌀 Creating queue '${third}'\n`, apiError('queues', 'Queue name is already taken.', 11009));
  state.queues.push(third);
  exit(0, `🌀 Creating queue '${third}'\n✅ Created queue '${third}'\n`);
}
if (command === 'queues' && sub === 'info') {
  exit(state.queues.includes(third) ? 0 : 1, `Queue Name: ${third}\n`);
}
if (command === 'd1' && sub === 'list') {
  exit(
    0,
    `${JSON.stringify(
      state.databases.map((name) => ({ uuid: `uuid-${name}`, name })),
      null,
      2,
    )}\n`,
  );
}
if (command === 'd1' && sub === 'migrations') {
  const name = args[3];
  if (!state.databases.includes(name)) {
    exit(1, '', `✘ [ERROR] Couldn't find a D1 DB named '${name}' (bound as '${name}') in the API.\n`);
  }
  const due = readdirSync('migrations')
    .filter((f) => f.endsWith('.sql') && !state.applied.includes(f))
    .sort();
  if (due.length === 0) exit(0, '✅ No migrations to apply!\n');
  let out = `Migrations to be applied:\n${due.map((f) => `│ ${f} │`).join('\n')}\n`;
  // wrangler prints the whole table again after each migration.
  for (const f of due) {
    state.applied.push(f);
    out += due.map((g) => `│ ${g} │ ${state.applied.includes(g) ? '✅' : '🕒️'} │`).join('\n') + '\n';
  }
  exit(0, out);
}
if (command === 'secret' && sub === 'list') {
  if (!state.worker) exit(1, '', `✘ [ERROR] Worker "clickhop" not found.\n`);
  exit(
    0,
    `${JSON.stringify(
      state.secrets.map((name) => ({ name, type: 'secret_text' })),
      null,
      '  ',
    )}\n`,
  );
}
if (command === 'secret' && sub === 'put') {
  if (stdin === null || stdin === '') exit(1, '', 'no value\n');
  let out = '';
  if (!state.worker) {
    state.worker = 'draft';
    out += `🌀 Creating new Worker "clickhop"...\n`;
  }
  if (!state.secrets.includes(third)) state.secrets.push(third);
  exit(0, `${out}🌀 Creating the secret for the Worker "clickhop"\n✨ Success! Uploaded secret ${third}\n`);
}
if (command === 'deploy') {
  const missing = ['ADMIN_TOKEN', 'CLICK_ID_SECRET'].filter((s) => !state.secrets.includes(s));
  if (missing.length > 0)
    exit(1, '', `✘ [ERROR] The following required secrets have not been set: ${missing.join(', ')}\n`);
  let out = 'Total Upload: 537.27 KiB / gzip: 174.71 KiB\n';
  if (!state.databases.includes('clickhop')) {
    state.databases.push('clickhop');
    out += 'Provisioning DB (D1 Database)...\n🌀 Creating new D1 Database "clickhop"...\n✨ DB provisioned 🎉\n';
  }
  if (!state.kv) {
    state.kv = true;
    out +=
      'Provisioning CONFIG (KV Namespace)...\n🌀 Creating new KV Namespace "clickhop-config"...\n✨ CONFIG provisioned 🎉\n';
  }
  state.worker = 'deployed';
  state.deploys += 1;
  exit(
    0,
    `${out}Uploaded clickhop (4.02 sec)\nDeployed clickhop triggers (1.21 sec)\n  https://clickhop.ops.workers.dev\n`,
  );
}
exit(1, '', `fake wrangler: unknown command ${args.join(' ')}\n`);
